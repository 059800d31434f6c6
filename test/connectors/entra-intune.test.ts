import { generateKeyPairSync, createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../connectors/errors.js';
import { OutboundHttp } from '../../connectors/http-client.js';
import { entraConnector } from '../../connectors/entra/index.js';
import { intuneConnector } from '../../connectors/intune/index.js';
import type { GraphClient } from '../../connectors/microsoft-graph/client.js';
import type { ConnectorContext, JsonValue, SourceConnector } from '../../connectors/types.js';
import { createLogger } from '../../lib/logger.js';
import { startGraphSimulator, GRAPH_PERMISSIONS, type GraphSimulator, type GraphSimulatorOptions } from '../simulators/graph.js';

/**
 * The entra and intune connectors against the Graph simulator, as the collection activity
 * drives them (open → pages from a cursor), without Temporal: paging, throttling, token
 * expiry, certificate credentials, permission and licence errors.
 */

let http: OutboundHttp;
beforeAll(() => { http = new OutboundHttp({ allowPrivateNetworks: true }); });
afterAll(async () => { await http.close(); });

const running: GraphSimulator[] = [];
async function start(options: GraphSimulatorOptions = {}): Promise<GraphSimulator> {
  const sim = await startGraphSimulator(options);
  running.push(sim);
  return sim;
}
afterAll(async () => { await Promise.all(running.map((s) => s.close())); });

function context(sim: GraphSimulator, config: Record<string, unknown> = {}, secrets: Record<string, string> = { client_secret: sim.clientSecret }, sleeps: number[] = []): ConnectorContext {
  return {
    config: { tenant_id: sim.tenantId, client_id: sim.clientId, authority_url: sim.url, graph_url: sim.url, ...config },
    secrets, http, log: createLogger('silent'), heartbeat: () => undefined,
    sleep: (ms) => { sleeps.push(ms); return new Promise((resolve) => setTimeout(resolve, ms)); },
  };
}

async function collectAll(connector: SourceConnector<GraphClient>, ctx: ConnectorContext, dataset: string, cursor: JsonValue | null = null): Promise<{ records: Record<string, unknown>[]; pages: number; cursors: (JsonValue | null)[] }> {
  const session = connector.open(ctx);
  const records: Record<string, unknown>[] = [];
  const cursors: (JsonValue | null)[] = [];
  for await (const page of connector.datasets[dataset]!.pages(session, cursor, { since: null, now: new Date() })) {
    records.push(...(page.records as Record<string, unknown>[]));
    cursors.push(page.next);
  }
  return { records, pages: cursors.length, cursors };
}

const graphRequests = (sim: GraphSimulator, path: string) => sim.requests.filter((r) => r.path === `/v1.0${path}`);

describe('entra connector against the Graph simulator', () => {
  let sim: GraphSimulator;
  beforeAll(async () => {
    sim = await start({ users: { total: 260, disabled: 6, guests: 5, staleGuests: 2, staleSignIns: 4, neverSignedIn: 3, withoutMfa: 9, admins: 5, adminsWithoutMfa: 2 } });
  });

  it('pages users with $select through @odata.nextLink, each once, with signInActivity', async () => {
    const { records, pages, cursors } = await collectAll(entraConnector, context(sim, { page_size: 50 }), 'entra.users');
    const truth = sim.truth();
    expect(records).toHaveLength(truth.users.total);
    expect(new Set(records.map((r) => r.id)).size).toBe(truth.users.total);
    expect(pages).toBe(6);
    expect(cursors.at(-1)).toBeNull();
    expect(String(cursors[0])).toMatch(new RegExp(`^${sim.url}/v1\\.0/users\\?.*\\$skiptoken=`));
    const first = graphRequests(sim, '/users')[0]!;
    expect(first.query.get('$select')).toContain('signInActivity');
    expect(first.query.get('$top')).toBe('50');
    expect(records.filter((r) => r.account_enabled === false)).toHaveLength(truth.users.disabled);
    expect(records.filter((r) => r.user_type === 'guest')).toHaveLength(truth.users.guests);
    expect(records.filter((r) => r.last_sign_in === null)).toHaveLength(3);
  });

  it('resumes from a stored nextLink: the first page is not fetched again', async () => {
    const whole = await collectAll(entraConnector, context(sim, { page_size: 100 }), 'entra.users');
    const before = graphRequests(sim, '/users').length;
    const resumed = await collectAll(entraConnector, context(sim, { page_size: 100 }), 'entra.users', whole.cursors[0]!);
    expect(resumed.records.map((r) => r.id)).toEqual(whole.records.slice(100).map((r) => r.id));
    expect(graphRequests(sim, '/users').slice(before).every((r) => r.query.has('$skiptoken'))).toBe(true);
  });

  it('joins MFA registration with the account state; directory roles carry privileged holders’ MFA', async () => {
    const truth = sim.truth();
    const { records } = await collectAll(entraConnector, context(sim, { page_size: 120 }), 'entra.mfa_registration');
    expect(records).toHaveLength(truth.users.total);
    const members = records.filter((r) => r.account_enabled === true && r.user_type === 'member');
    expect(members).toHaveLength(truth.enabledMembers.total);
    expect(members.filter((r) => r.is_mfa_registered !== true).map((r) => r.id).sort()).toEqual([...truth.enabledMembers.idsWithoutMfa].sort());

    const roles = (await collectAll(entraConnector, context(sim), 'entra.directory_roles')).records;
    const privilegedUsers = roles.filter((r) => r.privileged && r.principal_type === 'user');
    expect(privilegedUsers).toHaveLength(truth.privilegedUsers.total);
    expect(privilegedUsers.filter((r) => r.mfa_registered !== true).map((r) => r.principal_id).sort()).toEqual([...truth.privilegedUsers.idsWithoutMfa].sort());
    expect(roles.some((r) => r.principal_type === 'servicePrincipal' && r.mfa_registered === null)).toBe(true);
  });

  it('reads Conditional Access and security defaults', async () => {
    const policies = (await collectAll(entraConnector, context(sim), 'entra.conditional_access')).records;
    expect(policies.filter((p) => p.enforces_mfa_for_all_users).map((p) => p.display_name)).toEqual(['Require MFA for all users']);
    const [defaults] = (await collectAll(entraConnector, context(sim), 'entra.security_defaults')).records;
    expect(defaults).toMatchObject({ is_enabled: false, mfa_policy_count: 1, mfa_enforced_for_all_users: true });

    const reportOnly = await start({ users: { total: 20 }, conditionalAccess: 'reportOnly' });
    const [none] = (await collectAll(entraConnector, context(reportOnly), 'entra.security_defaults')).records;
    expect(none).toMatchObject({ is_enabled: false, mfa_policy_count: 0, mfa_enforced_for_all_users: false });
    // Without the P1 licence Conditional Access is not in force: security defaults alone decide.
    const free = await start({ users: { total: 20 }, securityDefaults: true, licences: { entraPremium: false } });
    const [defaultsOnly] = (await collectAll(entraConnector, context(free), 'entra.security_defaults')).records;
    expect(defaultsOnly).toMatchObject({ is_enabled: true, mfa_policy_count: 0, mfa_enforced_for_all_users: true });
  });

  it('waits out 429 and 503 with Retry-After through the pacer, without a request before the announced time', async () => {
    const sleeps: number[] = [];
    sim.faults.inject({ kind: 'rateLimit', retryAfterSeconds: 1 }, 1, { path: '/v1.0/users' });
    sim.faults.inject({ kind: 'status', status: 503 }, 1, { path: '/v1.0/users' });
    const before = sim.requests.length;
    const { records } = await collectAll(entraConnector, context(sim, { page_size: 100 }, undefined, sleeps), 'entra.users');
    expect(records).toHaveLength(sim.truth().users.total);
    const log = sim.requests.slice(before).filter((r) => r.path === '/v1.0/users');
    const throttled = log.findIndex((r) => r.status === 429);
    const unavailable = log.findIndex((r) => r.status === 503);
    expect(throttled).toBeGreaterThanOrEqual(0);
    expect(log[throttled + 1]!.receivedAtMs - log[throttled]!.receivedAtMs).toBeGreaterThanOrEqual(1000);
    expect(log[unavailable + 1]!.receivedAtMs - log[unavailable]!.receivedAtMs).toBeGreaterThanOrEqual(1000);
    expect(sim.throttling.requestsBeforeReset).toBe(0);
    expect(sleeps.filter((ms) => ms >= 900)).toHaveLength(2);
  });

  it('fetches one new token when the token expires mid-collection, and reuses it otherwise', async () => {
    const issued = sim.tokensIssued;
    sim.expireTokens(2); // after the second page
    const { records } = await collectAll(entraConnector, context(sim, { page_size: 50 }), 'entra.users');
    expect(records).toHaveLength(sim.truth().users.total);
    expect(sim.tokensIssued - issued).toBe(2);
    expect(graphRequests(sim, '/users').filter((r) => r.status === 401)).toHaveLength(1);
  });

  it('signs in with a certificate: x5t (SHA-1, RS256) and x5t#S256 (SHA-256, PS256)', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const der = publicKey.export({ type: 'spki', format: 'der' });
    const sha1 = createHash('sha1').update(der).digest('hex').toUpperCase();
    const sha256 = createHash('sha256').update(der).digest('hex');
    const certSim = await start({ users: { total: 20 }, apps: [{ clientId: 'cert-app', certificates: [{ publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), thumbprintSha1: sha1, thumbprintSha256: sha256 }], permissions: GRAPH_PERMISSIONS }] });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    for (const thumbprint of [sha1, sha256]) {
      const ctx = context(certSim, { client_id: 'cert-app' }, { private_key: pem, certificate_thumbprint: thumbprint });
      await entraConnector.test(entraConnector.open(ctx));
      expect((await collectAll(entraConnector, ctx, 'entra.users')).records).toHaveLength(20);
    }
    expect(certSim.tokensIssued).toBe(4);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const wrongKey = context(certSim, { client_id: 'cert-app' }, { private_key: other, certificate_thumbprint: sha1 });
    await expect(entraConnector.test(entraConnector.open(wrongKey))).rejects.toMatchObject({ kind: 'auth', message: expect.stringMatching(/rejected the credentials.*AADSTS700027: Client assertion contains an invalid signature/) });
  });

  it('bad credentials, an unknown app or tenant: readable auth errors that never show the secret', async () => {
    const cases: [Record<string, unknown>, Record<string, string>, RegExp][] = [
      [{}, { client_secret: 'wrong-secret-value' }, /AADSTS7000215: Invalid client secret provided/],
      [{ client_id: 'nobody' }, { client_secret: sim.clientSecret }, /AADSTS700016: Application with identifier 'nobody' was not found/],
      [{ tenant_id: 'elsewhere.onmicrosoft.com' }, { client_secret: sim.clientSecret }, /AADSTS90002: Tenant 'elsewhere.onmicrosoft.com' not found/],
    ];
    for (const [config, secrets, message] of cases) {
      const error = await entraConnector.test(entraConnector.open(context(sim, config, secrets))).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectorError);
      expect(error).toMatchObject({ kind: 'auth', retryable: false, message: expect.stringMatching(message) });
      expect((error as Error).message).not.toContain('wrong-secret-value');
      expect((error as Error).message).not.toMatch(/Trace ID/);
    }
  });

  it('a missing permission or licence is a dataset error naming it, never an empty dataset', async () => {
    const limited = await start({ users: { total: 20 }, apps: [{ clientId: 'reader', clientSecret: 's', permissions: ['User.Read.All'] }] });
    const ctx = context(limited, { client_id: 'reader' }, { client_secret: 's' });
    await entraConnector.test(entraConnector.open(ctx)); // User.Read.All is enough to connect
    await expect(collectAll(entraConnector, ctx, 'entra.users')).rejects.toMatchObject({ kind: 'permission', message: expect.stringMatching(/needs the application permission User\.Read\.All and AuditLog\.Read\.All.*Authorization_RequestDenied/) });
    await expect(collectAll(entraConnector, ctx, 'entra.directory_roles')).rejects.toMatchObject({ kind: 'permission', message: expect.stringMatching(/RoleManagement\.Read\.Directory/) });
    await expect(collectAll(entraConnector, ctx, 'entra.conditional_access')).rejects.toMatchObject({ message: expect.stringMatching(/Policy\.Read\.All/) });
    await expect(collectAll(intuneConnector, ctx, 'intune.managed_devices')).rejects.toMatchObject({ message: expect.stringMatching(/DeviceManagementManagedDevices\.Read\.All/) });

    const unlicensed = await start({ users: { total: 20 }, licences: { entraPremium: false } });
    for (const dataset of ['entra.users', 'entra.mfa_registration', 'entra.directory_roles']) {
      await expect(collectAll(entraConnector, context(unlicensed), dataset), dataset).rejects.toMatchObject({
        kind: 'permission', retryable: false,
        message: expect.stringMatching(/the tenant needs a Microsoft Entra ID P1 or P2 licence.*Authentication_RequestFromNonPremiumTenantOrB2CTenant/),
      });
    }
  });

  it('refuses a nextLink to another host', async () => {
    const ctx = context(sim);
    await expect(collectAll(entraConnector, ctx, 'entra.users', 'http://127.0.0.2:1/v1.0/users?$skiptoken=b0')).rejects.toThrow(/refused to follow a link to another host/);
  });
});

