import { createPrivateKey, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startGitHubSimulator, type GitHubSimulator } from './index.js';

/** The GitHub simulator on its own: App JWT checks, Link paging, rate-limit headers, owner-only data. */

let sim: GitHubSimulator;
beforeAll(async () => { sim = await startGitHubSimulator({ population: { members: 7, owners: 1, membersWithout2fa: 2 }, rateLimit: { limit: 50, windowMs: 60_000 } }); });
afterAll(async () => { await sim.close(); });

function jwt(claims: Record<string, unknown>, alg = 'RS256'): string {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const data = `${encode({ alg, typ: 'JWT' })}.${encode(claims)}`;
  return `${data}.${sign('RSA-SHA256', Buffer.from(data), createPrivateKey(sim.appPrivateKey)).toString('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);
const tokenFor = (token: string, installation = sim.installationId) => request(`${sim.url}/app/installations/${installation}/access_tokens`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
const get = (path: string, token: string) => request(`${sim.url}${path}`, { headers: { authorization: `Bearer ${token}` } });

describe('GitHub simulator', () => {
  it('exchanges a valid App JWT for an installation token and refuses bad ones', async () => {
    const ok = await tokenFor(jwt({ iss: String(sim.appId), iat: now() - 60, exp: now() + 540 }));
    expect(ok.statusCode).toBe(201);
    const body = (await ok.body.json()) as { token: string; expires_at: string };
    expect(body.token).toMatch(/^ghs_/);
    expect(Date.parse(body.expires_at) - Date.now()).toBeGreaterThan(3_500_000);
    const cases: [string, number, RegExp][] = [
      [jwt({ iss: String(sim.appId), iat: now(), exp: now() + 900 }), 401, /too far in the future/],
      [jwt({ iss: String(sim.appId), iat: now() - 700, exp: now() - 10 }), 401, /Expiration time/],
      [jwt({ iss: '999', iat: now(), exp: now() + 60 }), 401, /Issuer/],
      [jwt({ iss: String(sim.appId), iat: now(), exp: now() + 60 }, 'HS256'), 401, /RS256/],
      ['not.a.jwt', 401, /could not be decoded/],
    ];
    for (const [token, status, message] of cases) {
      const res = await tokenFor(token);
      expect(res.statusCode).toBe(status);
      expect(((await res.body.json()) as { message: string }).message).toMatch(message);
    }
    expect((await tokenFor(jwt({ iss: String(sim.appId), iat: now(), exp: now() + 60 }), 4242)).statusCode).toBe(404);
    const members = await get('/orgs/simcorp/members', body.token);
    expect(members.statusCode).toBe(200);
    sim.expireTokens();
    expect((await get('/orgs/simcorp/members', body.token)).statusCode).toBe(401);
  });

  it('pages with an absolute Link header and reports the rate limit on every answer', async () => {
    const res = await get('/orgs/simcorp/members?per_page=3&page=2', sim.token);
    expect(res.statusCode).toBe(200);
    expect(((await res.body.json()) as unknown[]).length).toBe(3);
    expect(res.headers.link).toBe(`<${sim.url}/orgs/simcorp/members?per_page=3&page=3>; rel="next", <${sim.url}/orgs/simcorp/members?per_page=3&page=3>; rel="last", <${sim.url}/orgs/simcorp/members?per_page=3&page=1>; rel="first", <${sim.url}/orgs/simcorp/members?per_page=3&page=1>; rel="prev"`);
    expect(res.headers).toMatchObject({ 'x-ratelimit-limit': '50', 'x-ratelimit-resource': 'core' });
    expect(Number(res.headers['x-ratelimit-reset']) * 1000).toBeGreaterThan(Date.now());
  });

  it('shows the 2FA requirement and filter to owners only', async () => {
    const owner = (await (await get('/orgs/simcorp', sim.token)).body.json()) as Record<string, unknown>;
    expect(owner.two_factor_requirement_enabled).toBe(true);
    const member = (await (await get('/orgs/simcorp', sim.nonOwnerToken)).body.json()) as Record<string, unknown>;
    expect(member).not.toHaveProperty('two_factor_requirement_enabled');
    const filtered = await get('/orgs/simcorp/members?filter=2fa_disabled', sim.token);
    expect(((await filtered.body.json()) as { login: string }[]).map((u) => u.login).sort()).toEqual([...sim.truth().members.without2fa].sort());
    const refused = await get('/orgs/simcorp/members?filter=2fa_disabled', sim.nonOwnerToken);
    expect(refused.statusCode).toBe(422);
    expect(await refused.body.json()).toMatchObject({ message: 'Only owners can use this filter.' });
  });

  it('answers the primary limit with 403 and remaining 0, and a secondary limit with retry-after', async () => {
    sim.secondaryRateLimit({ retryAfterSeconds: 7, status: 429 });
    const secondary = await get('/orgs/simcorp/repos', sim.token);
    expect(secondary.statusCode).toBe(429);
    expect(secondary.headers['retry-after']).toBe('7');
    expect(((await secondary.body.json()) as { message: string }).message).toMatch(/secondary rate limit/);
    let last;
    for (let i = 0; i < 60; i++) {
      last = await get('/orgs/simcorp', sim.token);
      if (last.statusCode !== 200) break;
      await last.body.dump();
    }
    expect(last!.statusCode).toBe(403);
    expect(last!.headers['x-ratelimit-remaining']).toBe('0');
    expect(((await last!.body.json()) as { message: string }).message).toMatch(/API rate limit exceeded/);
  });
});
