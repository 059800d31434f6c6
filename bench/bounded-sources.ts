/**
 * Bounded sources benchmark: the worker's memory while the real collection activity (generic
 * HTTP connector, pacing, part blobs) reads from hostile sources, with the hub's default limits
 * (64 MB per response, 5 000 000 records), against baselines measured in the same run: the
 * worker at rest, and an honest source answering one large page just under the cap.
 *
 * - endless body: a JSON array that never ends → stopped at the cap, the connection closed;
 * - same page forever: a source ignoring the page parameter → stopped at the second page;
 * - same cursor forever: new records, the same next cursor → stopped at the second page.
 *
 * Each collection runs in a fresh process (bench/bounded-sources-child.ts), so that one case's
 * heap does not inflate the next one's RSS; the sources run in a process of their own
 * (bench/hostile-sources.ts). PGlite alone holds a few hundred MB (PostgreSQL in WASM): set
 * DATABASE_URL to measure without it.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startChildService, table } from './util.js';

const mb = (bytes: number) => Math.round(bytes / 1048576);

interface ChildResult {
  baselineRss: number;
  peakRss: number;
  ms: number;
  outcome: { ok: boolean; message: string };
  limits: { maxResponseBytes: number; maxRecords: number };
}

function runChild(sourceUrl: string, dataset: Record<string, unknown>): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./bounded-sources-child.ts', import.meta.url)), sourceUrl, JSON.stringify(dataset)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = output.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as ChildResult);
      } catch {
        reject(new Error(`bounded-sources child exited with ${code}: ${output}`));
      }
    });
  });
}

export async function runBoundedSourcesBench(): Promise<void> {
  const benignMb = Number(process.env.BENCH_BENIGN_MB ?? 60);
  const source = await startChildService<{ url: string }>('hostile-sources.ts');
  try {
    const cases = [
      { label: `honest source, one ${benignMb} MB page`, hostile: false, dataset: { path: `/benign?mb=${benignMb}` } },
      { label: 'endless JSON body', hostile: true, dataset: { path: '/endless' } },
      { label: 'same page forever (page ignored)', hostile: true, dataset: { path: '/same', records_path: '$.results', pagination: { type: 'page', page_param: 'page' } } },
      { label: 'same next cursor forever', hostile: true, dataset: { path: '/loop', records_path: '$.items', pagination: { type: 'cursor', cursor_path: '$.next', cursor_param: 'cursor' } } },
    ];
    const rows: Record<string, string | number>[] = [];
    const results: { label: string; hostile: boolean; result: ChildResult; sentBytes: number; closedEarly: boolean }[] = [];
    for (const c of cases) {
      const result = await runChild(source.info.url, c.dataset);
      const stats = await (await fetch(`${source.info.url}/stats`)).json() as { requests: number; bytes: number; closedEarly: boolean };
      results.push({ label: c.label, hostile: c.hostile, result, sentBytes: stats.bytes, closedEarly: stats.closedEarly });
      const message = result.outcome.message;
      rows.push({
        case: c.label,
        outcome: message.length > 80 ? `${message.slice(0, 80)}…` : message,
        'wall ms': Math.round(result.ms),
        requests: stats.requests,
        'source sent MB': Math.round((stats.bytes / 1048576) * 10) / 10,
        'RSS at rest MB': mb(result.baselineRss),
        'peak RSS MB': mb(result.peakRss),
        'growth MB': mb(result.peakRss - result.baselineRss),
      });
      if (c.label === 'endless JSON body' && (result.outcome.ok || !stats.closedEarly)) throw new Error(`the endless body was not cut off: ${message}`);
    }
    const limits = results[0]!.result.limits;
    console.log(`\n## Bounded sources (cap ${mb(limits.maxResponseBytes)} MB per response, ${limits.maxRecords} records per collection; each case in a fresh worker process)`);
    table(rows);
    const honest = results[0]!;
    const honestGrowth = Math.max(1, honest.result.peakRss - honest.result.baselineRss);
    console.log(`bounded sources: honest ${benignMb} MB page: worker RSS ${mb(honest.result.baselineRss)} → ${mb(honest.result.peakRss)} MB; ` +
      results.filter((r) => r.hostile).map((r) => `${r.label}: ${mb(r.result.baselineRss)} → ${mb(r.result.peakRss)} MB (growth ${(Math.max(0, r.result.peakRss - r.result.baselineRss) / honestGrowth).toFixed(2)}× the honest page's), source sent ${(r.sentBytes / 1048576).toFixed(1)} MB`).join('; '));
  } finally {
    source.stop();
  }
}
