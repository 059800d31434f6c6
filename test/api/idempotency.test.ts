import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, startTestHub, type TestHub } from '../helpers/hub.js';

describe.each(BACKENDS)('Idempotency-Key on POSTs that create or trigger (%s)', (backend) => {
  let t: TestHub;
  beforeAll(async () => { t = await startTestHub({ backend }); });
  afterAll(async () => { await t?.stop(); });

  const countKeys = async (name: string) =>
    (await t.hub.db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_keys WHERE name = $1', [name]))[0]!.n;

  it('replays the original response to the same key and body, creating one resource', async () => {
    const headers = { 'idempotency-key': 'create-reader-1' };
    const first = await t.call('POST', '/api/v1/api-keys', { json: { name: 'idem', scopes: ['runs:read'] }, headers });
    expect(first.status).toBe(201);
    const replay = await t.call('POST', '/api/v1/api-keys', { json: { scopes: ['runs:read'], name: 'idem' }, headers });
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('location')).toBe(first.headers.get('location'));
    expect(await countKeys('idem')).toBe(1);
    // The stored response is sealed: the key shown once is not in the database.
    const stored = JSON.stringify(await t.hub.db.query('SELECT * FROM idempotency_keys'));
    expect(stored).not.toContain(first.body.key);
  });

  it('answers 409 when the key is reused with another body', async () => {
    const headers = { 'idempotency-key': 'create-reader-2' };
    expect((await t.call('POST', '/api/v1/api-keys', { json: { name: 'idem2', scopes: ['runs:read'] }, headers })).status).toBe(201);
    const reuse = await t.call('POST', '/api/v1/api-keys', { json: { name: 'idem2-other', scopes: ['runs:read'] }, headers });
    expect(reuse.status).toBe(409);
    expect(reuse.headers.get('content-type')).toContain('application/problem+json');
    expect(await countKeys('idem2-other')).toBe(0);
  });

  it('keeps keys per workspace and forgets failed requests so they can be retried', async () => {
    const headers = { 'idempotency-key': 'retry-after-fix' };
    const bad = await t.call('POST', '/api/v1/api-keys', { json: { name: 'idem3', scopes: ['nope'] }, headers });
    expect(bad.status).toBe(400);
    const fixed = await t.call('POST', '/api/v1/api-keys', { json: { name: 'idem3', scopes: ['runs:read'] }, headers });
    expect(fixed.status).toBe(201);
  });

  it('concurrent duplicates create exactly one resource', async () => {
    const headers = { 'idempotency-key': 'race-1' };
    const results = await Promise.all(
      Array.from({ length: 8 }, () => t.call('POST', '/api/v1/api-keys', { json: { name: 'race', scopes: ['runs:read'] }, headers })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    expect(statuses).toContain(201);
    expect(new Set(results.filter((r) => r.status === 201).map((r) => r.body.id)).size).toBe(1);
    expect(await countKeys('race')).toBe(1);
  });

  it('rejects an unusable Idempotency-Key', async () => {
    const res = await t.call('POST', '/api/v1/api-keys', { json: { name: 'x', scopes: ['runs:read'] }, headers: { 'idempotency-key': 'x'.repeat(300) } });
    expect(res.status).toBe(400);
  });
});
