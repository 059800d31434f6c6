import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAudigydSimulator, startGitHubSimulator, type AudigydSimulator, type GitHubSimulator } from '../simulators/index.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { createConnection, runToEnd } from '../helpers/collect.js';
import { GITHUB_ASSESSMENT } from '../helpers/github-fixtures.js';

describe('jobs end to end: GitHub simulator → github pack → AUDIGYD simulator', () => {
  let t: TestHub;
  let github: GitHubSimulator;
  let audigyd: AudigydSimulator;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_DELIVERY_RETRY_INITIAL_MS: '200', HUB_DELIVERY_RETRY_MAX_MS: '1000' } });
    github = await startGitHubSimulator({ population: { members: 120, membersWithout2fa: 2, outsideCollaborators: 5, repositories: 50, archived: 4, unprotected: 0, protectedWithoutReviews: 1, dependabotAlerts: 20, staleCriticalOrHigh: 2, openSecretAlerts: 0 } });
    audigyd = await startAudigydSimulator({ assessments: [GITHUB_ASSESSMENT], rateLimit: false, uploadRateLimit: false });
  });
  afterAll(async () => { await github?.close(); await audigyd?.close(); await t?.stop(); });

  async function job(installationId: number): Promise<string> {
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: `AUDIGYD ${installationId}`, type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } } });
    expect(destination.status, destination.text).toBe(201);
    const connection = await createConnection(t.call, {
      type: 'github', config: { org: github.org, api_url: github.apiUrl, auth_method: 'app', app_id: github.appId, installation_id: installationId, page_size: 50 }, secrets: { private_key: github.appPrivateKey },
    });
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: `github ${installationId}`, pack: 'github' } });
    expect(mapping.status, mapping.text).toBe(201);
    const datasets = ['github.org', 'github.members', 'github.repositories', 'github.dependabot_alerts', 'github.secret_scanning_alerts'];
    const created = await t.call('POST', '/api/v1/jobs', { json: { name: `github nightly ${installationId}`, connection_id: connection, datasets, mapping_id: mapping.body.id, destination_id: destination.body.id, target: { assessment_id: 'asm_github' } } });
    expect(created.status, created.text).toBe(201);
    return created.body.id;
  }

  it('every rule’s evidence reaches its question, with results and payloads that match the organization', async () => {
    const run = await runToEnd(t.call, await job(github.installationId));
    expect(run.status, run.error ?? '').toBe('succeeded');
    expect(run.counts).toMatchObject({ evidence: 5, delivered: 5, ambiguous: 0, rejected: 0, failed: 0 });
    const truth = github.truth();
    expect(run.counts.collected).toBe(1 + 125 + 50 + truth.dependabot.open + 0);
    const delivered = (questionId: string) => audigyd.state.evidence.find((e) => e.questionId === questionId)!;
    expect(delivered('q_gh_org_2fa').body).toMatchObject({ control_ref: 'Access Control', question_match: 'organization two-factor', result: 'pass' });
    const members = delivered('q_gh_members_2fa').body as { result: string; payload: { members_without_2fa: { items: { login: string }[] } } };
    expect(members.result).toBe('fail');
    expect(members.payload.members_without_2fa.items.map((m) => m.login).sort()).toEqual([...truth.members.without2fa].sort());
    const reviews = delivered('q_gh_reviews').body as { result: string; payload: { without_reviews: { items: { full_name: string }[] } } };
    expect(reviews.result).toBe('fail');
    expect(reviews.payload.without_reviews.items.map((r) => r.full_name)).toEqual(truth.repositories.activeWithoutReviews);
    const dependabot = delivered('q_gh_dependabot').body as { result: string; payload: { _evaluation: unknown } };
    expect(dependabot.result).toBe('fail');
    for (const id of truth.dependabot.staleCriticalOrHigh) expect(JSON.stringify(dependabot.payload._evaluation)).toContain(id);
    expect(delivered('q_gh_secrets').body).toMatchObject({ result: 'pass' });
  });

  it('an installation without owner access: the 2FA rules report error naming it, the other checks are still delivered, the run is partial', async () => {
    const jobId = await job(github.nonOwnerInstallationId);
    const run = await runToEnd(t.call, jobId);
    expect(run.status).toBe('partial');
    expect(run.error).toMatch(/github\.(org|members) could not be collected: .*organization owners only/);
    const items = (await t.call('GET', `/api/v1/evidence?run_id=${run.id}`)).body.data as { rule_id: string; result: string; status: string; error: string | null }[];
    const byRule = Object.fromEntries(items.map((i) => [i.rule_id, i]));
    for (const rule of ['github-org-2fa-required', 'github-members-2fa']) {
      expect(byRule[rule], rule).toMatchObject({ result: 'error', status: 'failed' });
      expect(byRule[rule]!.error).toMatch(/could not be collected: .*(Administration \(read\)|organization owners only)/);
    }
    for (const rule of ['github-default-branch-reviews', 'github-dependabot-critical-high', 'github-secret-scanning-open']) expect(byRule[rule], rule).toMatchObject({ status: 'delivered' });
    const checks = (await t.call('GET', `/api/v1/checks?job_id=${jobId}`)).body.data as { rule_id: string; status: string }[];
    expect(checks.find((c) => c.rule_id === 'github-members-2fa')?.status).toBe('error');
  });
});
