import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, newWorkspace, startTestHub, type ApiCaller, type TestHub } from '../helpers/hub.js';
import { newId } from '../../lib/ids.js';
import { SnapshotStore } from '../../store/snapshots.js';

const records = (n: number) => Array.from({ length: n }, (_, i) => ({ login: `user${i}@example.com`, n: i, tags: ['a', { c: [1, { d: i }] }] }));

/** A stored snapshot of `count` records in a workspace, as a collection leaves it. */
async function storeSnapshot(t: TestHub, workspaceId: string, count: number): Promise<string> {
  const ref = await t.hub.blobs.put(records(count).map((r) => JSON.stringify(r)).join('\n') + '\n');
  const id = newId('snap');
  await new SnapshotStore(t.hub.db).record({
    id, workspace_id: workspaceId, connection_id: 'conn_preview', dataset: 'push.users', sha256: ref.sha256, bytes: ref.bytes,
    record_count: count, collected_at: new Date(), metadata: { format: 'ndjson' }, collection_key: `${id}:push.users`,
  });
  return id;
}

const rule = (id: string, select: string) => ({ id, dataset: 'push.users', control_ref: 'C', question_match: 'q', title: id, select, mode: 'info', payload: { logins: '$[*].login' } });

describe('previews run off the API event loop, bounded', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_PREVIEW_MAX_RESPONSE_BYTES: '200000', HUB_PREVIEW_CONCURRENCY: '2', HUB_PREVIEW_THREADS: '2', HUB_RATE_LIMIT_PER_MINUTE: '100000' } });
  });
  afterAll(async () => { await t?.stop(); });

  it('while four oversized previews are in flight, /healthz and another workspace\'s /me complete first; the previews end in a 4xx problem or a 200, never a 5xx; a fifth is a 429', async () => {
    const a = await newWorkspace(t, 'preview-a');
    const b = await newWorkspace(t, 'preview-b');
    const c = await newWorkspace(t, 'preview-c');
    const snapshots = { a: [await storeSnapshot(t, a.id, 40_000), await storeSnapshot(t, a.id, 40_000)], b: [await storeSnapshot(t, b.id, 40_000), await storeSnapshot(t, b.id, 40_000)] };
    const heavy = [rule('walk-everything', '$..*'), ...Array.from({ length: 20 }, (_, i) => rule(`big-${i}`, '$[?(@.n >= 0)]'))];
    const order: string[] = [];
    const preview = (call: ApiCaller, snapshotId: string, label: string) =>
      call('POST', '/api/v1/mappings/preview', { json: { rules: heavy, snapshot_ids: [snapshotId] } }).then((res) => { order.push(label); return res; });
    const inFlight = [preview(a.call, snapshots.a[0]!, 'preview'), preview(a.call, snapshots.a[1]!, 'preview'), preview(b.call, snapshots.b[0]!, 'preview'), preview(b.call, snapshots.b[1]!, 'preview')];
    await new Promise((r) => setTimeout(r, 300)); // the four are admitted
    const fifth = await a.call('POST', '/api/v1/mappings/preview', { json: { rules: heavy, snapshot_ids: [snapshots.a[0]!] } });
    order.push('fifth');
    const [health, me] = await Promise.all([
      t.call('GET', '/healthz', { key: null }).then((res) => { order.push('healthz'); return res; }),
      c.call('GET', '/api/v1/me').then((res) => { order.push('me'); return res; }),
    ]);
    expect(health.status).toBe(200);
    expect(me.status).toBe(200);
    expect(fifth.status).toBe(429);
    expect(fifth.headers.get('retry-after')).toBe('1');
    expect(fifth.headers.get('content-type')).toContain('application/problem+json');
    const results = await Promise.all(inFlight);
    // The order of completion is the proof: nothing waited for a preview.
    expect(order.slice(0, 3).sort()).toEqual(['fifth', 'healthz', 'me']);
    for (const res of results) {
      expect(res.status, res.text.slice(0, 300)).toBeLessThan(500);
      expect([200, 413, 422]).toContain(res.status);
    }
    // Over the response cap (413) or, on a loaded machine, past the deadline (422): bounded either way.
    for (const res of results) expect(res.body.detail).toMatch(/HUB_PREVIEW_MAX_RESPONSE_BYTES|HUB_PREVIEW_DEADLINE/);
  });

  it('a preview whose answer would pass the response cap is a 413 problem that says so', async () => {
    const rules = Array.from({ length: 20 }, (_, i) => rule(`big-${i}`, '$[?(@.n >= 0)]'));
    const res = await t.call('POST', '/api/v1/mappings/preview', { json: { rules, data: { 'push.users': records(2_000) } } });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.detail).toContain('HUB_PREVIEW_MAX_RESPONSE_BYTES');
  });

  it('previewing stored snapshots needs runs:read; inline data needs config:read only', async () => {
    const ws = await newWorkspace(t, 'preview-scope');
    const snapshotId = await storeSnapshot(t, ws.id, 10);
    const reader = await ws.call('POST', '/api/v1/api-keys', { json: { name: 'editor', scopes: ['config:read'] } });
    const { caller } = await import('../helpers/hub.js');
    const editor = caller(t.url, reader.body.key);
    const stored = await editor('POST', '/api/v1/mappings/preview', { json: { rules: [rule('r', '$[*]')], snapshot_ids: [snapshotId] } });
    expect(stored.status).toBe(403);
    expect(stored.body.detail).toContain('runs:read');
    const inline = await editor('POST', '/api/v1/mappings/preview', { json: { rules: [rule('r', '$[*]')], data: { 'push.users': records(3) } } });
    expect(inline.status).toBe(200);
    expect(inline.body.evidence[0]).toMatchObject({ rule_id: 'r', payload: { logins: ['user0@example.com', 'user1@example.com', 'user2@example.com'] } });
  });
});

