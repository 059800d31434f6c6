import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { fetch } from 'undici';
import { CLIENT_ASSERTION_TYPE, startOktaSimulator, type OktaSimulator, type OktaSimulatorOptions } from './okta.js';
import { http, links, manualClock, postForm } from './test-http.js';

type Json = Record<string, unknown>;
type User = { id: string; status: string; lastLogin: string | null; profile: { login: string; email: string } };

const running: OktaSimulator[] = [];
async function start(options: OktaSimulatorOptions = {}): Promise<OktaSimulator> {
  const sim = await startOktaSimulator(options);
  running.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

function ssws(sim: OktaSimulator) {
  return { authorization: `SSWS ${sim.apiToken}` };
}

/** Follows `next` links from `url` and returns every item and every page's status. */
async function walk<T>(url: string, headers: Record<string, string>): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let next: string | undefined = url;
  let pages = 0;
  while (next) {
    const page: Awaited<ReturnType<typeof http<T[]>>> = await http<T[]>(next, { headers });
    expect(page.status).toBe(200);
    pages += 1;
    items.push(...page.body);
    next = page.body.length > 0 ? links(page.headers['link']).next : undefined;
  }
  return { items, pages };
}

describe('Okta users', () => {
  it('lists every non-deprovisioned user exactly once through Link pagination on its own host', async () => {
    const sim = await start({ population: { total: 1000 }, rateLimit: false });
    const first = await http<User[]>(`${sim.url}/api/v1/users?limit=200`, { headers: ssws(sim) });
    const relations = links(first.headers['link']);
    expect(relations.self).toBe(`${sim.url}/api/v1/users?limit=200`);
    expect(relations.next).toMatch(new RegExp(`^${sim.url}/api/v1/users\\?limit=200&after=00u`));

    const { items, pages } = await walk<User>(`${sim.url}/api/v1/users?limit=200`, ssws(sim));
    const truth = sim.truth();
    expect(items).toHaveLength(truth.users.listedByDefault);
    expect(new Set(items.map((u) => u.id)).size).toBe(items.length);
    expect(items.some((u) => u.status === 'DEPROVISIONED')).toBe(false);
    expect(pages).toBe(Math.ceil(truth.users.listedByDefault / 200));
  });

  it('caps limit at 200 and filters by status', async () => {
    const sim = await start({ population: { total: 500, deprovisioned: 30 }, rateLimit: false });
    const capped = await http<User[]>(`${sim.url}/api/v1/users?limit=1000`, { headers: ssws(sim) });
    expect(capped.body).toHaveLength(200);
    const { items } = await walk<User>(`${sim.url}/api/v1/users?filter=${encodeURIComponent('status eq "DEPROVISIONED"')}&limit=7`, ssws(sim));
    expect(items).toHaveLength(30);
    expect(new Set(items.map((u) => u.status))).toEqual(new Set(['DEPROVISIONED']));
    const bad = await http<Json>(`${sim.url}/api/v1/users?search=${encodeURIComponent('profile.login sw "a"')}`, { headers: ssws(sim) });
    expect(bad.status).toBe(400);
    expect(bad.body['errorCode']).toBe('E0000031');
  });

  it('renders users in Okta’s shape', async () => {
    const sim = await start({ population: { total: 5 } });
    const { body } = await http<Json[]>(`${sim.url}/api/v1/users?limit=1`, { headers: ssws(sim) });
    const user = body[0] as Json;
    expect(Object.keys(user)).toEqual(expect.arrayContaining(['id', 'status', 'created', 'activated', 'statusChanged', 'lastLogin', 'lastUpdated', 'passwordChanged', 'profile', '_links']));
    expect(user['id']).toMatch(/^00u[0-9a-z]{17}$/);
    expect(user['profile']).toMatchObject({ login: expect.stringContaining('@example.com'), email: expect.any(String), firstName: expect.any(String), lastName: expect.any(String) });
    expect(user['_links']).toEqual({ self: { href: `${sim.url}/api/v1/users/${String(user['id'])}` } });
  });

  it('can point next links at another host, so a connector can prove it does not follow them', async () => {
    const sim = await start({ population: { total: 10 }, nextLinkOrigin: 'http://evil.invalid:9' });
    const page = await http(`${sim.url}/api/v1/users?limit=2`, { headers: ssws(sim) });
    expect(links(page.headers['link']).next).toMatch(/^http:\/\/evil\.invalid:9\/api\/v1\/users\?/);
    expect(links(page.headers['link']).self).toMatch(new RegExp(`^${sim.url}`));
  });

  it('serves factors and roles that agree with truth()', async () => {
    const sim = await start({ population: { total: 80, admins: 4, adminsWithoutMfa: 2, withoutMfa: 6, neverLoggedIn: 3, staleLogins: 5 }, rateLimit: false });
    const { items } = await walk<User>(`${sim.url}/api/v1/users`, ssws(sim));
    const staleBefore = Date.parse(sim.truth().now) - sim.truth().staleLoginDays * 86_400_000;
    let activeWithoutMfa = 0;
    let stale = 0;
    const adminsWithoutMfa: string[] = [];
    for (const user of items.filter((u) => u.status === 'ACTIVE')) {
      const factors = await http<{ status: string; factorType: string; provider: string }[]>(`${sim.url}/api/v1/users/${user.id}/factors`, { headers: ssws(sim) });
      const roles = await http<{ type: string; label: string }[]>(`${sim.url}/api/v1/users/${user.id}/roles`, { headers: ssws(sim) });
      const mfa = factors.body.some((f) => f.status === 'ACTIVE');
      for (const factor of factors.body) expect(['token:software:totp', 'push', 'sms', 'webauthn']).toContain(factor.factorType);
      if (!mfa) activeWithoutMfa += 1;
      if (!mfa && roles.body.length > 0) adminsWithoutMfa.push(user.id);
      if (user.lastLogin !== null && Date.parse(user.lastLogin) < staleBefore) stale += 1;
    }
    const truth = sim.truth();
    expect(truth.admins.total).toBe(4);
    expect(truth.admins.withoutMfa).toBe(2);
    expect(truth.admins.byRole.SUPER_ADMIN).toBeGreaterThanOrEqual(1);
    expect(adminsWithoutMfa.sort()).toEqual([...truth.admins.idsWithoutMfa].sort());
    // admins without MFA + users without MFA + users who never signed in (and so never enrolled)
    expect(truth.activeUsers.withoutMfa).toBe(2 + 6 + 3);
    expect(activeWithoutMfa).toBe(truth.activeUsers.withoutMfa);
    expect(stale).toBe(truth.activeUsers.staleLogin);
    expect(truth.activeUsers.staleLogin).toBe(5);
  });

  it('answers /users/me with the token owner, a SUPER_ADMIN, and 404 for unknown users', async () => {
    const sim = await start();
    const me = await http<User>(`${sim.url}/api/v1/users/me`, { headers: ssws(sim) });
    const roles = await http<{ type: string }[]>(`${sim.url}/api/v1/users/${me.body.id}/roles`, { headers: ssws(sim) });
    expect(roles.body.map((r) => r.type)).toContain('SUPER_ADMIN');
    const missing = await http<Json>(`${sim.url}/api/v1/users/00unosuchuser0000000/factors`, { headers: ssws(sim) });
    expect(missing.status).toBe(404);
    expect(missing.body['errorCode']).toBe('E0000007');
  });
});

