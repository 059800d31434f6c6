import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { collect, createConnection, snapshotRecords } from '../helpers/collect.js';
import { expectNoRequestsIntoExhaustedBuckets } from '../helpers/rate-limit.js';

interface UserRecord { id: string; status: string; is_admin: boolean; mfa_enrolled: boolean; admin_roles: string[]; mfa_factors: { id: string; status: string }[] }

/**
 * Rate-limit etiquette under concurrency: with the connector's default enrichment concurrency
 * (several factor and role look-ups in flight per endpoint) against a tight per-endpoint window,
 * not one request may land in a window that is already exhausted, not even at a window's start
 * (when nothing is known yet about the new window) or when responses of the previous window
 * arrive late.
 */
describe('Okta collection under a tight per-endpoint rate limit', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  beforeAll(async () => {
    t = await startTestHub();
    // 60 requests per 2-second window per endpoint; 300 users need ~285 factor and ~285 role look-ups.
    okta = await startOktaSimulator({ population: { total: 300 }, rateLimit: { limit: 60, windowMs: 2000 } });
  });
  afterAll(async () => { await okta?.close(); await t?.stop(); });

  it('collects 300 users with factors and roles at the default concurrency without a request into an exhausted bucket', async () => {
    const id = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token' }, secrets: { api_token: okta.apiToken } });
    const result = await collect(t.call, id, ['okta.users']);
    expect(result.status, result.error ?? '').toBe('succeeded');
    const snapshot = result.snapshots.find((s) => s.dataset === 'okta.users')!;
    const truth = okta.truth();
    expect(snapshot.record_count).toBe(truth.users.total);

    // The records match the simulator's directory, user by user.
    const records = await snapshotRecords<UserRecord>(t.call, snapshot.id);
    const byId = new Map(records.map((r) => [r.id, r]));
    expect(byId.size).toBe(truth.users.total);
    for (const user of okta.state.directory.users()) {
      const record = byId.get(user.id);
      expect(record, user.id).toBeDefined();
      const looked = user.status !== 'DEPROVISIONED';
      expect({ status: record!.status, factors: record!.mfa_factors.map((f) => `${f.id}:${f.status}`), roles: record!.admin_roles }, user.id).toEqual({
        status: user.status,
        factors: looked ? user.factors.map((f) => `${f.id}:${f.status}`) : [],
        roles: looked ? user.roles.map((r) => r.type).sort() : [],
      });
    }
    expect(records.filter((r) => r.is_admin)).toHaveLength(truth.admins.total);
    expect(records.filter((r) => r.is_admin && !r.mfa_enrolled).map((r) => r.id).sort()).toEqual([...truth.admins.idsWithoutMfa].sort());

    // The look-ups needed several windows of each endpoint, so the pacer had to wait at window edges.
    const lookups = okta.requests.filter((r) => r.bucket === 'GET /api/v1/users/{id}/factors');
    expect(lookups.length).toBeGreaterThan(3 * 60);
    expectNoRequestsIntoExhaustedBuckets(okta);
  }, 120_000);

  it('with fewer requests per window than look-ups in flight, only what the window has left is sent', async () => {
    // 5 per 1-second window per endpoint, 8 users' look-ups in flight: every window's start is
    // unknown until one probe answers, and then only the remaining allowance may go.
    const tight = await startOktaSimulator({ population: { total: 40, deprovisioned: 2 }, rateLimit: { limit: 5, windowMs: 1000 } });
    try {
      const id = await createConnection(t.call, { type: 'okta', config: { base_url: tight.url, auth_method: 'api_token' }, secrets: { api_token: tight.apiToken } });
      const result = await collect(t.call, id, ['okta.users']);
      expect(result.status, result.error ?? '').toBe('succeeded');
      const records = await snapshotRecords<UserRecord>(t.call, result.snapshots[0]!.id);
      expect(records).toHaveLength(40);
      const admins = [...tight.state.directory.users()].filter((u) => u.status !== 'DEPROVISIONED' && u.roles.length > 0).map((u) => u.id).sort();
      expect(records.filter((r) => r.is_admin).map((r) => r.id).sort()).toEqual(admins);
      expect(tight.requests.filter((r) => r.bucket === 'GET /api/v1/users/{id}/roles' && r.status === 200)).toHaveLength(38);
      expectNoRequestsIntoExhaustedBuckets(tight);
    } finally {
      await tight.close();
    }
  }, 120_000);

  it('an org whose clock runs behind ours costs at most one probe per endpoint, never a burst', async () => {
    // The org's windows end 40 ms after our clock says (more than the pacer's margin): the first
    // probe after a reset may still land in the exhausted window; the pacer learns the lag from
    // it and waits it out at every later reset.
    const behind = await startOktaSimulator({ population: { total: 300 }, rateLimit: { limit: 60, windowMs: 2000 }, clock: () => Date.now() - 40 });
    try {
      const id = await createConnection(t.call, { type: 'okta', config: { base_url: behind.url, auth_method: 'api_token' }, secrets: { api_token: behind.apiToken } });
      const result = await collect(t.call, id, ['okta.users']);
      expect(result.status, result.error ?? '').toBe('succeeded');
      expect(result.snapshots[0]!.record_count).toBe(300);
      const exhausted = behind.throttling.requestsIntoExhaustedBuckets;
      const perBucket = new Map<string, number>();
      for (const event of exhausted) perBucket.set(event.bucket, (perBucket.get(event.bucket) ?? 0) + 1);
      expect([...perBucket.values()].every((n) => n <= 1), JSON.stringify([...perBucket])).toBe(true);
      expect(behind.throttling.requestsBeforeReset).toBe(0);
    } finally {
      await behind.close();
    }
  }, 120_000);
});
