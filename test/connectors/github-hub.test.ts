import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHubSimulator, type GitHubSimulator } from '../simulators/index.js';
import { spawnWorker, startTestHub, type TestHub } from '../helpers/hub.js';
import { collect, createConnection, snapshotRecords, collectAcrossWorkerKill } from '../helpers/collect.js';

/**
 * The github connector through the hub: the API in this process, the worker a real OS process
 * on the Temporal dev server (so it can be killed mid-collection), PostgreSQL.
 */

const appConnection = (sim: GitHubSimulator, config: Record<string, unknown> = {}, secrets: Record<string, string> = { private_key: sim.appPrivateKey }) => ({
  type: 'github', config: { org: sim.org, api_url: sim.apiUrl, auth_method: 'app', app_id: sim.appId, installation_id: sim.installationId, ...config }, secrets,
});
const tokenConnection = (sim: GitHubSimulator, token: string, config: Record<string, unknown> = {}) => ({
  type: 'github', config: { org: sim.org, api_url: sim.apiUrl, auth_method: 'token', ...config }, secrets: { token },
});
/** A line from the middle of the PEM: the key's material, not its armour. */
const keyMaterial = (pem: string) => pem.split('\n')[5]!;

describe('github through the hub (Temporal, a worker process, PostgreSQL)', () => {
  let t: TestHub;
  let worker: Awaited<ReturnType<typeof spawnWorker>>;
  let sim: GitHubSimulator;
  beforeAll(async () => {
    t = await startTestHub({ backend: 'postgres', role: 'api' });
    worker = await spawnWorker(t, { LOG_LEVEL: 'debug' });
    sim = await startGitHubSimulator({ population: { members: 320, membersWithout2fa: 3, outsideCollaborators: 15, repositories: 60, archived: 5, dependabotAlerts: 30, staleCriticalOrHigh: 2 }, rateLimit: { limit: 40, windowMs: 1000 } });
  }, 180_000);
  afterAll(async () => { await worker?.kill(); await sim?.close(); await t?.stop(); });

  it('test: ok with the App key and with a token; bad credentials are a readable ok:false; credentials never in responses or logs', async () => {
    const app = await createConnection(t.call, appConnection(sim));
    expect((await t.call('POST', `/api/v1/connections/${app}/test`)).body).toMatchObject({ ok: true });
    const token = await createConnection(t.call, tokenConnection(sim, sim.token));
    expect((await t.call('POST', `/api/v1/connections/${token}/test`)).body).toMatchObject({ ok: true });

    const wrong = await createConnection(t.call, tokenConnection(sim, 'github_pat_11WRONG_notTheToken42'));
    const test = await t.call('POST', `/api/v1/connections/${wrong}/test`);
    expect(test.status).toBe(200);
    expect(test.body).toMatchObject({ ok: false, error: { kind: 'auth', status: 401 } });
    expect(test.body.error.message).toMatch(/GitHub rejected the credentials \(401\).*Bad credentials/);
    expect(test.text).not.toContain('github_pat_11WRONG_notTheToken42');

    const result = await collect(t.call, app, ['github.org', 'github.members']);
    expect(result.status, result.error ?? '').toBe('succeeded');
    const responses = [await t.call('GET', `/api/v1/connections/${app}`), await t.call('GET', `/api/v1/connections/${token}`), await t.call('GET', '/api/v1/connections')];
    for (const res of responses) {
      expect(res.status).toBe(200);
      expect(res.text).not.toContain(keyMaterial(sim.appPrivateKey));
      expect(res.text).not.toContain(sim.token);
      expect(res.text).not.toMatch(/ghs_[A-Za-z0-9]{10}/);
    }
    expect(responses[0]!.body.secret_fields).toEqual(['private_key']);
    const logs = `${t.logs.join('\n')}\n${worker.output()}`;
    expect(logs).toContain('snapshot stored');
    for (const secret of [keyMaterial(sim.appPrivateKey), sim.token, 'github_pat_11WRONG_notTheToken42']) expect(logs).not.toContain(secret);
    expect(logs).not.toMatch(/ghs_[A-Za-z0-9]{10}|eyJhbGciOiJSUzI1Ni/);
  });

  it('pages over several pages, waits out a secondary limit and the primary reset, and renews a token that expires mid-collection', async () => {
    const id = await createConnection(t.call, appConnection(sim, { page_size: 25 }));
    const truth = sim.truth();
    // (One dataset at a time: each collection paces its own session, while GitHub counts the installation's requests together.)
    let before = sim.requests.length;
    const issued = sim.tokensIssued;
    sim.secondaryRateLimit({ retryAfterSeconds: 1, status: 403, path: '/orgs/simcorp/members' });
    sim.expireTokens(6);
    const members = await collect(t.call, id, ['github.members']);
    expect(members.status, members.error ?? '').toBe('succeeded');
    expect(members.snapshots[0]!.record_count).toBe(335);
    const records = await snapshotRecords<{ login: string; affiliation: string; two_factor_enabled: boolean }>(t.call, members.snapshots[0]!.id);
    expect(records.filter((m) => m.affiliation === 'member' && !m.two_factor_enabled).map((m) => m.login).sort()).toEqual([...truth.members.without2fa].sort());
    let log = sim.requests.slice(before);
    expect(log.filter((r) => r.path === '/orgs/simcorp/members' && r.status === 200 && !r.query.has('filter') && !r.query.has('role'))).toHaveLength(13);
    const secondary = log.findIndex((r) => r.status === 403 && r.path === '/orgs/simcorp/members');
    expect(log[secondary + 1]!.receivedAtMs - log[secondary]!.receivedAtMs).toBeGreaterThanOrEqual(1000);
    expect(log.filter((r) => r.status === 401)).toHaveLength(1);
    expect(sim.tokensIssued - issued).toBe(2);

    before = sim.requests.length;
    sim.faults.inject({ kind: 'rateLimit', retryAfterSeconds: 1 }, 1, { path: '/orgs/simcorp/repos' });
    const repositories = await collect(t.call, id, ['github.repositories']);
    expect(repositories.status, repositories.error ?? '').toBe('succeeded');
    expect(repositories.snapshots[0]!.record_count).toBe(60);
    log = sim.requests.slice(before);
    expect(log.filter((r) => r.path === '/orgs/simcorp/repos' && r.status === 200)).toHaveLength(3);
    expect(log.some((r) => r.status === 403 && r.fault === 'rateLimit 1s')).toBe(true);
    // 40 requests a second: the pacer waited for every reset, the 403's included.
    expect(sim.throttling.requestsIntoExhaustedBuckets).toEqual([]);
    expect(sim.throttling.requestsBeforeReset).toBe(0);
  });

  it('a page that fails once (502) is retried by Temporal from the last stored page', async () => {
    const big = await startGitHubSimulator({ population: { members: 2_500, membersWithout2fa: 5, outsideCollaborators: 0 }, rateLimit: false });
    try {
      const id = await createConnection(t.call, tokenConnection(big, big.token));
      // Pages 1–24 pass (the hub stores 2 000 records a part), the 25th answers 502 once.
      big.faults.inject({ kind: 'delay', ms: 1 }, 24, { path: /^\/orgs\/simcorp\/members$/ });
      big.faults.inject({ kind: 'status', status: 502 }, 1, { path: /^\/orgs\/simcorp\/members$/ });
      // (The two short owner-only lists come first and use the first two delays.)
      const result = await collect(t.call, id, ['github.members']);
      expect(result.status, result.error ?? '').toBe('succeeded');
      const records = await snapshotRecords<{ id: number }>(t.call, result.snapshots[0]!.id);
      expect(records).toHaveLength(2_500);
      expect(new Set(records.map((r) => r.id)).size).toBe(2_500);
      const pages = big.requests.filter((r) => r.path === '/orgs/simcorp/members' && !r.query.has('filter') && !r.query.has('role'));
      expect(pages.filter((r) => r.status === 502)).toHaveLength(1);
      expect(pages.filter((r) => !r.query.has('page'))).toHaveLength(1); // resumed, not restarted
      expect((await t.call('GET', `/api/v1/snapshots/${result.snapshots[0]!.id}?limit=0`)).body.metadata.attempts).toBe(2);
    } finally {
      await big.close();
    }
  });

  it('a non-owner credential fails the 2FA datasets with a message naming the access needed, not retried; the pack’s rules on them report error', async () => {
    const id = await createConnection(t.call, appConnection(sim, { installation_id: sim.nonOwnerInstallationId }));
    expect((await t.call('POST', `/api/v1/connections/${id}/test`)).body).toMatchObject({ ok: true });
    const before = sim.requests.length;
    const denied = await collect(t.call, id, ['github.members']);
    expect(denied.status).toBe('failed');
    expect(denied.error).toMatch(/github\.members: GitHub refused listing members without two-factor authentication \(filter=2fa_disabled\) \(422\): only organization owners may read this/);
    expect(sim.requests.slice(before).filter((r) => r.query.get('filter') === '2fa_disabled')).toHaveLength(1);
    const org = await collect(t.call, id, ['github.org']);
    expect(org.status).toBe('failed');
    expect(org.error).toMatch(/two_factor_requirement_enabled is shown to organization owners only/);

    const ok = await collect(t.call, id, ['github.repositories', 'github.dependabot_alerts', 'github.secret_scanning_alerts']);
    expect(ok.status, ok.error ?? '').toBe('succeeded');
    const data = Object.fromEntries(await Promise.all(ok.snapshots.map(async (s) => [s.dataset, await snapshotRecords(t.call, s.id)] as const)));
    const pack = (await t.call('GET', '/api/v1/mapping-packs')).body.data.find((p: { id: string }) => p.id === 'github');
    const preview = await t.call('POST', '/api/v1/mappings/preview', { json: { rules: pack.rules, data } });
    expect(preview.status, preview.text).toBe(200);
    const results = Object.fromEntries(preview.body.evidence.map((e: { rule_id: string; result: string }) => [e.rule_id, e.result]));
    expect(results).toEqual({ 'github-org-2fa-required': 'error', 'github-members-2fa': 'error', 'github-default-branch-reviews': 'fail', 'github-dependabot-critical-high': 'fail', 'github-secret-scanning-open': 'fail' });
  });

  it('a worker killed mid-collection resumes from its last page (SIGKILL of the worker process)', async () => {
    const big = await startGitHubSimulator({ population: { members: 4_000, outsideCollaborators: 0 }, rateLimit: false });
    try {
      const id = await createConnection(t.call, tokenConnection(big, big.token));
      const listPath = /^\/orgs\/simcorp\/members$/;
      big.faults.inject({ kind: 'delay', ms: 120 }, 10_000, { path: listPath });
      const pages = () => big.requests.filter((r) => listPath.test(r.path) && r.status === 200).length;
      let result;
      ({ result, worker } = await collectAcrossWorkerKill(t, worker, id, 'github.members', pages, { LOG_LEVEL: 'debug' }));
      expect(result.status, result.error ?? '').toBe('succeeded');
      const records = await snapshotRecords<{ id: number }>(t.call, result.snapshots[0].id);
      expect(records).toHaveLength(4_000);
      expect(new Set(records.map((r) => r.id)).size).toBe(4_000);
      // Resumed from the stored next URL, not restarted: the first page was fetched once.
      expect(big.requests.filter((r) => listPath.test(r.path) && !r.query.has('page') && !r.query.has('filter') && !r.query.has('role'))).toHaveLength(1);
      expect(worker.output()).toContain('collection resumes after the last stored page');
      expect((await t.call('GET', `/api/v1/snapshots/${result.snapshots[0].id}?limit=0`)).body.metadata.attempts).toBe(2);
    } finally {
      await big.close();
    }
  }, 300_000);
});
