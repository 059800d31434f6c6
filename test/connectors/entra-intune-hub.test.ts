import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGraphSimulator, type GraphSimulator } from '../simulators/index.js';
import { spawnWorker, startTestHub, type TestHub } from '../helpers/hub.js';
import { collect, createConnection, snapshotRecords, collectAcrossWorkerKill } from '../helpers/collect.js';

/**
 * The entra and intune connectors through the hub: the API in this process, the worker a real
 * OS process on the Temporal dev server (so it can be killed mid-collection), PostgreSQL.
 */

const SECRET = 'graph-secret-value-5f2e9c';
const graphConnection = (sim: GraphSimulator, type: 'entra' | 'intune', config: Record<string, unknown> = {}, secrets: Record<string, string> = { client_secret: SECRET }) => ({
  type, config: { tenant_id: sim.tenantId, client_id: sim.clientId, authority_url: sim.url, graph_url: sim.url, ...config }, secrets,
});

describe('entra and intune through the hub (Temporal, a worker process, PostgreSQL)', () => {
  let t: TestHub;
  let worker: Awaited<ReturnType<typeof spawnWorker>>;
  let sim: GraphSimulator;
  beforeAll(async () => {
    t = await startTestHub({ backend: 'postgres', role: 'api' });
    worker = await spawnWorker(t, { LOG_LEVEL: 'debug' });
    sim = await startGraphSimulator({
      users: { total: 600, disabled: 10, guests: 6, staleGuests: 2, staleSignIns: 5, neverSignedIn: 3, withoutMfa: 12, admins: 4, adminsWithoutMfa: 1 },
      devices: { total: 2_500 },
      apps: [
        { clientId: 'sim-graph-client', clientSecret: SECRET, permissions: ['User.Read.All', 'AuditLog.Read.All', 'Policy.Read.All', 'RoleManagement.Read.Directory', 'DeviceManagementManagedDevices.Read.All', 'DeviceManagementConfiguration.Read.All'] },
        { clientId: 'directory-only', clientSecret: SECRET, permissions: ['User.Read.All'] },
      ],
    });
  }, 180_000);
  afterAll(async () => { await worker?.kill(); await sim?.close(); await t?.stop(); });

  it('test: ok with the app’s secret; a wrong secret is a readable ok:false; the secret is never in responses or logs', async () => {
    const entra = await createConnection(t.call, graphConnection(sim, 'entra'));
    expect((await t.call('POST', `/api/v1/connections/${entra}/test`)).body).toMatchObject({ ok: true });
    const intune = await createConnection(t.call, graphConnection(sim, 'intune'));
    expect((await t.call('POST', `/api/v1/connections/${intune}/test`)).body).toMatchObject({ ok: true });

    const wrong = await createConnection(t.call, graphConnection(sim, 'entra', {}, { client_secret: 'not-the-secret-1234' }));
    const test = await t.call('POST', `/api/v1/connections/${wrong}/test`);
    expect(test.status).toBe(200);
    expect(test.body).toMatchObject({ ok: false, error: { kind: 'auth', status: 401 } });
    expect(test.body.error.message).toMatch(/rejected the credentials.*AADSTS7000215: Invalid client secret provided/);
    expect(test.text).not.toContain('not-the-secret-1234');

    const result = await collect(t.call, entra, ['entra.users']);
    expect(result.status, result.error ?? '').toBe('succeeded');
    const responses = [await t.call('GET', `/api/v1/connections/${entra}`), await t.call('GET', '/api/v1/connections'), await t.call('PATCH', `/api/v1/connections/${entra}`, { json: { name: 'renamed', secrets: { client_secret: SECRET } } })];
    for (const res of responses) {
      expect(res.status).toBe(200);
      expect(res.text).not.toContain(SECRET);
    }
    expect(responses[0]!.body.secret_fields).toEqual(['client_secret']);
    const logs = `${t.logs.join('\n')}\n${worker.output()}`;
    expect(logs).toContain('snapshot stored'); // the worker's debug log is there to search
    expect(logs).not.toContain(SECRET);
    expect(logs).not.toContain('not-the-secret-1234');
    expect(logs).not.toMatch(/Bearer [A-Za-z0-9_-]{20,}/);
    expect(JSON.stringify(await t.hub.db.query('SELECT * FROM secrets'))).not.toContain(SECRET);
  });

  it('pages over several pages, honours a 429 Retry-After, and renews a token that expires mid-collection', async () => {
    const id = await createConnection(t.call, graphConnection(sim, 'entra', { page_size: 100 }));
    const before = sim.requests.length;
    const issued = sim.tokensIssued;
    const throttles = sim.throttling.events.length;
    sim.faults.inject({ kind: 'rateLimit', retryAfterSeconds: 1 }, 1, { path: '/v1.0/reports' });
    sim.expireTokens(4);
    const result = await collect(t.call, id, ['entra.users', 'entra.mfa_registration']);
    expect(result.status, result.error ?? '').toBe('succeeded');
    const truth = sim.truth();
    for (const snapshot of result.snapshots) expect(snapshot.record_count, snapshot.dataset).toBe(truth.users.total);
    const registrations = await snapshotRecords<{ account_enabled: boolean; user_type: string; is_mfa_registered: boolean }>(t.call, result.snapshots.find((s) => s.dataset === 'entra.mfa_registration')!.id);
    expect(registrations.filter((r) => r.account_enabled && r.user_type === 'member' && !r.is_mfa_registered)).toHaveLength(truth.enabledMembers.withoutMfa);
    const pages = sim.requests.slice(before).filter((r) => r.path === '/v1.0/users' && r.status === 200);
    expect(pages.length).toBeGreaterThanOrEqual(6);
    const event = sim.throttling.events[throttles]!;
    expect(event.requestsBeforeReset).toBe(0);
    // The two datasets collect in parallel, each with its session's token: each expired token is renewed once.
    const unauthorized = sim.requests.slice(before).filter((r) => r.status === 401).length;
    expect(unauthorized).toBeGreaterThanOrEqual(1);
    expect(sim.tokensIssued - issued).toBe(2 + unauthorized);
  });

  it('a page that fails once (500) is retried by Temporal from the last stored page', async () => {
    const id = await createConnection(t.call, graphConnection(sim, 'intune', { page_size: 500 }));
    // The first four pages pass (harmless 1 ms delays; the hub stores 2 000 records a part), the fifth answers 500 once.
    sim.faults.inject({ kind: 'delay', ms: 1 }, 4, { path: '/v1.0/deviceManagement/managedDevices' });
    sim.faults.inject({ kind: 'status', status: 500 }, 1, { path: '/v1.0/deviceManagement/managedDevices' });
    const before = sim.requests.length;
    const result = await collect(t.call, id, ['intune.managed_devices']);
    expect(result.status, result.error ?? '').toBe('succeeded');
    const records = await snapshotRecords<{ id: string }>(t.call, result.snapshots[0]!.id);
    expect(records).toHaveLength(2_500);
    expect(new Set(records.map((r) => r.id)).size).toBe(2_500);
    const log = sim.requests.slice(before).filter((r) => r.path === '/v1.0/deviceManagement/managedDevices');
    expect(log.map((r) => r.status)).toEqual([200, 200, 200, 200, 500, 200]);
    expect(log.filter((r) => !r.query.has('$skiptoken'))).toHaveLength(1); // resumed, not restarted
    expect((await t.call('GET', `/api/v1/snapshots/${result.snapshots[0]!.id}?limit=0`)).body.metadata.attempts).toBe(2);
  });

  it('a missing permission or licence fails the dataset with a message naming it, not retried; the pack’s rules on it report error', async () => {
    const limited = await createConnection(t.call, graphConnection(sim, 'entra', { client_id: 'directory-only' }));
    expect((await t.call('POST', `/api/v1/connections/${limited}/test`)).body).toMatchObject({ ok: true });
    const before = sim.requests.length;
    const denied = await collect(t.call, limited, ['entra.users']);
    expect(denied.status).toBe('failed');
    expect(denied.error).toMatch(/entra\.users: Microsoft Graph refused listing users with their sign-in activity \(403\): the app registration needs the application permission User\.Read\.All and AuditLog\.Read\.All/);
    expect(sim.requests.slice(before).filter((r) => r.path === '/v1.0/users')).toHaveLength(1);

    const unlicensed = await startGraphSimulator({ users: { total: 30 }, licences: { entraPremium: false }, apps: [{ clientId: 'sim-graph-client', clientSecret: SECRET, permissions: ['User.Read.All', 'AuditLog.Read.All', 'Policy.Read.All', 'RoleManagement.Read.Directory'] }] });
    try {
      const id = await createConnection(t.call, graphConnection(unlicensed, 'entra'));
      const result = await collect(t.call, id, ['entra.mfa_registration']);
      expect(result.status).toBe('failed');
      expect(result.error).toMatch(/the tenant needs a Microsoft Entra ID P1 or P2 licence \(the authentication methods registration report\)/);
      // The datasets that do not need the licence still collect; rules on the failed ones are errors.
      const defaults = await collect(t.call, id, ['entra.security_defaults', 'entra.directory_roles']);
      expect(defaults.status).toBe('failed'); // directory roles carry MFA registration: the licence again
      const ok = await collect(t.call, id, ['entra.security_defaults']);
      expect(ok.status, ok.error ?? '').toBe('succeeded');
      const data = { 'entra.security_defaults': await snapshotRecords(t.call, ok.snapshots[0]!.id) };
      const pack = (await t.call('GET', '/api/v1/mapping-packs')).body.data.find((p: { id: string }) => p.id === 'entra');
      const preview = await t.call('POST', '/api/v1/mappings/preview', { json: { rules: pack.rules, data } });
      expect(preview.status, preview.text).toBe(200);
      const results = Object.fromEntries(preview.body.evidence.map((e: { rule_id: string; result: string }) => [e.rule_id, e.result]));
      expect(results).toEqual({ 'entra-mfa-registered': 'error', 'entra-privileged-role-mfa': 'error', 'entra-mfa-enforced': 'fail', 'entra-inactive-accounts': 'error', 'entra-guests-reviewed': 'error' });
    } finally {
      await unlicensed.close();
    }
  });

  it.each([
    { dataset: 'entra.users', type: 'entra' as const, path: '/v1.0/users' },
    { dataset: 'intune.managed_devices', type: 'intune' as const, path: '/v1.0/deviceManagement/managedDevices' },
  ])('a worker killed mid-collection ($dataset) resumes from its last page (SIGKILL of the worker process)', async ({ dataset, type, path }) => {
    const big = await startGraphSimulator({ users: { total: 4_000 }, devices: { total: 4_000 }, apps: [{ clientId: 'sim-graph-client', clientSecret: SECRET, permissions: ['User.Read.All', 'AuditLog.Read.All', 'DeviceManagementManagedDevices.Read.All'] }] });
    try {
      const id = await createConnection(t.call, graphConnection(big, type, { page_size: 100 }));
      big.faults.inject({ kind: 'delay', ms: 120 }, 10_000, { path });
      const pages = () => big.requests.filter((r) => r.path === path && r.status === 200).length;
      let result;
      ({ result, worker } = await collectAcrossWorkerKill(t, worker, id, dataset, pages, { LOG_LEVEL: 'debug' }));
      expect(result.status, result.error ?? '').toBe('succeeded');
      const records = await snapshotRecords<{ id: string }>(t.call, result.snapshots[0].id);
      expect(records).toHaveLength(4_000);
      expect(new Set(records.map((r) => r.id)).size).toBe(4_000);
      // Resumed from the stored nextLink, not restarted: the first page was fetched once.
      expect(big.requests.filter((r) => r.path === path && !r.query.has('$skiptoken'))).toHaveLength(1);
      expect(worker.output()).toContain('collection resumes after the last stored page');
      expect((await t.call('GET', `/api/v1/snapshots/${result.snapshots[0].id}?limit=0`)).body.metadata.attempts).toBe(2);
    } finally {
      await big.close();
    }
  }, 300_000);
});
