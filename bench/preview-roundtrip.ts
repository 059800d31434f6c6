/**
 * The mapping studio's preview, as the editor sees it: one POST /api/v1/mappings/preview of
 * the Okta pack on a stored okta.users snapshot of 10 000 and of 100 000 records, through the
 * API (auth, validation, the preview thread, its snapshot cache, the JSON answer). Baseline:
 * the same rules evaluated on the same records in this process (compile + evaluate +
 * serialise), measured in the same run; the ratio is what the API and the thread add.
 */
import { newId } from '../lib/ids.js';
import { compileRules, evaluate } from '../mappings/engine.js';
import { getPack } from '../mappings/packs.js';
import { SnapshotStore } from '../store/snapshots.js';
import { startBenchApi } from './api-app.js';
import { table } from './util.js';

const user = (i: number) => ({
  id: `00u${i}`, login: `user${i}@example.com`, status: i % 17 === 0 ? 'SUSPENDED' : 'ACTIVE', mfa_enrolled: i % 9 !== 0, is_admin: i % 50 === 0,
  last_login: new Date(Date.UTC(2026, 10, 1) - (i % 120) * 86_400_000).toISOString(), created: '2024-01-01T00:00:00.000Z', factors: i % 9 === 0 ? [] : ['push'],
});

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
}

export async function runPreviewRoundTripBench(): Promise<void> {
  const api = await startBenchApi({ HUB_PREVIEW_DEADLINE: '120s', HUB_PREVIEW_MAX_RESPONSE_BYTES: String(64 << 20) });
  const headers = { 'content-type': 'application/json', 'x-api-key': api.adminKey };
  const rules = getPack('okta')!.rules.filter((r) => r.dataset === 'okta.users');
  const rows: Record<string, string | number>[] = [];
  const summary: string[] = [];
  for (const count of [10_000, 100_000]) {
    const records = Array.from({ length: count }, (_, i) => user(i));
    const ref = await api.blobs.put(records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const snapshotId = newId('snap');
    await new SnapshotStore(api.db).record({
      id: snapshotId, workspace_id: 'default', connection_id: 'conn_bench', dataset: 'okta.users', sha256: ref.sha256, bytes: ref.bytes,
      record_count: count, collected_at: new Date(), metadata: { format: 'ndjson' }, collection_key: `${snapshotId}:okta.users`,
    });
    const body = JSON.stringify({ rules, snapshot_ids: [snapshotId] });
    const roundTrip = async () => {
      const started = performance.now();
      const res = await fetch(`${api.url}/api/v1/mappings/preview`, { method: 'POST', headers, body });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`preview answered ${res.status}`);
      return performance.now() - started;
    };
    const cold = await roundTrip(); // reads and parses the snapshot into the thread's cache
    const warm: number[] = [];
    for (let i = 0; i < 15; i++) warm.push(await roundTrip());
    const inProcess: number[] = [];
    for (let i = 0; i < 15; i++) {
      const started = performance.now();
      JSON.stringify(evaluate(compileRules({ rules }), { 'okta.users': records }, { now: new Date() }));
      inProcess.push(performance.now() - started);
    }
    const ratio = percentile(warm, 50) / Math.max(0.1, percentile(inProcess, 50));
    rows.push({ records: count, 'cold ms': Math.round(cold), 'warm p50 ms': percentile(warm, 50), 'warm p95 ms': percentile(warm, 95), 'in-process p50 ms': percentile(inProcess, 50), 'ratio (warm / in-process)': ratio.toFixed(2) });
    summary.push(`${count} records: warm p50 ${percentile(warm, 50)} ms through the API vs ${percentile(inProcess, 50)} ms in process (${ratio.toFixed(2)}×), cold ${Math.round(cold)} ms`);
  }
  console.log('\n## Preview round trip through the API (the Okta pack\'s okta.users rules on a stored snapshot)');
  table(rows);
  for (const line of summary) console.log(`preview-roundtrip: ${line}`);
  await api.close();
}