describe('Okta password policy, org and System Log', () => {
  it('lists the PASSWORD policy with the configured settings', async () => {
    const sim = await start({ passwordPolicy: { minLength: 14, historyCount: 24, maxAttempts: 5 } });
    const { body } = await http<Json[]>(`${sim.url}/api/v1/policies?type=PASSWORD`, { headers: ssws(sim) });
    expect(body[0]).toMatchObject({
      type: 'PASSWORD',
      settings: { password: { complexity: { minLength: 14 }, age: { historyCount: 24 }, lockout: { maxAttempts: 5 } } },
    });
    expect(sim.truth().passwordPolicy.minLength).toBe(14);
    expect((await http(`${sim.url}/api/v1/policies`, { headers: ssws(sim) })).status).toBe(400);
    expect((await http(`${sim.url}/api/v1/org`, { headers: ssws(sim) })).body).toMatchObject({ companyName: 'Simulated Org', status: 'ACTIVE' });
  });

  it('pages through a since/until window exactly once and stops without a next link', async () => {
    const now = Date.UTC(2025, 0, 31);
    const sim = await start({ now, logEvents: 500, logSpanDays: 10, rateLimit: false });
    const since = new Date(now - 5 * 86_400_000).toISOString();
    const until = new Date(now).toISOString();
    const { items } = await walk<{ uuid: string; published: string; eventType: string; outcome: Json; actor: Json; target: unknown[] }>(
      `${sim.url}/api/v1/logs?since=${since}&until=${until}&limit=37`,
      ssws(sim),
    );
    expect(items.length).toBeGreaterThan(200);
    expect(items.length).toBeLessThan(300);
    expect(new Set(items.map((e) => e.uuid)).size).toBe(items.length);
    expect(items.every((e) => e.published >= since && e.published < until)).toBe(true);
    expect(items.map((e) => e.published)).toEqual([...items.map((e) => e.published)].sort());
    expect(items[0]).toMatchObject({ eventType: expect.any(String), displayMessage: expect.any(String), severity: expect.any(String), outcome: { result: expect.any(String) }, actor: { type: 'User' } });

    const lastPage = await http(`${sim.url}/api/v1/logs?since=${since}&until=${until}&limit=1000`, { headers: ssws(sim) });
    expect(links(lastPage.headers['link']).next).toBeUndefined();
  });

  it('always sends a next link when polling without until', async () => {
    const now = Date.UTC(2025, 0, 31);
    const sim = await start({ now, logEvents: 10, logSpanDays: 1 });
    const since = new Date(now - 2 * 86_400_000).toISOString();
    const page = await http<unknown[]>(`${sim.url}/api/v1/logs?since=${since}&limit=100`, { headers: ssws(sim) });
    expect(page.body).toHaveLength(10);
    const next = links(page.headers['link']).next as string;
    const empty = await http<unknown[]>(next, { headers: ssws(sim) });
    expect(empty.body).toEqual([]);
    expect(links(empty.headers['link']).next).toBe(next);
  });

  it('filters the log by event type', async () => {
    const now = Date.UTC(2025, 0, 31);
    const sim = await start({ now, logEvents: 300, logSpanDays: 3, rateLimit: false });
    const filter = encodeURIComponent('eventType eq "user.session.start"');
    const { items } = await walk<{ eventType: string }>(`${sim.url}/api/v1/logs?since=2025-01-27T00:00:00Z&until=2025-01-31T00:00:00Z&filter=${filter}`, ssws(sim));
    expect(items.length).toBe(sim.truth().systemLog.byEventType['user.session.start']);
  });
});

