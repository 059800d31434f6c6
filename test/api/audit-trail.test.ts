import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Request, Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audited } from '../../api/audit.js';
import type { Principal } from '../../api/auth.js';
import { ApiKeyStore, type Scope } from '../../store/api-keys.js';
import { AuditLogStore } from '../../store/audit-log/index.js';
import { WorkspaceStore } from '../../store/workspaces.js';
import { BACKENDS, caller, eventually, startTestHub, type ApiCaller, type CallOptions, type CallResult, type TestHub } from '../helpers/hub.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

const USER_AGENT = 'audit-trail-test/1.0';
const PAGE = 500;

interface Actor {
  workspaceId: string;
  keyId: string;
  keyName: string;
  call: ApiCaller;
}

interface Entry {
  seq: number;
  action: string;
  resource_type: string;
  resource_id: string | null;
  actor: { type: string; id: string; name: string | null };
  changes: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
}

/**
 * A workspace and an admin key made through the stores, not the API, so that its chain holds
 * only what the test does through the API.
 */
async function actorIn(t: TestHub, name: string, scopes: Scope[] = ['admin', 'workspaces:admin']): Promise<Actor> {
  const workspace = await new WorkspaceStore(t.hub.db).create(name);
  const { record, key } = await new ApiKeyStore(t.hub.db).create({ workspaceId: workspace.id, name: `${name}-key`, scopes });
  const call = caller(t.url, key);
  return { workspaceId: workspace.id, keyId: record.id, keyName: record.name, call: (method, path, options = {}) => call(method, path, { ...options, headers: { 'user-agent': USER_AGENT, ...options.headers } }) };
}

