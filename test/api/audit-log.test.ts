import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryHash } from '../../lib/audit-chain.js';
import type { Scope } from '../../store/api-keys.js';
import { ApiKeyStore } from '../../store/api-keys.js';
import { AuditLogStore, type AuditLogEntry, type NewAuditEntry } from '../../store/audit-log/index.js';
import { WorkspaceStore } from '../../store/workspaces.js';
import { BACKENDS, caller, startTestHub, type ApiCaller, type TestHub } from '../helpers/hub.js';

const DESIGN_VERIFY_FIELDS = ['verified', 'logs_checked', 'chain_valid', 'hash_mismatches', 'gaps_detected', 'verification_hash', 'verified_at'];

describe.each(BACKENDS)('audit log API (%s)', (backend) => {
  let t: TestHub;
  let log: AuditLogStore;
  let call: ApiCaller;
  let workspaceId: string;
  const entries: AuditLogEntry[] = [];

  /**
   * A workspace and key made through the stores, not the API: once API mutations are audited,
   * setting up through the API would add entries of its own to the chains these tests count.
   */
  const workspaceWithKey = async (name: string, scopes: Scope[] = ['admin']) => {
    const ws = await new WorkspaceStore(t.hub.db).create(name);
    const { key } = await new ApiKeyStore(t.hub.db).create({ workspaceId: ws.id, name: 'admin', scopes });
    return { id: ws.id, call: caller(t.url, key) };
  };
  const keyWith = async (scopes: Scope[]): Promise<ApiCaller> => {
    const { key } = await new ApiKeyStore(t.hub.db).create({ workspaceId, name: `scoped-${scopes.join('-')}`, scopes });
    return caller(t.url, key);
  };

  // Entries are appended through the store: recording API mutations is wired elsewhere.
  const base = (i: number): NewAuditEntry => ({
    workspaceId, actor: { type: 'api_key', id: i % 2 ? 'key_alice' : 'key_bob', name: i % 2 ? 'alice' : 'bob' },
    action: 'connection.updated', resourceType: 'connection', resourceId: `conn_${i}`, changes: { name: { from: 'a', to: 'b' } },
    ip: '198.51.100.7', userAgent: 'vitest', requestId: `req_api_${i}`,
  });

  beforeAll(async () => {
    t = await startTestHub({ backend });
    log = new AuditLogStore(t.hub.db);
    const main = await workspaceWithKey(`audit-api-${backend}`);
    workspaceId = main.id;
    call = main.call;
    entries.push(await log.appendOwnTx({ ...base(1), action: 'connection.created', changes: { name: 'Okta', secrets: { api_token: 'tok-very-secret' } } }));
    entries.push(await log.appendOwnTx({ ...base(2), action: 'mapping.version_published', resourceType: 'mapping', resourceId: 'map_1' }));
    entries.push(await log.appendOwnTx({ ...base(3) }));
    entries.push(await log.appendOwnTx({ ...base(4), action: 'evidence.delivered', resourceType: 'evidence', resourceId: 'ev_1', actor: { type: 'system', id: 'worker', name: null } }));
    entries.push(await log.appendOwnTx({ ...base(5), action: 'webhook.delivery_failed', resourceType: 'webhook', resourceId: 'wh_1', changes: { status_code: 500, error: 'upstream 500' } }));
  });
  afterAll(async () => { await t?.stop(); });

  const ids = (res: { body: { data: { seq: number }[] } }) => res.body.data.map((e) => e.seq);

  it('lists entries with hash and previous_hash, filtered by actor, action, resource, period and text', async () => {
    const all = await call('GET', '/api/v1/audit-log');
    expect(all.status).toBe(200);
    expect(ids(all)).toEqual([1, 2, 3, 4, 5]);
    expect(all.body.next_cursor).toBeNull();
    const first = all.body.data[0];
    expect(first).toMatchObject({
      id: entries[0]!.id, workspace_id: workspaceId, seq: 1, action: 'connection.created', resource_type: 'connection', resource_id: 'conn_1',
      actor: { type: 'api_key', id: 'key_alice', name: 'alice' }, ip: '198.51.100.7', user_agent: 'vitest', request_id: 'req_api_1',
      previous_hash: '0'.repeat(64), hash: entries[0]!.hash, archived: false, changes: { name: 'Okta', secrets: { api_token: '[REDACTED]' } },
    });
    expect(all.text).not.toContain('tok-very-secret');
    // What the API returns is enough to recompute the hash.
    expect(entryHash({ ...first, occurred_at: new Date(first.occurred_at) })).toBe(first.hash);

    expect(ids(await call('GET', '/api/v1/audit-log?actor=key_bob'))).toEqual([2]);
    expect(ids(await call('GET', '/api/v1/audit-log?actor=key_alice'))).toEqual([1, 3, 5]);
    expect(ids(await call('GET', '/api/v1/audit-log?actor_type=system'))).toEqual([4]);
    expect(ids(await call('GET', '/api/v1/audit-log?action=connection.created'))).toEqual([1]);
    expect(ids(await call('GET', '/api/v1/audit-log?action=connection.*'))).toEqual([1, 3]);
    expect(ids(await call('GET', '/api/v1/audit-log?resource_type=webhook&resource_id=wh_1'))).toEqual([5]);
    expect(ids(await call('GET', '/api/v1/audit-log?q=UPSTREAM'))).toEqual([5]);
    expect(ids(await call('GET', `/api/v1/audit-log?q=${encodeURIComponent("x' OR '1'='1")}`))).toEqual([]);
    expect(ids(await call('GET', `/api/v1/audit-log?from=${encodeURIComponent(entries[3]!.occurred_at.toISOString())}`))).toEqual([4, 5]);
    expect(ids(await call('GET', `/api/v1/audit-log?to=${encodeURIComponent(entries[0]!.occurred_at.toISOString())}`))).toEqual([1]);
    expect(ids(await call('GET', '/api/v1/audit-log?order=desc&limit=2'))).toEqual([5, 4]);
  });

  it('pages with limit and cursor like every other list', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await call('GET', `/api/v1/audit-log?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...ids(res));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    const bad = await call('GET', '/api/v1/audit-log?cursor=garbage');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
  });

  it('rejects bad dates, unknown fields and a period that ends before it starts with 400 problems', async () => {
    const badDate = await call('GET', '/api/v1/audit-log?from=yesterday');
    expect(badDate.status).toBe(400);
    expect(badDate.headers.get('content-type')).toContain('application/problem+json');
    expect(badDate.body.errors).toEqual([expect.objectContaining({ pointer: '/query/from' })]);
    const unknown = await call('GET', '/api/v1/audit-log?colour=red');
    expect(unknown.body.errors).toEqual([{ pointer: '/query/colour', message: 'is not a known field' }]);
    const backwards = await call('GET', '/api/v1/audit-log/statistics?from=2024-02-01T00:00:00Z&to=2024-01-01T00:00:00Z');
    expect(backwards.status).toBe(400);
    expect(backwards.body.errors).toEqual([expect.objectContaining({ pointer: '/query/to' })]);
    const verifyBad = await call('POST', '/api/v1/audit-log/verify', { json: { from: '2024-13-45', extra: 1 } });
    expect(verifyBad.status).toBe(400);
    expect(verifyBad.body.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual(['/extra', '/from']);
    expect((await call('PUT', '/api/v1/audit-log/retention', { json: { days: 0 } })).status).toBe(400);
    expect((await call('PUT', '/api/v1/audit-log/retention', { json: {} })).status).toBe(400);
  });

  it('gets one entry; another workspace’s entry or an unknown id is a 404', async () => {
    const res = await call('GET', `/api/v1/audit-log/${entries[1]!.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: entries[1]!.id, seq: 2, hash: entries[1]!.hash, previous_hash: entries[0]!.hash });

    const other = await workspaceWithKey(`audit-other-${backend}`);
    expect((await other.call('GET', `/api/v1/audit-log/${entries[1]!.id}`)).status).toBe(404);
    expect((await other.call('GET', '/api/v1/audit-log')).body.data).toEqual([]);
    const theirs = await log.appendOwnTx({ ...base(1), workspaceId: other.id });
    expect(theirs.seq).toBe(1); // every workspace has its own chain
    expect((await call('GET', `/api/v1/audit-log/${theirs.id}`)).status).toBe(404);
    expect((await other.call('GET', `/api/v1/audit-log/${theirs.id}`)).status).toBe(200);
    const missing = await call('GET', '/api/v1/audit-log/aud_nope');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
  });

  it('verifies with exactly the fields of the contract, for the whole log or a period', async () => {
    const res = await call('POST', '/api/v1/audit-log/verify', { json: {} });
    expect(res.status).toBe(200);
    for (const field of DESIGN_VERIFY_FIELDS) expect(res.body, field).toHaveProperty(field);
    expect(res.body).toMatchObject({ verified: true, chain_valid: true, hash_mismatches: 0, gaps_detected: 0 });
    expect(res.body.logs_checked).toBeGreaterThanOrEqual(5);
    expect(res.body.verification_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.parse(res.body.verified_at)).not.toBeNaN();
    expect((await call('POST', '/api/v1/audit-log/verify')).body.verified).toBe(true);

    const period = await call('POST', '/api/v1/audit-log/verify', { json: { from: entries[1]!.occurred_at.toISOString(), to: entries[2]!.occurred_at.toISOString() } });
    expect(period.body).toMatchObject({ verified: true, logs_checked: 2, first_seq: 2, last_seq: 3 });
    expect(period.body.verification_hash).toBe(createHash('sha256').update(`${entries[1]!.hash}\n${entries[2]!.hash}\n`).digest('hex'));
  });

  it('counts events by action, actor and resource type', async () => {
    const res = await call('GET', `/api/v1/audit-log/statistics?to=${encodeURIComponent(entries[4]!.occurred_at.toISOString())}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      total_events: 5,
      events_by_action: { 'connection.created': 1, 'connection.updated': 1, 'mapping.version_published': 1, 'evidence.delivered': 1, 'webhook.delivery_failed': 1 },
      events_by_resource_type: { connection: 2, mapping: 1, evidence: 1, webhook: 1 },
      events_by_actor_type: { api_key: 4, system: 1 },
    });
    expect(res.body.events_by_actor[0]).toEqual({ type: 'api_key', id: 'key_alice', name: 'alice', event_count: 3 });
  });

  it('needs audit:read to read and admin to change retention or archive; admin implies audit:read', async () => {
    const configOnly = await keyWith(['config:read']);
    for (const [method, path] of [['GET', '/api/v1/audit-log'], ['GET', `/api/v1/audit-log/${entries[0]!.id}`], ['POST', '/api/v1/audit-log/verify'], ['GET', '/api/v1/audit-log/statistics'], ['GET', '/api/v1/audit-log/retention']] as const) {
      const res = await configOnly(method, path);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    const auditor = await keyWith(['audit:read']);
    expect((await auditor('GET', '/api/v1/audit-log')).status).toBe(200);
    expect((await auditor('POST', '/api/v1/audit-log/verify', { json: {} })).status).toBe(200);
    expect((await auditor('GET', '/api/v1/audit-log/retention')).status).toBe(200);
    expect((await auditor('PUT', '/api/v1/audit-log/retention', { json: { days: 30 } })).status).toBe(403);
    expect((await auditor('POST', '/api/v1/audit-log/archive', { json: { older_than_days: 1 } })).status).toBe(403);
    expect((await call('GET', '/api/v1/audit-log', { key: null })).status).toBe(401);
  });

  it('sets retention, archives on demand and keeps archived entries retrievable and verifiable', async () => {
    const ws = await workspaceWithKey(`audit-retention-${backend}`);
    const mine = [];
    for (let i = 1; i <= 3; i++) mine.push(await log.appendOwnTx({ ...base(i), workspaceId: ws.id }));

    expect((await ws.call('GET', '/api/v1/audit-log/retention')).body).toMatchObject({ days: null, archived_through: null });
    const noPeriod = await ws.call('POST', '/api/v1/audit-log/archive', { json: {} });
    expect(noPeriod.status).toBe(400);
    expect(noPeriod.body.errors[0].pointer).toBe('/older_than_days');

    const set = await ws.call('PUT', '/api/v1/audit-log/retention', { json: { days: 365 }, headers: { 'user-agent': 'retention-test', 'x-request-id': 'req_retention_1' } });
    expect(set.status).toBe(200);
    expect(set.body.days).toBe(365);
    // The change is on the record, attributed to the key that made it.
    const recorded = await ws.call('GET', '/api/v1/audit-log?action=audit_log.retention_updated');
    expect(recorded.body.data).toEqual([expect.objectContaining({
      seq: 4, actor: expect.objectContaining({ type: 'api_key', name: 'admin' }), user_agent: 'retention-test', request_id: 'req_retention_1',
      changes: { retention_days: { from: null, to: 365 } }, ip: expect.any(String),
    })]);

    // Nothing is 365 days old; archiving everything older than 0 days moves all four.
    expect((await ws.call('POST', '/api/v1/audit-log/archive')).body).toMatchObject({ archived: 0, checkpoint: null });
    const archived = await ws.call('POST', '/api/v1/audit-log/archive', { json: { older_than_days: 0 } });
    expect(archived.status).toBe(200);
    expect(archived.body).toMatchObject({ archived: 4, checkpoint: { seq: 4 } });
    expect((await ws.call('GET', '/api/v1/audit-log/retention')).body.archived_through).toMatchObject({ seq: 4, hash: archived.body.checkpoint.hash });

    const live = await ws.call('GET', '/api/v1/audit-log');
    expect(live.body.data).toEqual([expect.objectContaining({ seq: 5, action: 'audit_log.archived', previous_hash: archived.body.checkpoint.hash })]);
    expect(ids(await ws.call('GET', '/api/v1/audit-log?include_archived=true'))).toEqual([1, 2, 3, 4, 5]);
    const old = await ws.call('GET', `/api/v1/audit-log/${mine[0]!.id}`);
    expect(old.body).toMatchObject({ seq: 1, archived: true, hash: mine[0]!.hash });
    expect((await ws.call('POST', '/api/v1/audit-log/verify', { json: {} })).body).toMatchObject({ verified: true, logs_checked: 1, scope: 'live' });
    expect((await ws.call('POST', '/api/v1/audit-log/verify', { json: { scope: 'all' } })).body).toMatchObject({ verified: true, logs_checked: 5, scope: 'all' });
    expect((await ws.call('GET', '/api/v1/audit-log/statistics')).body.total_events).toBe(5);
  });
});