describe('intune connector against the Graph simulator', () => {
  it('pages managed devices with $select and reads compliance policies with their assignments', async () => {
    const sim = await start({ users: { total: 20 }, devices: { total: 230, noncompliant: 4, unencrypted: 3, staleSync: 5, outdatedOs: 6 } });
    const { records, pages } = await collectAll(intuneConnector, context(sim, { page_size: 100 }), 'intune.managed_devices');
    const truth = sim.truth();
    expect(records).toHaveLength(230);
    expect(pages).toBe(3);
    expect(graphRequests(sim, '/deviceManagement/managedDevices')[0]!.query.get('$select')).toContain('complianceState');
    expect(records.filter((r) => r.compliance_state !== 'compliant').map((r) => r.id).sort()).toEqual([...truth.devices.ids.noncompliant].sort());
    expect(records.filter((r) => r.is_encrypted !== true)).toHaveLength(truth.devices.unencrypted);
    expect(records[0]).toMatchObject({ operating_system: expect.any(String), os_version: expect.any(String), ownership: expect.stringMatching(/company|personal/), last_sync: expect.any(String) });

    const policies = (await collectAll(intuneConnector, context(sim), 'intune.compliance_policies')).records;
    expect(policies).toHaveLength(truth.compliancePolicies);
    expect(policies.find((p) => p.platform === 'windows10')).toMatchObject({ requires_encryption: true, os_minimum_version: '10.0.19045', assigned: true });
    expect(policies.find((p) => p.platform === 'androidWorkProfile')).toMatchObject({ assigned: false });

    await intuneConnector.test(intuneConnector.open(context(sim)));
    sim.setLicence('intune', false);
    await expect(collectAll(intuneConnector, context(sim), 'intune.managed_devices')).rejects.toMatchObject({ kind: 'permission', message: expect.stringMatching(/needs a Microsoft Intune licence/) });
  });
});