/** Every entry of the caller's chain, through the API, in seq order. */
async function chainOf(call: ApiCaller): Promise<{ entries: Entry[]; text: string }> {
  const entries: Entry[] = [];
  let text = '';
  let cursor: string | null = null;
  do {
    const res = await call('GET', `/api/v1/audit-log?limit=${PAGE}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status, res.text).toBe(200);
    entries.push(...(res.body.data as Entry[]));
    text += res.text;
    cursor = res.body.next_cursor;
  } while (cursor);
  return { entries, text };
}

/** Entries written by API calls; the worker appends entries of its own (delivery outcomes) to the same chain. */
const byApiKeys = (entries: Entry[]) => entries.filter((e) => e.actor.type === 'api_key');

/** Reads the chain of one actor's workspace as mutations go by. */
class Trail {
  private seen = 0;

  constructor(private readonly actor: Actor) {}

  /** Entries API calls appended since the last look. */
  async fresh(): Promise<Entry[]> {
    const { entries } = await chainOf(this.actor.call);
    const added = entries.filter((e) => e.seq > this.seen);
    this.seen = Math.max(this.seen, ...entries.map((e) => e.seq));
    return byApiKeys(added);
  }

  /** Sends a mutation that must succeed with `status` and leave exactly one entry, from this caller. */
  async expectOne(method: string, path: string, options: CallOptions, expected: { status: number; action: string; resourceType: string; resourceId?: (res: CallResult) => string }): Promise<{ res: CallResult; entry: Entry }> {
    const res = await this.actor.call(method, path, options);
    expect(res.status, `${method} ${path}: ${res.text}`).toBe(expected.status);
    const added = await this.fresh();
    expect(added.map((e) => e.action), `${method} ${path}`).toEqual([expected.action]);
    const entry = added[0]!;
    expect(entry).toMatchObject({
      action: expected.action, resource_type: expected.resourceType,
      actor: { type: 'api_key', id: this.actor.keyId, name: this.actor.keyName },
      user_agent: USER_AGENT, request_id: res.headers.get('x-request-id'),
    });
    expect(entry.ip).toMatch(/127\.0\.0\.1$/);
    expect(entry.request_id).toBeTruthy();
    if (expected.resourceId) expect(entry.resource_id).toBe(expected.resourceId(res));
    return { res, entry };
  }

  /** Sends a request that must answer `status` and leave no entry. */
  async expectNone(method: string, path: string, options: CallOptions, status: number): Promise<CallResult> {
    const res = await this.actor.call(method, path, options);
    expect(res.status, `${method} ${path}: ${res.text}`).toBe(status);
    expect((await this.fresh()).map((e) => e.action), `${method} ${path}`).toEqual([]);
    return res;
  }
}

/** Verifies the chain through the API and checks its seqs in the table are exactly 1..n; returns n. */
async function expectUnbrokenChain(t: TestHub, actor: Actor, atLeast: number): Promise<number> {
  const verify = await actor.call('POST', '/api/v1/audit-log/verify', { json: {} });
  expect(verify.status).toBe(200);
  expect(verify.body).toMatchObject({ verified: true, chain_valid: true, gaps_detected: 0, hash_mismatches: 0, links_broken: 0, first_seq: 1 });
  expect(verify.body.logs_checked).toBeGreaterThanOrEqual(atLeast);
  // Up to the last verified seq: the worker may append while this runs.
  const rows = await t.hub.db.query<{ seq: number | string }>('SELECT seq FROM audit_log WHERE workspace_id = $1 AND seq <= $2 ORDER BY seq', [actor.workspaceId, verify.body.last_seq]);
  expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: verify.body.logs_checked }, (_, i) => i + 1));
  return verify.body.logs_checked as number;
}

/** Runs `count` requests, `inFlight` at a time. */
async function inChunks(count: number, inFlight: number, send: (i: number) => Promise<CallResult>): Promise<CallResult[]> {
  const results: CallResult[] = [];
  for (let start = 0; start < count; start += inFlight) {
    results.push(...(await Promise.all(Array.from({ length: Math.min(inFlight, count - start) }, (_, j) => send(start + j)))));
  }
  return results;
}

const id = (res: CallResult) => res.body.id as string;

const rule = (ruleId = 'count') => ({ id: ruleId, dataset: 'okta.users', control_ref: 'Access Control', question_match: 'account lockout', title: 'Users', mode: 'info', payload: { users: { count: '$' } } });

/** A server that accepts connections and never answers: runs and collections against it stay running. */
async function startStallServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

describe.each(BACKENDS)('an audited change and its entry commit together (%s)', (backend) => {
  let t: TestHub;
  let actor: Actor;
  let trail: Trail;
  beforeAll(async () => {
    t = await startTestHub({ backend });
    actor = await actorIn(t, `atomic-${backend}`);
    trail = new Trail(actor);
  });
  afterAll(async () => { await t?.stop(); });

  const fakeRequest = () => ({
    req: { ip: '127.0.0.1', get: () => USER_AGENT } as unknown as Request,
    res: { locals: { requestId: 'req_fake', principal: { keyId: actor.keyId, keyName: actor.keyName, workspaceId: actor.workspaceId, scopes: ['admin'] } satisfies Principal } } as unknown as Response,
  });

  it('a change that fails after writing leaves neither its rows nor an entry; an entry that cannot be written undoes the change', async () => {
    const deps = { db: t.hub.db, auditLog: new AuditLogStore(t.hub.db) };
    const { req, res } = fakeRequest();
    const workspaceNamed = async (name: string) => (await t.hub.db.query('SELECT id FROM workspaces WHERE name = $1', [name])).length;

    await expect(audited(deps, req, res, async (tx) => {
      await new WorkspaceStore(tx).create(`doomed-change-${backend}`);
      throw new Error('the change failed half-way');
    }, () => ({ action: 'workspace.created', resourceType: 'workspace' }))).rejects.toThrow('half-way');
    expect(await workspaceNamed(`doomed-change-${backend}`)).toBe(0);

    // An empty action is a malformed entry: the store refuses it, and the change goes with it.
    await expect(audited(deps, req, res, (tx) => new WorkspaceStore(tx).create(`doomed-entry-${backend}`), () => ({ action: '', resourceType: 'workspace' })))
      .rejects.toThrow(/action/);
    expect(await workspaceNamed(`doomed-entry-${backend}`)).toBe(0);
    expect(await trail.fresh()).toEqual([]);

    const kept = await audited(deps, req, res, (tx) => new WorkspaceStore(tx).create(`kept-${backend}`), (w) => ({ action: 'workspace.created', resourceType: 'workspace', resourceId: w.id }));
    expect(await workspaceNamed(`kept-${backend}`)).toBe(1);
    expect(await trail.fresh()).toEqual([expect.objectContaining({ action: 'workspace.created', resource_id: kept.id, request_id: 'req_fake', ip: '127.0.0.1' })]);
  });

  it('requests that fail with 400, 404 or 409 write nothing', async () => {
    await trail.expectNone('POST', '/api/v1/connections', { json: { name: 'x', type: 'no-such-type', config: {} } }, 400);
    await trail.expectNone('PATCH', '/api/v1/connections/conn_nope', { json: { name: 'x' } }, 404);
    await trail.expectNone('DELETE', '/api/v1/api-keys/key_nope', {}, 404);
    await trail.expectNone('PUT', '/api/v1/mappings/map_nope', { json: { rules: [rule()] } }, 404);
    await trail.expectNone('POST', '/api/v1/mappings', { json: { name: 'bad', rules: [{ id: 'x' }] } }, 400);
    const disabled = await trail.expectOne('POST', '/api/v1/webhooks', { json: { url: 'http://127.0.0.1:9/hooks', enabled: false } }, { status: 201, action: 'webhook.created', resourceType: 'webhook' });
    await trail.expectNone('POST', `/api/v1/webhooks/${disabled.res.body.id}/test`, {}, 409);
    await expectUnbrokenChain(t, actor, 1);
  });

  it('100 concurrent mutations leave one chain with no fork and no gap', async () => {
    const before = (await trail.fresh()).length;
    const connection = await trail.expectOne('POST', '/api/v1/connections', { json: { name: 'c', type: 'okta', config: { base_url: 'https://acme.okta.com', auth_method: 'api_token' }, secrets: { api_token: 't' } } }, { status: 201, action: 'connection.created', resourceType: 'connection' });
    const results = await inChunks(100, 25, (i) => (i % 2
      ? actor.call('PATCH', `/api/v1/connections/${connection.res.body.id}`, { json: { name: `c-${i}` } })
      : actor.call('POST', '/api/v1/mappings', { json: { name: `m-${i}`, rules: [rule()] } })));
    expect(results.map((r) => r.status).filter((s) => s >= 300)).toEqual([]);
    expect(before).toBe(0);
    const added = await trail.fresh();
    expect(added).toHaveLength(100);
    expect(added.every((e) => e.actor.id === actor.keyId)).toBe(true);
    expect(new Set(added.map((e) => e.request_id)).size).toBe(100);
    await expectUnbrokenChain(t, actor, 100);
  });
});

describe('every state change through the API is in the audit log', () => {
  let t: TestHub;
  let actor: Actor;
  let trail: Trail;
  let stall: Awaited<ReturnType<typeof startStallServer>>;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    t = await startTestHub();
    stall = await startStallServer();
    receiver = await WebhookReceiver.start();
    actor = await actorIn(t, 'trail');
    trail = new Trail(actor);
  });
  afterAll(async () => {
    // Closing the stalled server first lets the worker's hanging requests fail, so the hub stops promptly.
    await stall?.close();
    await receiver?.down();
    await t?.stop();
  });

  it('records each kind of mutation once, with the key, action, resource, IP, user agent and request id', async () => {
    // API keys
    const key = await trail.expectOne('POST', '/api/v1/api-keys', { json: { name: 'reader', scopes: ['audit:read'] } }, { status: 201, action: 'api_key.created', resourceType: 'api_key', resourceId: id });
    expect(key.entry.changes).toEqual({ name: 'reader', scopes: ['audit:read'], prefix: key.res.body.prefix });
    await trail.expectOne('DELETE', `/api/v1/api-keys/${id(key.res)}`, {}, { status: 204, action: 'api_key.revoked', resourceType: 'api_key', resourceId: () => id(key.res) });
    await trail.expectNone('DELETE', `/api/v1/api-keys/${id(key.res)}`, {}, 404);

    // Workspaces: the entries join the new workspace's own chain, not the caller's.
    const workspace = await trail.expectNone('POST', '/api/v1/workspaces', { json: { name: 'made-by-trail' } }, 201);
    const firstKey = await trail.expectNone('POST', `/api/v1/workspaces/${id(workspace)}/api-keys`, { json: { name: 'first admin', scopes: ['admin'] } }, 201);
    const theirs = await chainOf(caller(t.url, firstKey.body.key as string));
    expect(theirs.entries).toEqual([
      expect.objectContaining({ seq: 1, action: 'workspace.created', resource_id: id(workspace), actor: { type: 'api_key', id: actor.keyId, name: actor.keyName }, request_id: workspace.headers.get('x-request-id'), changes: { name: 'made-by-trail' } }),
      expect.objectContaining({ seq: 2, action: 'api_key.created', resource_id: firstKey.body.id, actor: { type: 'api_key', id: actor.keyId, name: actor.keyName }, user_agent: USER_AGENT }),
    ]);

    // Connections: create, patch, a test (changes nothing), collect, delete.
    const okta = { name: 'okta', type: 'okta', config: { base_url: stall.url, auth_method: 'api_token', enrich: false }, secrets: { api_token: 'tok-trail' } };
    const connection = await trail.expectOne('POST', '/api/v1/connections', { json: okta }, { status: 201, action: 'connection.created', resourceType: 'connection', resourceId: id });
    expect(connection.entry.changes).toEqual({ name: 'okta', type: 'okta', config: okta.config, secrets: { api_token: '[REDACTED]' } });
    const patched = await trail.expectOne('PATCH', `/api/v1/connections/${id(connection.res)}`, { json: { name: 'okta renamed', config: { enrich: null } } }, { status: 200, action: 'connection.updated', resourceType: 'connection', resourceId: () => id(connection.res) });
    expect(patched.entry.changes).toEqual({ name: 'okta renamed', config: { enrich: null } });
    const refused = await trail.expectOne('POST', '/api/v1/connections', { json: { ...okta, config: { ...okta.config, base_url: 'http://127.0.0.1:1' } } }, { status: 201, action: 'connection.created', resourceType: 'connection' });
    expect((await trail.expectNone('POST', `/api/v1/connections/${id(refused.res)}/test`, {}, 200)).body.ok).toBe(false);
    await trail.expectOne('DELETE', `/api/v1/connections/${id(refused.res)}`, {}, { status: 204, action: 'connection.deleted', resourceType: 'connection', resourceId: () => id(refused.res) });
    const collection = await trail.expectOne('POST', `/api/v1/connections/${id(connection.res)}/collect?wait=0`, { json: { datasets: ['okta.users'] } }, { status: 202, action: 'collection.started', resourceType: 'collection', resourceId: id });
    expect(collection.entry.changes).toEqual({ connection_id: id(connection.res), datasets: ['okta.users'] });

    // Destinations share the connections' routes.
    const destination = await trail.expectOne('POST', '/api/v1/destinations', { json: { name: 'AUDIGYD', type: 'audigyd', config: { base_url: stall.url }, secrets: { api_key: 'ak-trail' } } }, { status: 201, action: 'destination.created', resourceType: 'destination', resourceId: id });
    await trail.expectOne('PATCH', `/api/v1/destinations/${id(destination.res)}`, { json: { name: 'AUDIGYD 2' } }, { status: 200, action: 'destination.updated', resourceType: 'destination' });

    // Mappings: every published version, restore and delete.
    const mapping = await trail.expectOne('POST', '/api/v1/mappings', { json: { name: 'lockout', rules: [rule()] } }, { status: 201, action: 'mapping.created', resourceType: 'mapping', resourceId: id });
    expect(mapping.entry.changes).toMatchObject({ name: 'lockout', version: 1, rule_count: 1, rules_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const v2 = await trail.expectOne('PUT', `/api/v1/mappings/${id(mapping.res)}`, { json: { rules: [rule('a'), rule('b')] } }, { status: 200, action: 'mapping.version_published', resourceType: 'mapping', resourceId: () => id(mapping.res) });
    expect(v2.entry.changes).toMatchObject({ version: 2, rule_count: 2 });
    const restored = await trail.expectOne('POST', `/api/v1/mappings/${id(mapping.res)}/versions/1/restore`, {}, { status: 201, action: 'mapping.restored', resourceType: 'mapping' });
    expect(restored.entry.changes).toMatchObject({ version: 3, restored_from: 1, rules_sha256: mapping.entry.changes.rules_sha256 });

    // Jobs: a schedule Temporal refuses leaves no job and no entry.
    const jobBody = { name: 'trail job', connection_id: id(connection.res), datasets: ['okta.users'], mapping_id: id(mapping.res), destination_id: id(destination.res), target: { assessment_id: 'asm_trail' } };
    const jobsBefore = (await actor.call('GET', '/api/v1/jobs')).body.data.length;
    await trail.expectNone('POST', '/api/v1/jobs', { json: { ...jobBody, schedule: { cron: 'every tuesday-ish', timezone: 'UTC' } } }, 400);
    expect((await actor.call('GET', '/api/v1/jobs')).body.data.length).toBe(jobsBefore);
    const job = await trail.expectOne('POST', '/api/v1/jobs', { json: jobBody }, { status: 201, action: 'job.created', resourceType: 'job', resourceId: id });
    expect(job.entry.changes).toMatchObject({ name: 'trail job', target: { assessment_id: 'asm_trail' }, schedule: null });
    const jobPatch = await trail.expectOne('PATCH', `/api/v1/jobs/${id(job.res)}`, { json: { name: 'trail job 2' } }, { status: 200, action: 'job.updated', resourceType: 'job', resourceId: () => id(job.res) });
    expect(jobPatch.entry.changes).toEqual({ name: 'trail job 2' });
    const scheduled = await trail.expectOne('POST', '/api/v1/jobs', { json: { ...jobBody, name: 'daily', schedule: { cron: '@daily', timezone: 'UTC' } } }, { status: 201, action: 'job.created', resourceType: 'job' });
    await trail.expectNone('PATCH', `/api/v1/jobs/${id(scheduled.res)}`, { json: { schedule: { cron: 'every tuesday-ish', timezone: 'UTC' } } }, 400);
    expect((await actor.call('GET', `/api/v1/jobs/${id(scheduled.res)}`)).body.schedule).toEqual({ cron: '@daily', timezone: 'UTC' });
    await trail.expectOne('DELETE', `/api/v1/jobs/${id(scheduled.res)}`, {}, { status: 204, action: 'job.deleted', resourceType: 'job', resourceId: () => id(scheduled.res) });
    await trail.expectNone('DELETE', `/api/v1/mappings/${id(mapping.res)}`, {}, 409);

    // Runs: a trigger and a cancel; cancelling a run that has ended changes nothing.
    const run = await trail.expectOne('POST', `/api/v1/jobs/${id(job.res)}/runs`, {}, { status: 202, action: 'run.triggered', resourceType: 'run', resourceId: id });
    expect(run.entry.changes).toEqual({ job_id: id(job.res), trigger: 'api' });
    await trail.expectOne('POST', `/api/v1/runs/${id(run.res)}/cancel`, {}, { status: 202, action: 'run.cancel_requested', resourceType: 'run', resourceId: () => id(run.res) });
    await eventually(async () => ['cancelled', 'failed'].includes((await actor.call('GET', `/api/v1/runs/${id(run.res)}`)).body.status), { timeoutMs: 60_000, intervalMs: 250 });
    await trail.expectNone('POST', `/api/v1/runs/${id(run.res)}/cancel`, {}, 202);

    // Evidence push: a repeated push returns the same item and records nothing more.
    const push = {
      destination_id: id(destination.res), target: { assessment_id: 'asm_trail' }, control_ref: 'Access Control', question_match: 'MFA admin',
      title: 'From a flow', source: 'trail', result: 'pass', payload: { admins: 4 }, collected_at: '2026-11-20T10:00:00Z',
    };
    const pushed = await trail.expectOne('POST', '/api/v1/evidence/push', { json: push }, { status: 202, action: 'evidence.pushed', resourceType: 'evidence', resourceId: id });
    expect(pushed.entry.changes).toMatchObject({ title: 'From a flow', payload_sha256: pushed.res.body.payload_sha256 });
    expect(pushed.entry.changes).not.toHaveProperty('payload');
    expect(id(await trail.expectNone('POST', '/api/v1/evidence/push', { json: push }, 202))).toBe(id(pushed.res));

    // Diagnostics
    await trail.expectOne('POST', '/api/v1/diagnostics', {}, { status: 202, action: 'diagnostic.started', resourceType: 'diagnostic', resourceId: id });

    // Webhooks: create, patch, rotate, test, redeliver, recover, delete.
    const webhook = await trail.expectOne('POST', '/api/v1/webhooks', { json: { url: receiver.url, events: ['webhook.test'] } }, { status: 201, action: 'webhook.created', resourceType: 'webhook', resourceId: id });
    const receiverUrl = new URL(receiver.url);
    expect(webhook.entry.changes).toEqual({
      url: { origin: receiverUrl.origin, path_sha256: createHash('sha256').update(receiverUrl.pathname + receiverUrl.search).digest('hex') },
      events: ['webhook.test'], description: null, enabled: true,
    });
    const webhookId = id(webhook.res);
    await trail.expectOne('PATCH', `/api/v1/webhooks/${webhookId}`, { json: { description: 'ops' } }, { status: 200, action: 'webhook.updated', resourceType: 'webhook', resourceId: () => webhookId });
    const rotated = await trail.expectOne('POST', `/api/v1/webhooks/${webhookId}/rotate-secret`, { json: { grace_period_seconds: 60 } }, { status: 200, action: 'webhook.secret_rotated', resourceType: 'webhook', resourceId: () => webhookId });
    expect(rotated.entry.changes).toMatchObject({ grace_period_seconds: 60 });
    const test = await trail.expectOne('POST', `/api/v1/webhooks/${webhookId}/test`, {}, { status: 202, action: 'webhook.test_sent', resourceType: 'webhook', resourceId: () => webhookId });
    const deliveryId = test.res.body.delivery_id as string;
    expect(test.entry.changes).toEqual({ event_id: test.res.body.event_id, delivery_id: deliveryId });
    await trail.expectOne('POST', `/api/v1/webhook-deliveries/${deliveryId}/redeliver`, {}, { status: 202, action: 'webhook_delivery.redelivered', resourceType: 'webhook_delivery', resourceId: id });
    const since = new Date(Date.now() - 3_600_000).toISOString();
    expect((await trail.expectNone('POST', `/api/v1/webhooks/${webhookId}/recover`, { json: { since } }, 202)).body.recovered).toBe(0);
    // As if every attempt had failed (recover looks at each event's latest delivery).
    await t.hub.db.query(`UPDATE webhook_deliveries SET status = 'failed' WHERE webhook_id = $1`, [webhookId]);
    const recovered = await trail.expectOne('POST', `/api/v1/webhooks/${webhookId}/recover`, { json: { since } }, { status: 202, action: 'webhook.deliveries_recovered', resourceType: 'webhook', resourceId: () => webhookId });
    expect(recovered.entry.changes).toEqual({ since, recovered: 1 });
    await trail.expectOne('DELETE', `/api/v1/webhooks/${webhookId}`, {}, { status: 204, action: 'webhook.deleted', resourceType: 'webhook', resourceId: () => webhookId });
    await trail.expectNone('POST', `/api/v1/webhooks/${webhookId}/rotate-secret`, {}, 404);

    // An idempotent replay does not run the handler again: one entry for both requests.
    const idempotent = { json: { url: receiver.url }, headers: { 'idempotency-key': `trail-${randomUUID()}` } };
    const first = await trail.expectOne('POST', '/api/v1/webhooks', idempotent, { status: 201, action: 'webhook.created', resourceType: 'webhook', resourceId: id });
    const replay = await trail.expectNone('POST', '/api/v1/webhooks', idempotent, 201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(id(replay)).toBe(id(first.res));

    // The audit log's own settings, and the cleanup of what the job held.
    await trail.expectOne('PUT', '/api/v1/audit-log/retention', { json: { days: 400 } }, { status: 200, action: 'audit_log.retention_updated', resourceType: 'audit_log' });
    await trail.expectOne('DELETE', `/api/v1/jobs/${id(job.res)}`, {}, { status: 204, action: 'job.deleted', resourceType: 'job' });
    await trail.expectOne('DELETE', `/api/v1/mappings/${id(mapping.res)}`, {}, { status: 204, action: 'mapping.deleted', resourceType: 'mapping', resourceId: () => id(mapping.res) });
    await trail.expectOne('DELETE', `/api/v1/destinations/${id(destination.res)}`, {}, { status: 204, action: 'destination.deleted', resourceType: 'destination' });

    await expectUnbrokenChain(t, actor, 30);
    const actions = byApiKeys((await chainOf(actor.call)).entries).map((e) => e.action);
    expect(new Set(actions)).toEqual(new Set([
      'api_key.created', 'api_key.revoked', 'connection.created', 'connection.updated', 'connection.deleted', 'collection.started',
      'destination.created', 'destination.updated', 'destination.deleted', 'mapping.created', 'mapping.version_published', 'mapping.restored', 'mapping.deleted',
      'job.created', 'job.updated', 'job.deleted', 'run.triggered', 'run.cancel_requested', 'evidence.pushed', 'diagnostic.started',
      'webhook.created', 'webhook.updated', 'webhook.secret_rotated', 'webhook.test_sent', 'webhook_delivery.redelivered', 'webhook.deliveries_recovered', 'webhook.deleted',
      'audit_log.retention_updated',
    ]));
  });

  it('secrets never appear in audit entries: connection, destination and patched secrets, webhook secrets, API keys', async () => {
    const secret = (label: string) => `${label}-${randomUUID()}`;
    const values = { connection: secret('conn'), patched: secret('patched'), privateKey: secret('pem'), destination: secret('dest'), destinationPatched: secret('dest2') };
    const connection = await actor.call('POST', '/api/v1/connections', { json: { name: 'secretive', type: 'okta', config: { base_url: 'https://secret.okta.com', auth_method: 'api_token' }, secrets: { api_token: values.connection } } });
    expect(connection.status, connection.text).toBe(201);
    expect((await actor.call('PATCH', `/api/v1/connections/${id(connection)}`, { json: { secrets: { api_token: values.patched } } })).status).toBe(200);
    const oauth = await actor.call('POST', '/api/v1/connections', { json: { name: 'oauth', type: 'okta', config: { base_url: 'https://oauth.okta.com', auth_method: 'oauth', client_id: 'cid' }, secrets: { private_key: values.privateKey } } });
    expect(oauth.status, oauth.text).toBe(201);
    const destination = await actor.call('POST', '/api/v1/destinations', { json: { name: 'dest', type: 'audigyd', config: { base_url: 'https://audigyd.example' }, secrets: { api_key: values.destination } } });
    expect(destination.status, destination.text).toBe(201);
    expect((await actor.call('PATCH', `/api/v1/destinations/${id(destination)}`, { json: { secrets: { api_key: values.destinationPatched } } })).status).toBe(200);
    // A Slack-style URL: the path is the credential.
    const pathToken = secret('pathtoken');
    const webhook = await actor.call('POST', '/api/v1/webhooks', { json: { url: `http://127.0.0.1:9/services/T0/B0/${pathToken}` } });
    const rotated = await actor.call('POST', `/api/v1/webhooks/${id(webhook)}/rotate-secret`);
    const apiKey = await actor.call('POST', '/api/v1/api-keys', { json: { name: 'k', scopes: ['config:read'] } });
    const workspace = await actor.call('POST', '/api/v1/workspaces', { json: { name: 'secret-ws' } });
    const workspaceKey = await actor.call('POST', `/api/v1/workspaces/${id(workspace)}/api-keys`, { json: { name: 'k', scopes: ['admin'] } });
    const issued = [webhook.body.secret, rotated.body.secret, apiKey.body.key, workspaceKey.body.key] as string[];
    for (const value of issued) expect(value).toMatch(/^(whsec_|ehk_)/);
    const forbidden = [...Object.values(values), ...issued, ...issued.map((v) => v.replace(/^(whsec_|ehk_)/, '')), pathToken];

    const stored = (await t.hub.db.query<{ row: string }>('SELECT a::text AS row FROM audit_log a')).map((r) => r.row).join('\n');
    const listed = (await chainOf(actor.call)).text + (await chainOf(caller(t.url, workspaceKey.body.key as string))).text;
    const statistics = (await actor.call('GET', '/api/v1/audit-log/statistics')).text;
    for (const value of forbidden) {
      expect(stored, 'SELECT * FROM audit_log').not.toContain(value);
      expect(listed, 'GET /api/v1/audit-log').not.toContain(value);
      expect(statistics).not.toContain(value);
    }
    // Which secrets were set is still there, by name.
    const entries = (await chainOf(actor.call)).entries;
    const patch = entries.find((e) => e.action === 'connection.updated' && e.resource_id === id(connection));
    expect(patch?.changes).toEqual({ secrets: { api_token: '[REDACTED]' } });
    expect(entries.find((e) => e.action === 'destination.created' && e.resource_id === id(destination))?.changes.secrets).toEqual({ api_key: '[REDACTED]' });
    expect(entries.filter((e) => e.resource_id === id(webhook)).map((e) => e.action)).toEqual(['webhook.created', 'webhook.secret_rotated']);
  });
});

