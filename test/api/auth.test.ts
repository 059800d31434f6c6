import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, caller, newWorkspace, startTestHub, type TestHub } from '../helpers/hub.js';

describe.each(BACKENDS)('authentication, scopes and workspaces (%s)', (backend) => {
  let t: TestHub;
  beforeAll(async () => { t = await startTestHub({ backend }); });
  afterAll(async () => { await t?.stop(); });

  it('answers 401 with a problem without a key, with a bad key, and with a malformed header', async () => {
    for (const options of [{ key: null }, { key: 'ehk_' + 'x'.repeat(43) }, { key: null, headers: { authorization: 'Basic Zm9vOmJhcg==' } }]) {
      const res = await t.call('GET', '/api/v1/api-keys', options);
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body).toMatchObject({ status: 401, title: 'Unauthorized', instance: '/api/v1/api-keys' });
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
    }
  });

  it('accepts the key as X-API-Key and as a bearer token', async () => {
    expect((await t.call('GET', '/api/v1/me')).status).toBe(200);
    const bearer = await t.call('GET', '/api/v1/me', { key: null, headers: { authorization: `Bearer ${t.adminKey}` } });
    expect(bearer.status).toBe(200);
    expect(bearer.body).toMatchObject({ workspace_id: 'default', scopes: ['admin', 'workspaces:admin'] });
  });

  it('shows a new key once, stores no plaintext, lists it without the key, and 401s it once revoked', async () => {
    const created = await t.call('POST', '/api/v1/api-keys', { json: { name: 'reader', scopes: ['config:read'] } });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^ehk_[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({ name: 'reader', scopes: ['config:read'] });

    const rows = await t.hub.db.query('SELECT * FROM api_keys');
    expect(JSON.stringify(rows)).not.toContain(created.body.key);

    const list = await t.call('GET', '/api/v1/api-keys');
    expect(list.status).toBe(200);
    expect(list.text).not.toContain(created.body.key);
    expect(list.body.data.map((k: { id: string }) => k.id)).toContain(created.body.id);

    const asReader = caller(t.url, created.body.key);
    expect((await asReader('GET', '/api/v1/me')).status).toBe(200);
    expect((await t.call('DELETE', `/api/v1/api-keys/${created.body.id}`)).status).toBe(204);
    const revoked = await asReader('GET', '/api/v1/me');
    expect(revoked.status).toBe(401);
    expect(revoked.body.detail).toMatch(/invalid or has been revoked/);
    expect((await t.call('DELETE', `/api/v1/api-keys/${created.body.id}`)).status).toBe(404);
  });

  it('answers 403 when the key lacks the scope, and keys cannot grant scopes they lack', async () => {
    const reader = await t.call('POST', '/api/v1/api-keys', { json: { name: 'runs', scopes: ['runs:read'] } });
    const asReader = caller(t.url, reader.body.key);
    const denied = await asReader('POST', '/api/v1/api-keys', { json: { name: 'x', scopes: ['admin'] } });
    expect(denied.status).toBe(403);
    expect(denied.body.detail).toContain('admin');
    expect((await asReader('POST', '/api/v1/diagnostics')).status).toBe(403);
    expect((await asReader('POST', '/api/v1/workspaces', { json: { name: 'nope' } })).status).toBe(403);

    const other = await newWorkspace(t, 'scoped');
    const escalate = await other.call('POST', '/api/v1/api-keys', { json: { name: 'x', scopes: ['workspaces:admin'] } });
    expect(escalate.status).toBe(403);
  });

  it('answers 404 for another workspace’s resources and never lists them', async () => {
    const a = await newWorkspace(t, 'tenant-a');
    const b = await newWorkspace(t, 'tenant-b');
    const keyInA = await a.call('POST', '/api/v1/api-keys', { json: { name: 'a-reader', scopes: ['runs:read'] } });
    expect(keyInA.status).toBe(201);
    expect(keyInA.body.workspace_id).toBe(a.id);

    expect((await b.call('DELETE', `/api/v1/api-keys/${keyInA.body.id}`)).status).toBe(404);
    const listB = await b.call('GET', '/api/v1/api-keys');
    expect(listB.body.data.map((k: { id: string }) => k.id)).not.toContain(keyInA.body.id);

    const diag = await a.call('POST', '/api/v1/diagnostics');
    expect(diag.status).toBe(202);
    expect((await b.call('GET', `/api/v1/diagnostics/${diag.body.id}`)).status).toBe(404);
    expect((await a.call('GET', `/api/v1/diagnostics/${diag.body.id}`)).status).toBe(200);
    // A workspace admin is not a workspaces admin.
    expect((await a.call('GET', `/api/v1/workspaces/${b.id}`)).status).toBe(403);
    expect((await t.call('GET', '/api/v1/workspaces/ws_nope')).status).toBe(404);
  });

  it('paginates with limit and an opaque cursor, and rejects a forged cursor', async () => {
    for (let i = 0; i < 5; i++) await t.call('POST', '/api/v1/api-keys', { json: { name: `page-${i}`, scopes: ['runs:read'] } });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.call('GET', `/api/v1/api-keys?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((k: { id: string }) => k.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBeGreaterThanOrEqual(6);
    const forged = await t.call('GET', '/api/v1/api-keys?cursor=%%%');
    expect(forged.status).toBe(400);
    const tooBig = await t.call('GET', '/api/v1/api-keys?limit=501');
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.errors).toEqual([expect.objectContaining({ pointer: '/query/limit' })]);
  });
});