describe('a preview past its deadline', () => {
  let t: TestHub;
  beforeAll(async () => { t = await startTestHub({ env: { HUB_PREVIEW_DEADLINE: '300ms', HUB_PREVIEW_THREADS: '1' } }); });
  afterAll(async () => { await t?.stop(); });

  it('is stopped and answered with a 422 problem naming the rule that ran long; the next preview works', async () => {
    const data = { 'push.users': records(8_000) };
    // A thread that has started (its first start may itself pass so short a deadline).
    await eventually(async () => (await t.call('POST', '/api/v1/mappings/preview', { json: { rules: [rule('fast', '$[?(@.n > 5)]')], data: { 'push.users': records(3) } } })).status === 200, { timeoutMs: 60_000, intervalMs: 200 });
    // Walks of every node of every node, in the selection and twice more in the payload: about
    // 1 s of work on a quiet machine, several times the deadline (a single walk was not, on a fast one).
    const slowWalk = { ...rule('slow-walk', '$..*..*'), payload: { logins: '$[*].login', nodes: { count: '$..*..*' }, deeper: { count: '$..*..*..*' } } };
    const slow = await t.call('POST', '/api/v1/mappings/preview', { json: { rules: [rule('fast', '$[?(@.n > 5)]'), slowWalk], data } });
    expect(slow.status, slow.text).toBe(422);
    expect(slow.headers.get('content-type')).toContain('application/problem+json');
    expect(slow.body.detail).toContain('rule "slow-walk" (index 1)');
    expect(slow.body.detail).toContain('HUB_PREVIEW_DEADLINE');
    await eventually(async () => (await t.call('POST', '/api/v1/mappings/preview', { json: { rules: [rule('fast', '$[?(@.n > 5)]')], data: { 'push.users': records(3) } } })).status === 200, { timeoutMs: 60_000, intervalMs: 200 });
  });
});
