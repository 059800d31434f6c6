import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { collect, createConnection, snapshotRecords } from '../helpers/collect.js';
import { expectNoRequestsIntoExhaustedBuckets } from '../helpers/rate-limit.js';

interface UserRecord { id: string; status: string; is_admin: boolean; mfa_enrolled: boolean; admin_roles: string[]; mfa_factors: unknown[] }

describe('Okta connector through the real Temporal dev server', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  beforeAll(async () => {
    t = await startTestHub();
    okta = await startOktaSimulator({
      population: { total: 450, deprovisioned: 30, admins: 12, adminsWithoutMfa: 3, withoutMfa: 40 },
      // Tight per-endpoint windows: the factor and role look-ups (2 per user) must be paced.
      rateLimit: { limit: 150, windowMs: 1000 },
    });
  });
  afterAll(async () => { await okta?.close(); await t?.stop(); });

  it('collects every user across pages (both user lists), enriched with factors and roles, paced by X-Rate-Limit-*', async () => {
    const id = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token' }, secrets: { api_token: okta.apiToken } });
    const result = await collect(t.call, id, ['okta.users', 'okta.password_policies']);
    expect(result.status, result.error ?? '').toBe('succeeded');
    const users = result.snapshots.find((s) => s.dataset === 'okta.users')!;
    const truth = okta.truth();
    expect(users.record_count).toBe(truth.users.total);

    const records = await snapshotRecords<UserRecord>(t.call, users.id);
    expect(new Set(records.map((r) => r.id)).size).toBe(truth.users.total); // each user exactly once
    expect(records.filter((r) => r.status === 'DEPROVISIONED')).toHaveLength(30);
    expect(records.filter((r) => r.is_admin)).toHaveLength(truth.admins.total);
    expect(records.filter((r) => r.is_admin && !r.mfa_enrolled).map((r) => r.id).sort()).toEqual([...truth.admins.idsWithoutMfa].sort());
    expect(records.filter((r) => r.status === 'ACTIVE' && !r.mfa_enrolled)).toHaveLength(truth.activeUsers.withoutMfa);

    // More than one page of users, and no request ever sent into a closed window.
    const userPages = okta.requests.filter((r) => r.path === '/api/v1/users' && r.status === 200);
    expect(userPages.length).toBeGreaterThanOrEqual(3);
    expectNoRequestsIntoExhaustedBuckets(okta);

    const policies = await snapshotRecords<{ min_length: number; lockout_max_attempts: number }>(t.call, result.snapshots.find((s) => s.dataset === 'okta.password_policies')!.id);
    expect(policies[0]).toMatchObject({ min_length: truth.passwordPolicy.minLength, lockout_max_attempts: truth.passwordPolicy.maxAttempts });
  });

  it('honours a 429: waits until X-Rate-Limit-Reset before the next request to that endpoint', async () => {
    const id = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token' }, secrets: { api_token: okta.apiToken } });
    const before = okta.throttling.events.length;
    okta.faults.inject({ kind: 'rateLimit', retryAfterSeconds: 1 }, 1, { path: '/api/v1/policies' });
    const result = await collect(t.call, id, ['okta.password_policies']);
    expect(result.status).toBe('succeeded');
    const event = okta.throttling.events[before]!;
    expect(event.cause).toBe('fault');
    expect(event.requestsBeforeReset).toBe(0);
    const retry = okta.requests.filter((r) => r.path === '/api/v1/policies' && r.receivedAtMs > event.sentAtMs);
    expect(retry[0]!.receivedAtMs).toBeGreaterThanOrEqual(event.resetAtMs);
  });

  it('waits out a rate-limit window longer than the heartbeat timeout without losing the attempt', async () => {
    // 8 requests at 3 per 12 s window: at least one whole window (longer than the 10 s heartbeat timeout) is waited out.
    const slow = await startOktaSimulator({ population: { total: 1_400, deprovisioned: 0 }, rateLimit: { limit: 3, windowMs: 12_000 } });
    try {
      const id = await createConnection(t.call, { type: 'okta', config: { base_url: slow.url, auth_method: 'api_token', enrich: false }, secrets: { api_token: slow.apiToken } });
      const result = await collect(t.call, id, ['okta.users']);
      expect(result.status, result.error ?? '').toBe('succeeded');
      expect(result.snapshots[0]!.record_count).toBe(1_400);
      const snapshot = await t.call('GET', `/api/v1/snapshots/${result.snapshots[0]!.id}?limit=0`);
      expect(snapshot.body.metadata.attempts).toBe(1);
      expectNoRequestsIntoExhaustedBuckets(slow);
    } finally {
      await slow.close();
    }
  }, 90_000);

  it('reads the System Log incrementally: the next collection asks only for events since the last one', async () => {
    const id = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token' }, secrets: { api_token: okta.apiToken } });
    const first = await collect(t.call, id, ['okta.system_log']);
    expect(first.status).toBe('succeeded');
    expect(first.snapshots[0]!.record_count).toBeGreaterThan(0);
    const firstSince = okta.requests.filter((r) => r.path === '/api/v1/logs').at(-1)!.query.get('since');
    const second = await collect(t.call, id, ['okta.system_log']);
    const secondSince = okta.requests.filter((r) => r.path === '/api/v1/logs').at(-1)!.query.get('since')!;
    expect(new Date(secondSince).getTime()).toBeGreaterThan(new Date(firstSince!).getTime());
    const firstCollected = (await t.call('GET', `/api/v1/snapshots/${first.snapshots[0]!.id}?limit=0`)).body.collected_at;
    expect(new Date(secondSince).toISOString()).toBe(new Date(firstCollected).toISOString());
    expect(second.snapshots[0]!.record_count).toBe(0); // the simulator's events all predate the first collection
  });

  it('signs in as an OAuth service app with a private-key JWT and reuses the access token', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const app = await startOktaSimulator({
      population: { total: 60 },
      serviceApps: [{ clientId: '0oa-hub', publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), scopes: ['okta.users.read', 'okta.roles.read', 'okta.policies.read', 'okta.logs.read', 'okta.orgs.read'] }],
    });
    try {
      const id = await createConnection(t.call, {
        type: 'okta', config: { base_url: app.url, auth_method: 'oauth', client_id: '0oa-hub' },
        secrets: { private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
      });
      expect((await t.call('POST', `/api/v1/connections/${id}/test`)).body).toMatchObject({ ok: true });
      const result = await collect(t.call, id, ['okta.users']);
      expect(result.status, result.error ?? '').toBe('succeeded');
      expect(result.snapshots[0]!.record_count).toBe(60);
      expect(app.state.oauth.tokensIssued).toBe(2); // one for the test, one for the whole collection
      expect(app.requests.filter((r) => r.path !== '/oauth2/v1/token').every((r) => r.authScheme === 'Bearer')).toBe(true);
    } finally {
      await app.close();
    }
  });

  it('a bad token is a readable, non-retryable failure on test and on collection', async () => {
    const id = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token' }, secrets: { api_token: 'wrong-token' } });
    const test = await t.call('POST', `/api/v1/connections/${id}/test`);
    expect(test.status).toBe(200);
    expect(test.body).toMatchObject({ ok: false, error: { kind: 'auth', status: 401 } });
    expect(test.body.error.message).toMatch(/rejected the credentials.*check the token/);

    const before = okta.requests.length;
    const result = await collect(t.call, id, ['okta.users']);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/okta\.users: Okta rejected the credentials \(401\)/);
    expect(okta.requests.slice(before).filter((r) => r.path === '/api/v1/users')).toHaveLength(1); // not retried
  });

  it('a missing permission and a wrong URL say so', async () => {
    const id = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token' }, secrets: { api_token: okta.apiToken } });
    okta.faults.inject({ kind: 'status', status: 403 }, 1, { path: '/api/v1/users' });
    const denied = await t.call('POST', `/api/v1/connections/${id}/test`);
    expect(denied.body).toMatchObject({ ok: false, error: { kind: 'permission', status: 403 } });

    const wrongUrl = await createConnection(t.call, { type: 'okta', config: { base_url: 'http://127.0.0.1:9', auth_method: 'api_token' }, secrets: { api_token: 'x' } });
    const unreachable = await t.call('POST', `/api/v1/connections/${wrongUrl}/test`);
    expect(unreachable.body).toMatchObject({ ok: false, error: { kind: 'unavailable' } });
    expect(unreachable.body.error.message).toMatch(/could not be reached.*ECONNREFUSED/);
  });

  it('never follows a next link to another host', async () => {
    const evil = await startOktaSimulator({ population: { total: 450 }, nextLinkOrigin: 'http://127.0.0.2:1' });
    try {
      const id = await createConnection(t.call, { type: 'okta', config: { base_url: evil.url, auth_method: 'api_token' }, secrets: { api_token: evil.apiToken } });
      const result = await collect(t.call, id, ['okta.users']);
      expect(result.status).toBe('failed');
      expect(result.error).toMatch(/refused to follow a link to another host/);
    } finally {
      await evil.close();
    }
  });

  it('never returns or logs the secrets', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const id = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'oauth', client_id: 'nope' }, secrets: { private_key: pem, api_token: okta.apiToken } });
    await t.call('POST', `/api/v1/connections/${id}/test`);
    const responses = [await t.call('GET', `/api/v1/connections/${id}`), await t.call('GET', '/api/v1/connections'), await t.call('PATCH', `/api/v1/connections/${id}`, { json: { name: 'renamed', secrets: { api_token: okta.apiToken } } })];
    for (const res of responses) {
      expect(res.status).toBe(200);
      expect(res.text).not.toContain(okta.apiToken);
      expect(res.text).not.toContain('PRIVATE KEY');
    }
    expect(responses[0]!.body.secret_fields).toEqual(['api_token', 'private_key']);
    const logs = t.logs.join('\n');
    expect(logs).not.toContain(okta.apiToken);
    expect(logs).not.toContain(pem.split('\n')[1]!);
    const table = JSON.stringify(await t.hub.db.query('SELECT * FROM secrets'));
    expect(table).not.toContain(okta.apiToken);
  });
});
