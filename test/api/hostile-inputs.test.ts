import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { newId } from '../../lib/ids.js';
import { SnapshotStore } from '../../store/snapshots.js';

describe('inputs that used to crash', () => {
  let t: TestHub;
  beforeAll(async () => { t = await startTestHub({ env: { HUB_RATE_LIMIT_PER_MINUTE: '100000' } }); });
  afterAll(async () => { await t?.stop(); });

  it('JSON nested 10 000 levels is a 400 problem on every POST route, with and without Idempotency-Key', async () => {
    const deepObject = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    const deepArray = '['.repeat(10_000) + ']'.repeat(10_000);
    const doc = await t.call('GET', '/api/v1/openapi.json', { key: null });
    const posts = Object.entries(doc.body.paths as Record<string, Record<string, unknown>>).filter(([, ops]) => 'post' in ops).map(([p]) => p.replace(/\{[^}]+\}/g, 'x'));
    expect(posts.length).toBeGreaterThan(15);
    for (const route of posts) {
      for (const body of [deepObject, deepArray]) {
        for (const headers of [{}, { 'idempotency-key': `deep-${newId('k')}` }] as Record<string, string>[]) {
          const res = await t.call('POST', route, { body, contentType: 'application/json', headers });
          expect(res.status, `${route} ${JSON.stringify(headers)}: ${res.text.slice(0, 200)}`).toBe(400);
          expect(res.headers.get('content-type')).toContain('application/problem+json');
          expect(res.body.detail).toContain('nested deeper than 64');
        }
      }
    }
    // 64 levels is still a body the API reads.
    const ok = await t.call('POST', '/api/v1/mappings/preview', { body: JSON.stringify({ rules: [{ id: 'r', dataset: 'push.x', control_ref: 'C', question_match: 'q', title: 't', mode: 'info' }], data: { 'push.x': [JSON.parse('{"a":'.repeat(58) + '1' + '}'.repeat(58))] } }), contentType: 'application/json' });
    expect(ok.status, ok.text).toBe(200);
  });

  it('a snapshot whose blob is missing fails that read with a clear problem; the hub keeps answering', async () => {
    const ref = await t.hub.blobs.put('{"login":"ann"}\n');
    const id = newId('snap');
    await new SnapshotStore(t.hub.db).record({ id, workspace_id: 'default', connection_id: 'conn_x', dataset: 'push.users', sha256: ref.sha256, bytes: ref.bytes, record_count: 1, collected_at: new Date(), metadata: {}, collection_key: `${id}:push.users` });
    expect((await t.call('GET', `/api/v1/snapshots/${id}`)).status).toBe(200);
    await t.hub.blobs.delete(ref.sha256);
    await rm(path.join(t.dataDir, 'blobs', 'tmp', 'none'), { force: true });
    const read = await t.call('GET', `/api/v1/snapshots/${id}?limit=5`);
    expect([410, 422]).toContain(read.status);
    expect(read.headers.get('content-type')).toContain('application/problem+json');
    expect(read.body.detail).toContain('missing from the blob store');
    const preview = await t.call('POST', '/api/v1/mappings/preview', { json: { rules: [{ id: 'r', dataset: 'push.users', control_ref: 'C', question_match: 'q', title: 't', mode: 'info' }], snapshot_ids: [id] } });
    expect(preview.status).toBe(422);
    expect(preview.body.detail).toContain('missing from the blob store');
    expect((await t.call('GET', '/healthz', { key: null })).status).toBe(200);
  });
});
