import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../lib/ids.js';
import { SnapshotStore } from '../../store/snapshots.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

const records = (n: number) => Array.from({ length: n }, (_, i) => ({ login: `user${i}@example.com`, n: i, tags: ['a', { c: [1, { d: i }] }] }));
const rule = (id: string, select: string) => ({ id, dataset: 'push.users', control_ref: 'C', question_match: 'q', title: id, select, mode: 'info', payload: { count: '$.length' } });

/** An editor sends a new preview on every pause in typing and aborts the one before it. */
describe('a preview whose client went away stops, and no longer counts against the workspace’s cap', () => {
  let t: TestHub;
  let snapshotId: string;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_PREVIEW_CONCURRENCY: '1', HUB_PREVIEW_THREADS: '2', HUB_PREVIEW_DEADLINE: '60s', HUB_RATE_LIMIT_PER_MINUTE: '100000' } });
    const ref = await t.hub.blobs.put(records(40_000).map((r) => JSON.stringify(r)).join('\n') + '\n');
    snapshotId = newId('snap');
    await new SnapshotStore(t.hub.db).record({
      id: snapshotId, workspace_id: 'default', connection_id: 'conn_preview', dataset: 'push.users', sha256: ref.sha256, bytes: ref.bytes,
      record_count: 40_000, collected_at: new Date(), metadata: { format: 'ndjson' }, collection_key: `${snapshotId}:push.users`,
    });
  });
  afterAll(async () => { await t?.stop(); });

  it('the next preview is admitted at once after the client aborts a slow one', async () => {
    const slow = Array.from({ length: 200 }, (_, i) => rule(`walk-${i}`, '$..*'));
    const post = (body: unknown, signal?: AbortSignal) => fetch(`${t.url}/api/v1/mappings/preview`, {
      method: 'POST', headers: { 'x-api-key': t.adminKey, 'content-type': 'application/json' }, body: JSON.stringify(body), signal,
    });
    // Warm the snapshot cache, so that the slow part below is the rules.
    expect((await post({ rules: [rule('one', '$[0]')], snapshot_ids: [snapshotId] })).status).toBe(200);

    // With the cap at one, a second preview while the slow one runs is refused...
    const running = post({ rules: slow, snapshot_ids: [snapshotId] });
    await new Promise((r) => setTimeout(r, 300));
    const refused = await post({ rules: [rule('quick', '$[0]')], data: { 'push.users': [{ n: 1 }] } });
    expect(refused.status).toBe(429);
    const first = await running;
    expect(first.status).toBe(200);

    // ...but once its client has gone, the next one is admitted at once.
    const controller = new AbortController();
    const superseded = post({ rules: slow, snapshot_ids: [snapshotId] }, controller.signal).catch((err: Error) => err.name);
    await new Promise((r) => setTimeout(r, 300));
    controller.abort();
    expect(await superseded).toBe('AbortError');
    await new Promise((r) => setTimeout(r, 50));
    const next = await post({ rules: [rule('quick', '$[0]')], data: { 'push.users': [{ n: 1 }] } });
    expect(next.status, await next.clone().text()).toBe(200);
  });
});
