/**
 * The AUDIGYD simulator for the scale-out benchmark, in its own process: pushes answered after
 * a delay (so that a worker can be killed mid-delivery), and a second port that reports what
 * arrived. `tsx bench/scale-out-audigyd.ts <questions> <delay ms>` prints `{url, apiKey, receiptsUrl}`.
 */
import http from 'node:http';
import { startAudigydSimulator } from '../test/simulators/index.js';
import { benchQuestions } from './audigyd-process.js';

const questions = benchQuestions(Number(process.argv[2] ?? 100));
const delayMs = Number(process.argv[3] ?? 0);
const simulator = await startAudigydSimulator({
  assessments: [{ id: 'asm_bench', name: 'Bench', sections: [{ control_ref: 'Bench', questions }] }],
  rateLimit: false, uploadRateLimit: false,
});
if (delayMs > 0) simulator.faults.inject({ kind: 'delay', ms: delayMs }, 1_000_000, { path: /\/evidence\/push$/ });
const receipts = http.createServer((_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({
    pushes: simulator.requests.filter((r) => r.path.endsWith('/evidence/push')).length,
    evidence: simulator.state.evidence.map((e) => ({ id: e.evidenceId, title: e.title, source: e.source, collected_at: e.collectedAt })),
  }));
});
await new Promise<void>((resolve) => receipts.listen(0, '127.0.0.1', resolve));
const { port } = receipts.address() as { port: number };
process.stdout.write(`${JSON.stringify({ url: simulator.url, apiKey: simulator.apiKey, receiptsUrl: `http://127.0.0.1:${port}` })}\n`);