describe('1 000 concurrent API mutations on PostgreSQL', () => {
  let t: TestHub;
  let actor: Actor;
  beforeAll(async () => {
    t = await startTestHub({ backend: 'postgres', env: { HUB_RATE_LIMIT_PER_MINUTE: '100000' } });
    actor = await actorIn(t, 'thousand');
  });
  afterAll(async () => { await t?.stop(); });

  it('leave a single unbroken chain: seq 1..n, every link and hash valid, one entry per mutation', async () => {
    const connections: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await actor.call('POST', '/api/v1/connections', { json: { name: `c${i}`, type: 'okta', config: { base_url: 'https://acme.okta.com', auth_method: 'api_token' }, secrets: { api_token: 't' } } });
      expect(res.status, res.text).toBe(201);
      connections.push(id(res));
    }
    const MUTATIONS = 1000;
    const results = await inChunks(MUTATIONS, 50, (i) => {
      switch (i % 3) {
        case 0: return actor.call('POST', '/api/v1/webhooks', { json: { url: `http://127.0.0.1:9/hooks/${i}` } });
        case 1: return actor.call('POST', '/api/v1/mappings', { json: { name: `m${i}`, rules: [rule()] } });
        default: return actor.call('PATCH', `/api/v1/connections/${connections[i % connections.length]}`, { json: { name: `c-${i}`, secrets: { api_token: `t${i}` } } });
      }
    });
    const failures = results.filter((r) => r.status >= 300).map((r) => `${r.status} ${r.text}`);
    expect(failures).toEqual([]);

    await expectUnbrokenChain(t, actor, MUTATIONS + connections.length);
    const entries = byApiKeys((await chainOf(actor.call)).entries);
    expect(entries).toHaveLength(MUTATIONS + connections.length);
    const count = (action: string) => entries.filter((e) => e.action === action).length;
    expect([count('webhook.created'), count('mapping.created'), count('connection.updated')]).toEqual([334, 333, 333]);
    // Each request is in the log exactly once.
    expect(new Set(entries.map((e) => e.request_id)).size).toBe(entries.length);
    // A load test: on a 2-core machine shared with other suites it takes more than the default minute.
  }, 240_000);
});
