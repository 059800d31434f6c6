import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValetTokens } from '../../lib/valet-token.js';
import { parseMasterKey } from '../../lib/sealed-secrets.js';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { startAudigydSimulator, type AudigydSimulator } from '../simulators/audigyd.js';
import { caller, eventually, startTestHub, type TestHub } from '../helpers/hub.js';
import { createConnection } from '../helpers/collect.js';
import { pollLikePowerAutomate } from '../helpers/power-automate.js';
import { OKTA_ASSESSMENT } from '../helpers/fixtures.js';

describe('a job end to end: Okta simulator → okta pack → AUDIGYD simulator, triggered the Power Automate way', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  let audigyd: AudigydSimulator;
  let jobId: string;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_DELIVERY_RETRY_INITIAL_MS: '200', HUB_DELIVERY_RETRY_MAX_MS: '1000' } });
    okta = await startOktaSimulator({ population: { total: 320, admins: 9, adminsWithoutMfa: 2, withoutMfa: 25, deprovisioned: 10 }, rateLimit: false });
    audigyd = await startAudigydSimulator({ assessments: [OKTA_ASSESSMENT], rateLimit: false, uploadRateLimit: false });
    const connection = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token' }, secrets: { api_token: okta.apiToken } });
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'AUDIGYD', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } } });
    expect(destination.status, destination.text).toBe(201);
    expect((await t.call('POST', `/api/v1/destinations/${destination.body.id}/test`)).body).toMatchObject({ ok: true });
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: 'okta', pack: 'okta' } });
    const job = await t.call('POST', '/api/v1/jobs', {
      json: { name: 'okta nightly', connection_id: connection, datasets: ['okta.users', 'okta.password_policies'], mapping_id: mapping.body.id, destination_id: destination.body.id, target: { assessment_id: 'asm_okta' } },
    });
    expect(job.status, job.text).toBe(201);
    jobId = job.body.id;
  });
  afterAll(async () => { await okta?.close(); await audigyd?.close(); await t?.stop(); });

  it('202 → 202 … → 200 without credentials while polling; what arrived matches the source’s truth; one run per Idempotency-Key', async () => {
    const runner = await t.call('POST', '/api/v1/api-keys', { json: { name: 'power automate', scopes: ['runs:write'] } });
    const flow = caller(t.url, runner.body.key);
    // A slow first page, so that the flow sees the run in progress before it ends.
    okta.faults.inject({ kind: 'delay', ms: 2500 }, 1, { path: /^\/api\/v1\/users$/ });
    const trigger = await flow('POST', `/api/v1/jobs/${jobId}/runs`, { headers: { 'idempotency-key': 'flow-run-1' } });
    expect(trigger.status).toBe(202);
    expect(trigger.headers.get('location')).toMatch(new RegExp(`^${t.url}/api/v1/runs/${trigger.body.id}/status\\?token=`));
    expect(Number(trigger.headers.get('retry-after'))).toBeGreaterThan(0);

    const { final, polls, waitedMs } = await pollLikePowerAutomate(trigger, { maxWaitSeconds: 1 });
    expect(waitedMs.length).toBeGreaterThanOrEqual(2);
    expect(polls[0]!.status).toBe(202);
    // Polling hands back the same valet key: a leaked URL's life is not extended by polling it.
    expect(polls[0]!.headers.get('location')).toBe(trigger.headers.get('location'));
    expect(polls.every((p) => p.status === 202 || p.status === 200)).toBe(true); // never a redirect
    expect(final.status).toBe(200);
    const run = final.body;
    expect(run.id).toBe(trigger.body.id);
    // Every hint matches one question (no pack hint is contained in another's): all delivered.
    expect(run.status).toBe('succeeded');
    expect(run.counts).toMatchObject({ evidence: 6, delivered: 6, ambiguous: 0, rejected: 0, failed: 0 });
    expect(run.counts.collected).toBe(okta.truth().users.total + 1);

    const replay = await flow('POST', `/api/v1/jobs/${jobId}/runs`, { headers: { 'idempotency-key': 'flow-run-1' } });
    expect(replay.body.id).toBe(run.id);
    expect((await t.call('GET', `/api/v1/runs?job_id=${jobId}`)).body.data).toHaveLength(1);

    // What AUDIGYD holds, question by question.
    const truth = okta.truth();
    const byQuestion = Object.fromEntries(audigyd.state.evidence.map((e) => [e.questionId, e] as const));
    expect(Object.keys(byQuestion).sort()).toEqual(['q_deprovisioned', 'q_inactive', 'q_lockout', 'q_mfa_admin', 'q_mfa_users', 'q_password_length']);
    const admin = byQuestion.q_mfa_admin!;
    expect(admin.body).toMatchObject({ control_ref: 'Access Control', question_match: 'MFA admin', result: 'fail', source: expect.any(String) });
    const admins = (admin.body.payload as { administrators: { items: { id: string; mfa_enrolled: boolean }[]; total: number } }).administrators;
    expect(admins.items.filter((a) => !a.mfa_enrolled).map((a) => a.id).sort()).toEqual([...truth.admins.idsWithoutMfa].sort());
    expect(byQuestion.q_password_length!.body.result).toBe(truth.passwordPolicy.minLength >= 12 ? 'pass' : 'fail');

    // The users' MFA item went to the users' question, not also to the admins'.
    expect(byQuestion.q_mfa_users!.body).toMatchObject({ question_match: 'MFA user accounts', result: truth.activeUsers.withoutMfa > 0 ? 'fail' : 'pass' });
    expect(run.items.filter((i: { status: string }) => i.status === 'ambiguous')).toEqual([]);

    // The ledger tells the same story, with the destination's ids.
    const ledger = await t.call('GET', `/api/v1/evidence?run_id=${run.id}&status=delivered`);
    expect(ledger.body.data).toHaveLength(6);
    const item = await t.call('GET', `/api/v1/evidence/${ledger.body.data[0].id}`);
    expect(item.body.payload_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(item.body.destination_evidence_ids.length).toBeGreaterThanOrEqual(1);
  });

  it('the valet key reads that run’s status only, and not after it expires', async () => {
    const trigger = await t.call('POST', `/api/v1/jobs/${jobId}/runs`);
    const location = trigger.headers.get('location')!;
    const token = new URL(location).searchParams.get('token')!;
    const anonymous = caller('', null);
    expect([200, 202]).toContain((await anonymous('GET', location)).status);
    expect((await anonymous('GET', `${t.url}/api/v1/runs/${trigger.body.id}?token=${token}`)).status).toBe(401);
    expect((await anonymous('GET', `${t.url}/api/v1/evidence?run_id=${trigger.body.id}&token=${token}`)).status).toBe(401);
    expect((await anonymous('GET', `${t.url}/api/v1/runs/run_someone_else/status?token=${token}`)).status).toBe(401);
    expect((await anonymous('GET', `${t.url}/api/v1/runs/${trigger.body.id}/status?token=${token}x`)).status).toBe(401);

    const masterKey = parseMasterKey(await readFile(path.join(t.dataDir, 'master-key'), 'utf8'));
    const expired = new ValetTokens(masterKey, 24 * 3600, () => Date.now() - 25 * 3600 * 1000).issue(trigger.body.id);
    expect((await anonymous('GET', `${t.url}/api/v1/runs/${trigger.body.id}/status?token=${expired}`)).status).toBe(401);
    // The API key works there too.
    expect([200, 202]).toContain((await t.call('GET', `/api/v1/runs/${trigger.body.id}/status`)).status);
    await eventually(async () => (await t.call('GET', `/api/v1/runs/${trigger.body.id}`)).body.status !== 'running');
  });

  it('a job pinned to a mapping version keeps it after the mapping changes', async () => {
    const job = (await t.call('GET', `/api/v1/jobs/${jobId}`)).body;
    const current = (await t.call('GET', `/api/v1/mappings/${job.mapping_id}`)).body;
    expect((await t.call('PATCH', `/api/v1/jobs/${jobId}`, { json: { mapping_version: current.version } })).status).toBe(200);
    // Version 2 drops every rule but one.
    const v2 = await t.call('PUT', `/api/v1/mappings/${job.mapping_id}`, { json: { rules: current.rules.filter((r: { id: string }) => r.id === 'okta-password-lockout') } });
    expect(v2.body.version).toBe(current.version + 1);

    const pinned = await pollLikePowerAutomate(await t.call('POST', `/api/v1/jobs/${jobId}/runs`), { maxWaitSeconds: 1 });
    expect(pinned.final.body).toMatchObject({ mapping_version: current.version, counts: { evidence: 6 } });

    await t.call('PATCH', `/api/v1/jobs/${jobId}`, { json: { mapping_version: null } });
    const latest = await pollLikePowerAutomate(await t.call('POST', `/api/v1/jobs/${jobId}/runs`), { maxWaitSeconds: 1 });
    expect(latest.final.body).toMatchObject({ mapping_version: current.version + 1, counts: { evidence: 1 } });
  });

  it('refuses bad jobs with pointers: unknown references, bad target, invalid time zone and cron', async () => {
    const job = (await t.call('GET', `/api/v1/jobs/${jobId}`)).body;
    const base = { name: 'x', connection_id: job.connection_id, datasets: job.datasets, mapping_id: job.mapping_id, destination_id: job.destination_id, target: job.target };
    const refs = await t.call('POST', '/api/v1/jobs', { json: { ...base, connection_id: 'conn_nope', datasets: ['okta.users'], mapping_id: 'map_nope', target: { assessment: 1 } } });
    expect(refs.status).toBe(400);
    expect(refs.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(expect.arrayContaining(['/connection_id', '/mapping_id', '/target/assessment_id', '/target/assessment']));
    const tz = await t.call('POST', '/api/v1/jobs', { json: { ...base, schedule: { cron: '0 2 * * *', timezone: 'Mars/Olympus' } } });
    expect(tz.body.errors).toEqual([expect.objectContaining({ pointer: '/schedule/timezone' })]);
    const cron = await t.call('POST', '/api/v1/jobs', { json: { ...base, schedule: { cron: 'every tuesday-ish', timezone: 'UTC' } } });
    expect(cron.status).toBe(400);
    expect(cron.body.errors[0].pointer).toBe('/schedule/cron');
    expect((await t.call('GET', '/api/v1/jobs')).body.data).toHaveLength(1); // nothing half-written
    const daily = await t.call('POST', '/api/v1/jobs', { json: { ...base, name: 'daily', schedule: { cron: '@daily', timezone: 'UTC' } } });
    expect(daily.status, daily.text).toBe(201);
    expect(daily.body.next_run_at).not.toBeNull();
    expect((await t.call('DELETE', `/api/v1/jobs/${daily.body.id}`)).status).toBe(204);
    const inUse = await t.call('DELETE', `/api/v1/mappings/${job.mapping_id}`);
    expect(inUse.status).toBe(409);
    expect(inUse.body.detail).toContain(jobId);
  });
});
