import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../connectors/errors.js';
import { OutboundHttp } from '../../connectors/http-client.js';
import { appJwt } from '../../connectors/github/app-jwt.js';
import { githubConnector } from '../../connectors/github/index.js';
import type { ConnectorContext, JsonValue } from '../../connectors/types.js';
import { createLogger } from '../../lib/logger.js';
import { startGitHubSimulator, type GitHubSimulator, type GitHubSimulatorOptions } from '../simulators/index.js';

/**
 * The github connector against the GitHub simulator, as the collection activity drives it
 * (open → pages from a cursor), without Temporal: App and token auth, Link paging and resume,
 * primary and secondary rate limits, token expiry, owner-only data and missing permissions.
 */

let http: OutboundHttp;
beforeAll(() => { http = new OutboundHttp({ allowPrivateNetworks: true }); });
afterAll(async () => { await http.close(); });

const running: GitHubSimulator[] = [];
async function start(options: GitHubSimulatorOptions = {}): Promise<GitHubSimulator> {
  const sim = await startGitHubSimulator(options);
  running.push(sim);
  return sim;
}
afterAll(async () => { await Promise.all(running.map((s) => s.close())); });

const appConfig = (sim: GitHubSimulator, config: Record<string, unknown> = {}) => ({ org: sim.org, api_url: sim.apiUrl, auth_method: 'app', app_id: sim.appId, installation_id: sim.installationId, ...config });

function context(sim: GitHubSimulator, config: Record<string, unknown> = {}, secrets: Record<string, string> = { private_key: sim.appPrivateKey }, sleeps: number[] = [], logs: string[] = []): ConnectorContext {
  const log = createLogger('debug', { write: (line: string) => { logs.push(line); } } as never);
  return {
    config: appConfig(sim, config), secrets, http, log, heartbeat: () => undefined,
    sleep: (ms) => { sleeps.push(ms); return new Promise((resolve) => setTimeout(resolve, ms)); },
  };
}
const tokenContext = (sim: GitHubSimulator, token: string, config: Record<string, unknown> = {}) => context(sim, { auth_method: 'token', app_id: undefined, installation_id: undefined, ...config }, { token });

async function collectAll(ctx: ConnectorContext, dataset: string, cursor: JsonValue | null = null) {
  const session = githubConnector.open(ctx);
  const records: Record<string, unknown>[] = [];
  const cursors: (JsonValue | null)[] = [];
  for await (const page of githubConnector.datasets[dataset]!.pages(session, cursor, { since: null, now: new Date() })) {
    records.push(...(page.records as Record<string, unknown>[]));
    cursors.push(page.next);
  }
  return { records, pages: cursors.length, cursors };
}

const requestsTo = (sim: GitHubSimulator, path: RegExp, from = 0) => sim.requests.slice(from).filter((r) => path.test(r.path));

