import { afterEach, describe, expect, it } from 'vitest';
import { startGraphSimulator, type GraphSimulator, type GraphSimulatorOptions } from './graph.js';
import { http, manualClock, postForm } from './test-http.js';

const running: GraphSimulator[] = [];
async function start(options: GraphSimulatorOptions = {}): Promise<GraphSimulator> {
  const sim = await startGraphSimulator(options);
  running.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

async function bearer(sim: GraphSimulator): Promise<Record<string, string>> {
  const issued = await postForm<{ access_token: string }>(sim.tokenUrl, { client_id: sim.clientId, client_secret: sim.clientSecret, scope: `${sim.url}/.default`, grant_type: 'client_credentials' });
  expect(issued.status).toBe(200);
  return { authorization: `Bearer ${issued.body.access_token}` };
}

type Page = { value: Record<string, unknown>[]; '@odata.nextLink'?: string };

describe('Graph simulator', () => {
  it('issues client-credential tokens and answers AADSTS errors for a wrong secret, app, tenant or scope', async () => {
    const sim = await start({ users: { total: 20 } });
    const form = { client_id: sim.clientId, client_secret: sim.clientSecret, scope: 'https://graph.microsoft.com/.default', grant_type: 'client_credentials' };
    expect((await postForm(sim.tokenUrl, form)).body).toMatchObject({ token_type: 'Bearer', expires_in: 3599, access_token: expect.any(String) });
    expect(await postForm(sim.tokenUrl, { ...form, client_secret: 'x' })).toMatchObject({ status: 401, body: { error: 'invalid_client', error_codes: [7000215] } });
    expect(await postForm(sim.tokenUrl, { ...form, client_id: 'x' })).toMatchObject({ status: 400, body: { error: 'unauthorized_client', error_codes: [700016] } });
    expect(await postForm(`${sim.url}/other/oauth2/v2.0/token`, form)).toMatchObject({ status: 400, body: { error_codes: [90002] } });
    expect(await postForm(sim.tokenUrl, { ...form, scope: 'User.Read.All' })).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    expect(sim.tokensIssued).toBe(1);
  });

  it('pages with $top and $skiptoken, serves the default property set without $select, and truth() agrees', async () => {
    const sim = await start({ users: { total: 250 } });
    const auth = await bearer(sim);
    const first = await http<Page>(`${sim.url}/v1.0/users`, { headers: auth });
    expect(first.body.value).toHaveLength(100);
    expect(first.body.value[0]).not.toHaveProperty('accountEnabled');
    expect(first.body.value[0]).not.toHaveProperty('signInActivity');
    const ids = new Set<unknown>();
    let url: string | undefined = `${sim.url}/v1.0/users?$select=id,accountEnabled,signInActivity&$top=999`;
    while (url) {
      const page: { body: Page } = await http<Page>(url, { headers: auth });
      for (const user of page.body.value) ids.add(user.id);
      expect(page.body.value[0]).toHaveProperty('signInActivity');
      url = page.body['@odata.nextLink'];
    }
    expect(ids.size).toBe(250);
    expect(await http(`${sim.url}/v1.0/users?$top=1000`, { headers: auth })).toMatchObject({ status: 400, body: { error: { code: 'Request_UnsupportedQuery' } } });
    expect(await http(`${sim.url}/v1.0/users?$select=nope`, { headers: auth })).toMatchObject({ status: 400 });
  });

  it('401 once a token expires; 403 for a missing permission or licence; 429 with Retry-After past the limit', async () => {
    const clock = manualClock();
    const sim = await start({ users: { total: 20 }, clock: clock.now, accessTokenTtlSeconds: 60, rateLimit: { limit: 1, windowMs: 1000 }, licences: { entraPremium: false },
      apps: [{ clientId: 'c', clientSecret: 's', permissions: ['User.Read.All'] }] });
    const issued = await postForm<{ access_token: string }>(sim.tokenUrl, { client_id: 'c', client_secret: 's', scope: `${sim.url}/.default`, grant_type: 'client_credentials' });
    const auth = { authorization: `Bearer ${issued.body.access_token}` };
    expect((await http(`${sim.url}/v1.0/users?$select=id,signInActivity`, { headers: auth })).body).toMatchObject({ error: { code: 'Authorization_RequestDenied' } });
    expect((await http(`${sim.url}/v1.0/deviceManagement/managedDevices`, { headers: auth })).body).toMatchObject({ error: { code: 'Forbidden', message: expect.stringContaining('DeviceManagementManagedDevices.Read.All') } });
    const throttled = await http(`${sim.url}/v1.0/users`, { headers: auth });
    expect(throttled).toMatchObject({ status: 429, headers: { 'retry-after': '1' }, body: { error: { code: 'TooManyRequests' } } });
    clock.advance(61_000);
    expect(await http(`${sim.url}/v1.0/users`, { headers: auth })).toMatchObject({ status: 401, body: { error: { code: 'InvalidAuthenticationToken' } } });

    const full = await start({ users: { total: 20 }, licences: { entraPremium: false } });
    const fullAuth = await bearer(full);
    expect((await http(`${full.url}/v1.0/reports/authenticationMethods/userRegistrationDetails`, { headers: fullAuth })).body).toMatchObject({ error: { code: 'Authentication_RequestFromNonPremiumTenantOrB2CTenant' } });
  });

  it('truth() counts what its options ask for', async () => {
    const sim = await start({ users: { total: 100, withoutMfa: 5, admins: 3, adminsWithoutMfa: 2, staleGuests: 2 }, devices: { total: 40, noncompliant: 3, unencrypted: 2, staleSync: 4, outdatedOs: 5 }, conditionalAccess: 'reportOnly' });
    const truth = sim.truth();
    expect(truth.enabledMembers.withoutMfa).toBe(7);
    expect(truth.privilegedUsers).toMatchObject({ total: 5, withoutMfa: 2 });
    expect(truth.enabledGuests.staleIds).toHaveLength(2);
    expect(truth.mfaEnforcedForAllUsers).toBe(false);
    expect(truth.devices).toMatchObject({ total: 40, noncompliant: 5, unencrypted: 2, staleSync: 4, outdatedOs: 5 });
  });
});