describe('Okta authentication', () => {
  it('requires a valid SSWS token', async () => {
    const sim = await start();
    const none = await http<Json>(`${sim.url}/api/v1/users`);
    expect(none.status).toBe(401);
    expect(none.body['errorCode']).toBe('E0000005');
    const wrong = await http<Json>(`${sim.url}/api/v1/users`, { headers: { authorization: 'SSWS nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ errorCode: 'E0000011', errorSummary: 'Invalid token provided', errorCauses: [] });
    expect(wrong.body['errorId']).toEqual(expect.any(String));
    expect(sim.requests.map((r) => [r.hasAuthorization, r.authScheme])).toEqual([
      [false, undefined],
      [true, 'SSWS'],
    ]);
  });

  describe('OAuth 2.0 service app with private_key_jwt', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const clientId = '0oasimulatedclient01';

    function assertion(claims: Json, key: KeyObject = privateKey): string {
      const encode = (value: Json) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const signingInput = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(claims)}`;
      return `${signingInput}.${sign('sha256', Buffer.from(signingInput), key).toString('base64url')}`;
    }

    function claims(sim: OktaSimulator, nowMs: number, overrides: Json = {}): Json {
      return { iss: clientId, sub: clientId, aud: sim.tokenUrl, exp: Math.floor(nowMs / 1000) + 300, jti: randomUUID(), ...overrides };
    }

    function requestToken(sim: OktaSimulator, clientAssertion: string, scope = 'okta.users.read') {
      return postForm<Json>(sim.tokenUrl, { grant_type: 'client_credentials', scope, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: clientAssertion });
    }

    async function startWithApp(ttlSeconds = 3600) {
      const clock = manualClock();
      const sim = await start({ clock: clock.now, accessTokenTtlSeconds: ttlSeconds, serviceApps: [{ clientId, publicKey, scopes: ['okta.users.read', 'okta.logs.read'] }] });
      return { sim, clock };
    }

    it('issues a Bearer token for a correctly signed assertion and accepts it', async () => {
      const { sim, clock } = await startWithApp();
      const token = await requestToken(sim, assertion(claims(sim, clock.now())));
      expect(token.status).toBe(200);
      expect(token.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'okta.users.read', access_token: expect.any(String) });
      const users = await http(`${sim.url}/api/v1/users?limit=1`, { headers: { authorization: `Bearer ${String(token.body['access_token'])}` } });
      expect(users.status).toBe(200);
      expect(sim.state.oauth.tokensIssued).toBe(1);
    });

    it.each([
      ['a key that is not the registered one', (sim: OktaSimulator, now: number) => assertion(claims(sim, now), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey), 'signature is invalid'],
      ['the wrong audience', (sim: OktaSimulator, now: number) => assertion(claims(sim, now, { aud: `${sim.url}/oauth2/default/v1/token` })), 'audience'],
      ['an expired assertion', (sim: OktaSimulator, now: number) => assertion(claims(sim, now, { exp: Math.floor(now / 1000) - 1 })), 'expired'],
      ['an exp over an hour ahead', (sim: OktaSimulator, now: number) => assertion(claims(sim, now, { exp: Math.floor(now / 1000) + 7200 })), 'too far'],
      ['iss different from sub', (sim: OktaSimulator, now: number) => assertion(claims(sim, now, { sub: 'someone-else' })), 'iss and sub'],
      ['an unknown client', (sim: OktaSimulator, now: number) => assertion(claims(sim, now, { iss: 'nobody', sub: 'nobody' })), 'unknown client'],
    ])('rejects %s with invalid_client', async (_, make, reason) => {
      const { sim, clock } = await startWithApp();
      const response = await requestToken(sim, make(sim, clock.now()));
      expect(response.status).toBe(401);
      expect(response.body['error']).toBe('invalid_client');
      expect(String(response.body['error_description'])).toContain(reason);
    });

    it('refuses a replayed assertion and scopes the app was not granted', async () => {
      const { sim, clock } = await startWithApp();
      const once = assertion(claims(sim, clock.now()));
      expect((await requestToken(sim, once)).status).toBe(200);
      expect((await requestToken(sim, once)).body['error_description']).toContain('already been used');
      const tooMuch = await requestToken(sim, assertion(claims(sim, clock.now())), 'okta.users.read okta.users.manage');
      expect(tooMuch.status).toBe(400);
      expect(tooMuch.body['error']).toBe('invalid_scope');
    });

    it('answers 403 for an endpoint outside the token’s scopes and 401 once the token expired', async () => {
      const { sim, clock } = await startWithApp(60);
      const token = await requestToken(sim, assertion(claims(sim, clock.now())));
      const bearer = { authorization: `Bearer ${String(token.body['access_token'])}` };
      const roles = await http<Json>(`${sim.url}/api/v1/users/${sim.state.directory.idOf(0)}/roles`, { headers: bearer });
      expect(roles.status).toBe(403);
      expect(roles.body['errorCode']).toBe('E0000006');
      expect(roles.headers['www-authenticate']).toContain('insufficient_scope');
      clock.advance(61_000);
      const expired = await http<Json>(`${sim.url}/api/v1/users`, { headers: bearer });
      expect(expired.status).toBe(401);
      expect(expired.body['errorCode']).toBe('E0000011');
      expect(expired.headers['www-authenticate']).toContain('The token has expired.');
    });
  });
});

describe('Okta rate limits and faults', () => {
  it('reports X-Rate-Limit-* on every response and enforces the limit per endpoint', async () => {
    const clock = manualClock();
    const sim = await start({ clock: clock.now, rateLimit: { limit: 2, windowMs: 1000 } });
    const reset = String(Math.ceil(clock.now() / 1000) + 1);
    const first = await http(`${sim.url}/api/v1/users`, { headers: ssws(sim) });
    expect(first.headers).toMatchObject({ 'x-rate-limit-limit': '2', 'x-rate-limit-remaining': '1', 'x-rate-limit-reset': reset });
    await http(`${sim.url}/api/v1/users`, { headers: ssws(sim) });
    const limited = await http<Json>(`${sim.url}/api/v1/users`, { headers: ssws(sim) });
    expect(limited.status).toBe(429);
    expect(limited.body['errorCode']).toBe('E0000047');
    expect(limited.headers).toMatchObject({ 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': reset });
    // Another endpoint has its own bucket; the unauthenticated request still counts and still gets headers.
    expect((await http(`${sim.url}/api/v1/logs`, { headers: ssws(sim) })).status).toBe(200);
    expect((await http(`${sim.url}/api/v1/org`)).headers['x-rate-limit-remaining']).toBe('1');

    await http(`${sim.url}/api/v1/users`, { headers: ssws(sim) }); // too early
    clock.advance(1000);
    expect((await http(`${sim.url}/api/v1/users`, { headers: ssws(sim) })).status).toBe(200);
    expect(sim.throttling.events).toHaveLength(2);
    expect(sim.throttling.events[0]).toMatchObject({ bucket: 'GET /api/v1/users', cause: 'limit', requestsBeforeReset: 1 });
    expect(sim.throttling.requestsBeforeReset).toBe(1);
  });

  it('injects 429, 5xx, 401, delays and dropped connections', async () => {
    const sim = await start();
    const url = `${sim.url}/api/v1/users?limit=1`;
    sim.faults.inject({ kind: 'rateLimit', retryAfterSeconds: 2 }, 1, { path: '/api/v1/users' });
    const limited = await http<Json>(url, { headers: ssws(sim) });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['x-rate-limit-reset'])).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 2);
    expect(sim.throttling.events[0]?.cause).toBe('fault');

    sim.faults.inject({ kind: 'status', status: 503 }, 2);
    expect((await http<Json>(url, { headers: ssws(sim) })).body['errorCode']).toBe('E0000009');
    expect((await http(url, { headers: ssws(sim) })).status).toBe(503);
    sim.faults.inject({ kind: 'status', status: 401 });
    expect((await http<Json>(url, { headers: ssws(sim) })).body['errorCode']).toBe('E0000011');

    sim.faults.inject({ kind: 'delay', ms: 150 });
    const started = Date.now();
    expect((await http(url, { headers: ssws(sim) })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    sim.faults.inject({ kind: 'drop' });
    await expect(fetch(url, { headers: ssws(sim) })).rejects.toThrow();
    expect((await http(url, { headers: ssws(sim) })).status).toBe(200);
    expect(sim.requests.map((r) => r.fault ?? null)).toEqual(['rateLimit 2s', 'status 503', 'status 503', 'status 401', 'delay 150ms', 'drop', null]);
  });
});

describe('Okta at scale', () => {
  it('serves 100 000 users in pages of 200 quickly and exactly once', async () => {
    const sim = await start({ population: { total: 100_000 }, rateLimit: false });
    const started = performance.now();
    const ids = new Set<string>();
    let next: string | undefined = `${sim.url}/api/v1/users?limit=200`;
    while (next) {
      const response = await fetch(next, { headers: ssws(sim) });
      const page = (await response.json()) as { id: string }[];
      for (const user of page) ids.add(user.id);
      next = links(response.headers.get('link') ?? undefined).next;
    }
    const elapsedMs = performance.now() - started;
    expect(ids.size).toBe(sim.truth().users.listedByDefault);
    expect(elapsedMs).toBeLessThan(20_000);
  }, 60_000);
});