describe('github connector against the GitHub simulator', () => {
  let sim: GitHubSimulator;
  beforeAll(async () => {
    sim = await start({ population: { members: 45, owners: 3, membersWithout2fa: 4, outsideCollaborators: 12, collaboratorsWithout2fa: 2, repositories: 34, archived: 3, rulesetProtected: 6, protectedWithoutReviews: 2, unprotected: 3, dependabotAlerts: 23, staleCriticalOrHigh: 3, openSecretAlerts: 2, resolvedSecretAlerts: 3 } });
  });

  it('signs an RS256 App JWT with iat 60 s back and exp under 10 minutes ahead', () => {
    const jwt = appJwt({ appId: 1001, privateKeyPem: sim.appPrivateKey, nowMs: 1_700_000_000_000 });
    const [header, payload] = jwt.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(payload).toEqual({ iss: '1001', iat: 1_700_000_000 - 60, exp: 1_700_000_000 + 540 });
    expect(() => appJwt({ appId: 1, privateKeyPem: 'not a key' })).toThrow(/not a valid PEM private key/);
  });

  it('reads the org’s 2FA requirement and marks members and outside collaborators without 2FA, over several Link pages', async () => {
    const ctx = context(sim, { page_size: 10 });
    await githubConnector.test(githubConnector.open(ctx));
    const [org] = (await collectAll(ctx, 'github.org')).records;
    expect(org).toMatchObject({ login: 'simcorp', two_factor_requirement_enabled: true });
    const truth = sim.truth();
    const before = sim.requests.length;
    const { records, pages, cursors } = await collectAll(ctx, 'github.members');
    expect(records).toHaveLength(45 + 12);
    expect(pages).toBe(5 + 2);
    expect(cursors.at(-1)).toBeNull();
    expect(cursors[0]).toMatchObject({ phase: 'members', url: expect.stringContaining(`${sim.url}/orgs/simcorp/members?per_page=10&page=2`) });
    const members = records.filter((r) => r.affiliation === 'member');
    expect(members.filter((r) => !r.two_factor_enabled).map((r) => r.login).sort()).toEqual([...truth.members.without2fa].sort());
    expect(members.filter((r) => r.role === 'admin').map((r) => r.login).sort()).toEqual([...truth.members.owners].sort());
    expect(records.filter((r) => r.affiliation === 'outside_collaborator' && !r.two_factor_enabled).map((r) => r.login).sort()).toEqual([...truth.outsideCollaborators.without2fa].sort());
    expect(requestsTo(sim, /\/members$/, before).filter((r) => r.query.get('filter') === '2fa_disabled')).toHaveLength(1);
    expect(sim.requests.slice(before).every((r) => r.authScheme === 'Bearer')).toBe(true);
  });

  it('reads each active repository’s default branch: branch protection or a ruleset requiring reviews; archived ones are not looked up', async () => {
    const truth = sim.truth();
    const before = sim.requests.length;
    const { records, pages } = await collectAll(context(sim, { page_size: 10 }), 'github.repositories');
    expect(records).toHaveLength(34);
    expect(pages).toBe(4);
    const active = records.filter((r) => !r.archived);
    expect(active).toHaveLength(truth.repositories.active);
    expect(active.filter((r) => r.default_branch_requires_reviews !== true).map((r) => r.full_name).sort()).toEqual([...truth.repositories.activeWithoutReviews].sort());
    expect(active.filter((r) => r.ruleset_requires_reviews)).toHaveLength(truth.repositories.byRuleset);
    expect(active.filter((r) => r.protection_requires_reviews)).toHaveLength(truth.repositories.byBranchProtection);
    expect(active.filter((r) => r.branch_protected && !r.protection_requires_reviews)).toHaveLength(2);
    expect(records.filter((r) => r.archived).every((r) => r.branch_protected === null && r.default_branch_requires_reviews === null)).toBe(true);
    expect(requestsTo(sim, /\/protection$/, before)).toHaveLength(truth.repositories.active);
    expect(requestsTo(sim, /\/rules\/branches\//, before)).toHaveLength(truth.repositories.active);
  });

  it('resumes from a stored next URL: the first page is not fetched again', async () => {
    const whole = await collectAll(context(sim, { page_size: 10 }), 'github.repositories');
    const before = sim.requests.length;
    const resumed = await collectAll(context(sim, { page_size: 10 }), 'github.repositories', whole.cursors[1]!);
    expect(resumed.records.map((r) => r.id)).toEqual(whole.records.slice(20).map((r) => r.id));
    expect(requestsTo(sim, /\/orgs\/simcorp\/repos$/, before).map((r) => r.query.get('page'))).toEqual(['3', '4']);

    const members = await collectAll(context(sim, { page_size: 10 }), 'github.members');
    const fromCollaborators = await collectAll(context(sim, { page_size: 10 }), 'github.members', members.cursors[4]!);
    expect(fromCollaborators.records.map((r) => r.login)).toEqual(members.records.slice(45).map((r) => r.login));
  });

  it('lists open Dependabot alerts (after-cursor paging) and open secret-scanning alerts, never keeping the leaked secret', async () => {
    const truth = sim.truth();
    const dependabot = await collectAll(context(sim, { page_size: 10 }), 'github.dependabot_alerts');
    expect(dependabot.records).toHaveLength(truth.dependabot.open);
    expect(dependabot.pages).toBe(3);
    const staleBefore = Date.parse(truth.now) - truth.alertMaxAgeDays * 86_400_000;
    expect(dependabot.records.filter((a) => ['critical', 'high'].includes(a.severity as string) && Date.parse(a.created as string) < staleBefore).map((a) => a.id).sort()).toEqual([...truth.dependabot.staleCriticalOrHigh].sort());
    const secrets = await collectAll(context(sim), 'github.secret_scanning_alerts');
    expect(secrets.records.map((a) => a.id).sort()).toEqual([...truth.secretScanning.openIds].sort());
    const text = JSON.stringify(secrets.records);
    for (const secret of truth.secretScanning.secrets) expect(text).not.toContain(secret);
  });

  it('waits out a secondary limit (403, then 429, with retry-after) through the injected sleep, never early', async () => {
    const sleeps: number[] = [];
    sim.secondaryRateLimit({ retryAfterSeconds: 1, status: 403, path: '/orgs/simcorp/repos' });
    sim.secondaryRateLimit({ retryAfterSeconds: 1, status: 429, path: '/orgs/simcorp/repos' });
    const before = sim.requests.length;
    const { records } = await collectAll(context(sim, { page_size: 20 }, undefined, sleeps), 'github.repositories');
    expect(records).toHaveLength(34);
    const log = requestsTo(sim, /\/orgs\/simcorp\/repos$/, before);
    expect(log.map((r) => r.status)).toEqual([403, 429, 200, 200]);
    expect(log[1]!.receivedAtMs - log[0]!.receivedAtMs).toBeGreaterThanOrEqual(1000);
    expect(log[2]!.receivedAtMs - log[1]!.receivedAtMs).toBeGreaterThanOrEqual(1000);
    expect(sleeps.filter((ms) => ms >= 900)).toHaveLength(2);
  });

  it('renews an installation token that expires mid-collection once, and reuses it otherwise', async () => {
    const issued = sim.tokensIssued;
    sim.expireTokens(3);
    const before = sim.requests.length;
    const { records } = await collectAll(context(sim, { page_size: 10 }), 'github.members');
    expect(records).toHaveLength(57);
    expect(sim.tokensIssued - issued).toBe(2);
    expect(sim.requests.slice(before).filter((r) => r.status === 401)).toHaveLength(1);
  });

  it('bad credentials: a readable auth error that never shows the credential', async () => {
    const wrongToken = 'github_pat_11WRONG000000_notTheRightTokenValue';
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const cases: [ConnectorContext, string, RegExp][] = [
      [tokenContext(sim, wrongToken), 'auth', /GitHub rejected the credentials \(401\) while reading the organization.*GitHub said: Bad credentials/],
      [context(sim, {}, { private_key: other }), 'auth', /GitHub rejected the credentials \(401\) while obtaining an installation token for installation 2002 of GitHub App 1001.*A JSON web token could not be decoded/],
      [context(sim, { installation_id: 999 }), 'bad_config', /no such installation of this App; check installation_id/],
      [context(sim, {}, { private_key: 'garbage' }), 'bad_config', /not a valid PEM private key/],
    ];
    for (const [ctx, kind, message] of cases) {
      const error = await githubConnector.test(githubConnector.open(ctx)).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectorError);
      expect(error).toMatchObject({ kind, retryable: false, message: expect.stringMatching(message) });
      expect((error as Error).message).not.toContain(wrongToken);
      expect((error as Error).message).not.toContain('PRIVATE KEY');
    }
  });

  it('credentials never reach the log', async () => {
    const logs: string[] = [];
    sim.secondaryRateLimit({ retryAfterSeconds: 1, status: 429, path: '/orgs/simcorp/members' });
    await collectAll(context(sim, { page_size: 50 }, undefined, [], logs), 'github.members');
    await collectAll(context(sim, { auth_method: 'token', app_id: undefined, installation_id: undefined }, { token: sim.token }, [], logs), 'github.org');
    const text = logs.join('\n');
    expect(text).toContain('rate limit reached');
    expect(text).not.toContain(sim.token);
    expect(text).not.toMatch(/ghs_[A-Za-z0-9]{10}/);
    expect(text).not.toContain('PRIVATE KEY');
  });

  it('a non-owner credential: the 2FA data is a dataset error naming the access needed, never a pass', async () => {
    for (const ctx of [tokenContext(sim, sim.nonOwnerToken), context(sim, { installation_id: sim.nonOwnerInstallationId })]) {
      await githubConnector.test(githubConnector.open(ctx)); // connecting needs no owner
      await expect(collectAll(ctx, 'github.org')).rejects.toMatchObject({
        kind: 'permission', retryable: false,
        message: expect.stringMatching(/did not say whether the organization simcorp requires two-factor authentication .*organization owners only.*Administration \(read\)/),
      });
      await expect(collectAll(ctx, 'github.members')).rejects.toMatchObject({
        kind: 'permission', message: expect.stringMatching(/GitHub refused listing members without two-factor authentication \(filter=2fa_disabled\) \(422\): only organization owners may read this.*GitHub said: Only owners can use this filter\./),
      });
      expect((await collectAll(ctx, 'github.repositories')).records).toHaveLength(34);
    }
  });

  it('a missing permission is a dataset error naming it', async () => {
    const limited = await start({ population: { repositories: 3, archived: 0, rulesetProtected: 0, protectedWithoutReviews: 0, unprotected: 0, dependabotAlerts: 1, staleCriticalOrHigh: 0 }, tokens: [{ token: 'github_pat_members_only', permissions: ['members'] }] });
    const ctx = tokenContext(limited, 'github_pat_members_only');
    await expect(collectAll(ctx, 'github.repositories')).rejects.toMatchObject({ kind: 'permission', message: expect.stringMatching(/reading branch protection of simcorp\/.* \(403\): the GitHub App \(or fine-grained token\) needs the permission Repository: Administration \(read\).*Resource not accessible by personal access token/) });
    await expect(collectAll(ctx, 'github.dependabot_alerts')).rejects.toMatchObject({ message: expect.stringMatching(/Dependabot alerts \(read\)/) });
    await expect(collectAll(ctx, 'github.secret_scanning_alerts')).rejects.toMatchObject({ message: expect.stringMatching(/Secret scanning alerts \(read\)/) });
  });

  it('on GitHub Free a private repository cannot be protected: unprotected, not a permission error', async () => {
    const free = await start({ plan: 'free', population: { repositories: 12, archived: 0, rulesetProtected: 3, protectedWithoutReviews: 0, unprotected: 0 } });
    const { records } = await collectAll(context(free), 'github.repositories');
    const truth = free.truth();
    expect(records.filter((r) => !r.default_branch_requires_reviews).map((r) => r.full_name).sort()).toEqual([...truth.repositories.activeWithoutReviews].sort());
    expect(records.filter((r) => r.visibility !== 'public').every((r) => r.branch_protected === false && r.default_branch_requires_reviews === false)).toBe(true);
    expect(free.requests.some((r) => r.status === 403)).toBe(true);
  });

  it('works against GitHub Enterprise Server’s /api/v3, and refuses a next link to another host', async () => {
    const ghes = await start({ pathPrefix: '/api/v3', population: { repositories: 5, archived: 0, rulesetProtected: 1, protectedWithoutReviews: 0, unprotected: 1, dependabotAlerts: 0, staleCriticalOrHigh: 0, closedDependabotAlerts: 0 } });
    expect(ghes.apiUrl).toMatch(/\/api\/v3$/);
    const { records } = await collectAll(context(ghes, { page_size: 2 }), 'github.repositories');
    expect(records.filter((r) => !r.default_branch_requires_reviews)).toHaveLength(1);
    expect(ghes.requests.every((r) => r.path.startsWith('/api/v3/'))).toBe(true);
    await expect(collectAll(context(sim), 'github.repositories', 'http://127.0.0.2:1/orgs/simcorp/repos?page=2')).rejects.toThrow(/refused to follow a link to another host/);
  });
});

describe('github connector under the primary rate limit', () => {
  it('sends no request into an exhausted window: waits for x-ratelimit-reset, also after a 403 with remaining 0', async () => {
    const sim = await start({ rateLimit: { limit: 12, windowMs: 1000 }, population: { repositories: 30, archived: 2 } });
    const sleeps: number[] = [];
    sim.faults.inject({ kind: 'rateLimit', retryAfterSeconds: 1 }, 1, { path: '/orgs/simcorp/repos' });
    const { records } = await collectAll(context(sim, { page_size: 10, concurrency: 4 }, undefined, sleeps), 'github.repositories');
    expect(records).toHaveLength(30);
    expect(sim.throttling.requestsIntoExhaustedBuckets).toEqual([]);
    expect(sim.throttling.requestsBeforeReset).toBe(0);
    expect(sim.throttling.events.filter((e) => e.cause === 'fault')).toHaveLength(1);
    const first = sim.requests.find((r) => r.status === 403)!;
    expect(first.fault).toBe('rateLimit 1s');
    // 3 list pages + 2 look-ups for each of 28 active repositories, 12 a window: at least 5 waits.
    expect(sleeps.length).toBeGreaterThanOrEqual(5);
  }, 60_000);
});
