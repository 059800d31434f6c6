/**
 * The AUDIGYD simulator in its own process, so that a delivery benchmark measures the hub
 * against the destination rather than against its own event loop serving the destination.
 * `tsx bench/audigyd-process.ts <bench questions>` prints `{url, apiKey}` as one JSON line.
 */
import { startAudigydSimulator } from '../test/simulators/index.js';
import { ASSESSMENT, OKTA_ASSESSMENT } from '../test/helpers/fixtures.js';

export function benchQuestions(count: number) {
  return Array.from({ length: count }, (_, i) => ({ id: `q_bench_${i}`, text: `Bench check c${String(i).padStart(4, '0')}` }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const questions = benchQuestions(Number(process.argv[2] ?? 300));
  const simulator = await startAudigydSimulator({
    assessments: [OKTA_ASSESSMENT, ASSESSMENT, { id: 'asm_bench', name: 'Bench', sections: [{ control_ref: 'Bench', questions }] }],
    rateLimit: false, uploadRateLimit: false,
  });
  process.stdout.write(`${JSON.stringify({ url: simulator.url, apiKey: simulator.apiKey })}\n`);
}
