import { afterEach, describe, expect, it } from 'vitest';
import { startJamfSimulator, type JamfSimulator, type JamfSimulatorOptions } from './jamf.js';
import { http, manualClock, postForm } from './test-http.js';

type Inventory = { totalCount: number; results: Record<string, unknown>[] };
type Computer = {
  id: string;
  udid: string;
  general: { name: string; lastContactTime: string; remoteManagement: { managed: boolean } } | null;
  diskEncryption: { bootPartitionEncryptionDetails: { partitionFileVault2State: string } } | null;
  operatingSystem: { name: string; version: string; build: string } | null;
  security: { firewallEnabled: boolean; sipStatus: string; gatekeeperStatus: string } | null;
  hardware: unknown;
  userAndLocation: unknown;
};

const running: JamfSimulator[] = [];
async function start(options: JamfSimulatorOptions = {}): Promise<JamfSimulator> {
  const sim = await startJamfSimulator(options);
  running.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

async function token(sim: JamfSimulator): Promise<Record<string, string>> {
  const response = await postForm<{ access_token: string }>(`${sim.url}/api/oauth/token`, { client_id: sim.clientId, client_secret: sim.clientSecret, grant_type: 'client_credentials' });
  expect(response.status).toBe(200);
  return { authorization: `Bearer ${response.body.access_token}` };
}

describe('Jamf Pro OAuth client credentials', () => {
  it('issues tokens to known clients, counts them and rejects others', async () => {
    const sim = await start({ tokenTtlSeconds: 120 });
    const issued = await postForm<Record<string, unknown>>(`${sim.url}/api/oauth/token`, { client_id: sim.clientId, client_secret: sim.clientSecret, grant_type: 'client_credentials' });
    expect(issued.body).toMatchObject({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 120, scope: expect.any(String) });
    expect(sim.tokensIssued).toBe(1);
    const wrong = await postForm(`${sim.url}/api/oauth/token`, { client_id: sim.clientId, client_secret: 'nope', grant_type: 'client_credentials' });
    expect(wrong).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const grant = await postForm(`${sim.url}/api/oauth/token`, { client_id: sim.clientId, client_secret: sim.clientSecret, grant_type: 'password' });
    expect(grant).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
    expect(sim.tokensIssued).toBe(1);
  });

  it('answers 401 without a token and once the token expired', async () => {
    const clock = manualClock();
    const sim = await start({ clock: clock.now, tokenTtlSeconds: 60 });
    expect((await http(`${sim.url}/api/v1/jamf-pro-version`)).status).toBe(401);
    const auth = await token(sim);
    expect(await http(`${sim.url}/api/v1/jamf-pro-version`, { headers: auth })).toMatchObject({ status: 200, body: { version: expect.stringMatching(/^11\./) } });
    clock.advance(60_000);
    const expired = await http<{ httpStatus: number; errors: { code: string }[] }>(`${sim.url}/api/v1/computers-inventory`, { headers: auth });
    expect(expired.status).toBe(401);
    expect(expired.body.httpStatus).toBe(401);
  });
});

describe('Jamf Pro computer inventory', () => {
  it('walks every computer exactly once with page/page-size and sort=id:asc', async () => {
    const sim = await start({ fleet: { total: 237 } });
    const auth = await token(sim);
    const ids: string[] = [];
    for (let page = 0; ; page++) {
      const { body } = await http<Inventory>(`${sim.url}/api/v1/computers-inventory?section=GENERAL&page=${page}&page-size=50&sort=id:asc`, { headers: auth });
      expect(body.totalCount).toBe(237);
      if (body.results.length === 0) break;
      ids.push(...body.results.map((c) => String(c['id'])));
    }
    expect(ids).toEqual(Array.from({ length: 237 }, (_, i) => String(i + 1)));
  });

  it('sorts by general.name by default, as Jamf does', async () => {
    const sim = await start({ fleet: { total: 40 } });
    const { body } = await http<{ results: Computer[] }>(`${sim.url}/api/v1/computers-inventory?page-size=100`, { headers: await token(sim) });
    const names = body.results.map((c) => c.general?.name ?? '');
    expect(names).toEqual([...names].sort());
  });

  it('fills only the requested sections, repeated or comma-separated', async () => {
    const sim = await start({ fleet: { total: 3 } });
    const auth = await token(sim);
    const repeated = await http<{ results: Computer[] }>(`${sim.url}/api/v1/computers-inventory?section=GENERAL&section=DISK_ENCRYPTION&page-size=1`, { headers: auth });
    const commas = await http<{ results: Computer[] }>(`${sim.url}/api/v1/computers-inventory?section=GENERAL,DISK_ENCRYPTION&page-size=1`, { headers: auth });
    expect(commas.body).toEqual(repeated.body);
    const computer = repeated.body.results[0] as Computer;
    expect(computer.general).toMatchObject({ name: expect.any(String), lastContactTime: expect.any(String), remoteManagement: { managed: expect.any(Boolean) } });
    expect(computer.diskEncryption?.bootPartitionEncryptionDetails.partitionFileVault2State).toMatch(/^(ENCRYPTED|UNENCRYPTED|ENCRYPTING)$/);
    expect(computer.security).toBeNull();
    expect(computer.operatingSystem).toBeNull();
    expect(computer.hardware).toBeNull();

    const bad = await http<{ errors: { field: string }[] }>(`${sim.url}/api/v1/computers-inventory?section=NOPE`, { headers: auth });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]?.field).toBe('section');
  });

  it('serves data that agrees with truth()', async () => {
    const now = Date.UTC(2025, 2, 1);
    const sim = await start({ now, fleet: { total: 120, unmanaged: 5, unencrypted: 9, firewallDisabled: 11, sipDisabled: 2, gatekeeperDisabled: 3, staleCheckIn: 7, outdatedOs: 13 } });
    const { body } = await http<{ results: Computer[] }>(
      `${sim.url}/api/v1/computers-inventory?section=GENERAL&section=DISK_ENCRYPTION&section=OPERATING_SYSTEM&section=SECURITY&page-size=500&sort=id:asc`,
      { headers: await token(sim) },
    );
    const computers = body.results;
    const count = (test: (c: Computer) => boolean) => computers.filter(test).length;
    const staleBefore = now - 30 * 86_400_000;
    const observed = {
      unmanaged: count((c) => c.general?.remoteManagement.managed === false),
      fileVaultNotEncrypted: count((c) => c.diskEncryption?.bootPartitionEncryptionDetails.partitionFileVault2State !== 'ENCRYPTED'),
      firewallDisabled: count((c) => c.security?.firewallEnabled === false),
      sipDisabled: count((c) => c.security?.sipStatus === 'DISABLED'),
      gatekeeperDisabled: count((c) => c.security?.gatekeeperStatus === 'DISABLED'),
      staleCheckIn: count((c) => Date.parse(c.general?.lastContactTime ?? '') < staleBefore),
      outdatedOs: count((c) => Number(c.operatingSystem?.version.split('.')[0]) < 14),
    };
    expect(observed).toEqual({ unmanaged: 5, fileVaultNotEncrypted: 9, firewallDisabled: 11, sipDisabled: 2, gatekeeperDisabled: 3, staleCheckIn: 7, outdatedOs: 13 });
    expect(sim.truth()).toMatchObject({ computers: 120, ...observed });
  });
});

