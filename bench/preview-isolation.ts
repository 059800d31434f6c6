/**
 * Preview isolation: while heavy mapping previews run (a `$..*` walk over a 40 000-record
 * snapshot each, on the preview threads), how long do /healthz and another workspace's
 * /api/v1/me take? Baseline: the same probes with no preview running, in the same run.
 */
import { newId } from '../lib/ids.js';
import { SnapshotStore } from '../store/snapshots.js';
import { startBenchApi } from './api-app.js';
import { table } from './util.js';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10 : 0;
}

async function timed(url: string, headers: Record<string, string> = {}): Promise<number> {
  const started = performance.now();
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  return performance.now() - started;
}

/** Probes both endpoints every 20 ms until `until` settles; their latencies. */
async function probe(api: { url: string }, key: string, until: Promise<unknown>): Promise<{ health: number[]; me: number[] }> {
  const health: number[] = [];
  const me: number[] = [];
  let done = false;
  void until.finally(() => { done = true; });
  while (!done) {
    health.push(await timed(`${api.url}/healthz`));
    me.push(await timed(`${api.url}/api/v1/me`, { 'x-api-key': key }));
    await new Promise((r) => setTimeout(r, 20));
  }
  return { health, me };
}

export async function runPreviewIsolationBench(): Promise<void> {
  const api = await startBenchApi({ HUB_PREVIEW_CONCURRENCY: '4', HUB_PREVIEW_DEADLINE: '120s', HUB_PREVIEW_MAX_RESPONSE_BYTES: String(64 << 20) });
  const admin = { 'content-type': 'application/json', 'x-api-key': api.adminKey };
  const other = await (await fetch(`${api.url}/api/v1/workspaces`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'other' }) })).json() as { id: string };
  const otherKey = (await (await fetch(`${api.url}/api/v1/workspaces/${other.id}/api-keys`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'k', scopes: ['admin'] }) })).json() as { key: string }).key;

  const records = Array.from({ length: 40_000 }, (_, i) => JSON.stringify({ login: `user${i}@example.com`, n: i, tags: ['a', { c: [1, { d: i }] }] })).join('\n') + '\n';
  const snapshotIds: string[] = [];
  for (let i = 0; i < 4; i++) {
    const ref = await api.blobs.put(records + `{"n":-${i}}\n`); // four distinct snapshots: no cache sharing
    const id = newId('snap');
    await new SnapshotStore(api.db).record({ id, workspace_id: 'default', connection_id: 'conn_bench', dataset: 'push.users', sha256: ref.sha256, bytes: ref.bytes, record_count: 40_001, collected_at: new Date(), metadata: {}, collection_key: `${id}:push.users` });
    snapshotIds.push(id);
  }
  const rules = [{ id: 'walk-everything', dataset: 'push.users', control_ref: 'C', question_match: 'q', title: 't', select: '$..*', mode: 'info' }];

  const idle = await probe(api, otherKey, new Promise((r) => setTimeout(r, 3_000)));
  const started = performance.now();
  const previews = Promise.all(snapshotIds.map((id) => fetch(`${api.url}/api/v1/mappings/preview`, { method: 'POST', headers: admin, body: JSON.stringify({ rules, snapshot_ids: [id] }) }).then((r) => r.status)));
  const busy = await probe(api, otherKey, previews);
  const statuses = await previews;
  const previewMs = Math.round(performance.now() - started);

  console.log('\n## Preview isolation: /healthz and another workspace\'s /me while 4 heavy previews run on the preview threads');
  table([
    { case: '/healthz, no preview running', probes: idle.health.length, 'p50 ms': percentile(idle.health, 50), 'p99 ms': percentile(idle.health, 99), 'max ms': percentile(idle.health, 100) },
    { case: '/healthz, 4 previews running', probes: busy.health.length, 'p50 ms': percentile(busy.health, 50), 'p99 ms': percentile(busy.health, 99), 'max ms': percentile(busy.health, 100) },
    { case: 'other workspace /me, no preview', probes: idle.me.length, 'p50 ms': percentile(idle.me, 50), 'p99 ms': percentile(idle.me, 99), 'max ms': percentile(idle.me, 100) },
    { case: 'other workspace /me, 4 previews', probes: busy.me.length, 'p50 ms': percentile(busy.me, 50), 'p99 ms': percentile(busy.me, 99), 'max ms': percentile(busy.me, 100) },
  ]);
  console.log(`preview-isolation: 4 previews answered ${statuses.join(', ')} in ${previewMs} ms; /healthz p99 ${percentile(busy.health, 99)} ms during them vs ${percentile(idle.health, 99)} ms idle (${(percentile(busy.health, 99) / Math.max(0.1, percentile(idle.health, 99))).toFixed(1)}×)`);
  await api.close();
}