describe('Jamf Pro rate limits and faults', () => {
  it('answers 429 with Retry-After past the limit and records early retries', async () => {
    const clock = manualClock();
    const sim = await start({ clock: clock.now, rateLimit: { limit: 2, windowMs: 1000 } });
    const auth = await token(sim);
    await http(`${sim.url}/api/v1/jamf-pro-version`, { headers: auth });
    const limited = await http(`${sim.url}/api/v1/jamf-pro-version`, { headers: auth });
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    clock.advance(1000);
    expect((await http(`${sim.url}/api/v1/jamf-pro-version`, { headers: auth })).status).toBe(200);
    expect(sim.throttling.requestsBeforeReset).toBe(0);
  });

  it('injects 5xx and 403 in Jamf’s error shape', async () => {
    const sim = await start();
    const auth = await token(sim);
    sim.faults.inject({ kind: 'status', status: 502 }, 1, { path: '/api/v1/computers-inventory' });
    sim.faults.inject({ kind: 'status', status: 403 });
    expect(await http(`${sim.url}/api/v1/computers-inventory`, { headers: auth })).toMatchObject({ status: 502, body: { httpStatus: 502 } });
    expect(await http(`${sim.url}/api/v1/computers-inventory`, { headers: auth })).toMatchObject({ status: 403, body: { errors: [{ code: 'INVALID_PRIVILEGE' }] } });
    expect((await http(`${sim.url}/api/v1/computers-inventory`, { headers: auth })).status).toBe(200);
  });
});
