import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { startAudigydSimulator, type AudigydSimulator } from '../simulators/audigyd.js';
import { eventually, newWorkspace, startTestHub, type TestHub } from '../helpers/hub.js';
import { createConnection } from '../helpers/collect.js';
import { OKTA_ASSESSMENT } from '../helpers/fixtures.js';

describe('schedules, cancel and the evidence push relay', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  let audigyd: AudigydSimulator;
  let base: { connection_id: string; datasets: string[]; mapping_id: string; destination_id: string; target: object };
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_DELIVERY_RETRY_INITIAL_MS: '200' } });
    okta = await startOktaSimulator({ population: { total: 30 }, rateLimit: false });
    audigyd = await startAudigydSimulator({ assessments: [OKTA_ASSESSMENT], rateLimit: false, uploadRateLimit: false });
    const connection_id = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token', enrich: false }, secrets: { api_token: okta.apiToken } });
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'AUDIGYD', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } } });
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: 'lockout', rules: [{ id: 'count', dataset: 'okta.users', control_ref: 'Access Control', question_match: 'account lockout', title: 'Users at {{dataset}}', mode: 'info', payload: { users: { count: '$' } } }] } });
    base = { connection_id, datasets: ['okta.users'], mapping_id: mapping.body.id, destination_id: destination.body.id, target: { assessment_id: 'asm_okta' } };
  });
  afterAll(async () => { await okta?.close(); await audigyd?.close(); await t?.stop(); });

  it('a scheduled job fires from its Temporal Schedule; a disabled one does not; deleting removes the schedule', async () => {
    const on = await t.call('POST', '/api/v1/jobs', { json: { ...base, name: 'every 2s', schedule: { cron: '@every 2s', timezone: 'Europe/Paris' } } });
    expect(on.status, on.text).toBe(201);
    expect(new Date(on.body.next_run_at).getTime()).toBeGreaterThan(Date.now() - 1000);
    const off = await t.call('POST', '/api/v1/jobs', { json: { ...base, name: 'disabled', enabled: false, schedule: { cron: '@every 2s', timezone: 'UTC' } } });
    expect(off.body.next_run_at).toBeNull();

    const scheduled = await eventually(async () => {
      const runs = await t.call('GET', `/api/v1/runs?job_id=${on.body.id}&status=succeeded`);
      return runs.body.data.length >= 1 ? runs.body.data : null;
    }, { timeoutMs: 30_000, intervalMs: 500 });
    expect(scheduled[0]).toMatchObject({ trigger: 'schedule', job_id: on.body.id, counts: { delivered: 1 } });
    expect((await t.call('GET', `/api/v1/runs?job_id=${off.body.id}`)).body.data).toEqual([]);

    // Pausing by disabling, then deleting: no more runs.
    expect((await t.call('PATCH', `/api/v1/jobs/${on.body.id}`, { json: { enabled: false } })).body.next_run_at).toBeNull();
    expect((await t.call('DELETE', `/api/v1/jobs/${on.body.id}`)).status).toBe(204);
    const client = await t.hub.temporalClient();
    await expect(client.schedule.getHandle(`job-${on.body.id}`).describe()).rejects.toThrow();
    await t.call('DELETE', `/api/v1/jobs/${off.body.id}`);
  });

  it('cancel stops a run cleanly: it ends as cancelled', async () => {
    const job = await t.call('POST', '/api/v1/jobs', { json: { ...base, name: 'to cancel' } });
    okta.faults.inject({ kind: 'delay', ms: 4000 }, 1, { path: /^\/api\/v1\/users$/ });
    const trigger = await t.call('POST', `/api/v1/jobs/${job.body.id}/runs`);
    await eventually(async () => (await t.call('GET', `/api/v1/runs/${trigger.body.id}`)).body.status === 'running');
    expect((await t.call('POST', `/api/v1/runs/${trigger.body.id}/cancel`)).status).toBe(202);
    const run = await eventually(async () => {
      const res = await t.call('GET', `/api/v1/runs/${trigger.body.id}`);
      return res.body.status === 'cancelled' ? res.body : null;
    }, { timeoutMs: 30_000 });
    expect(run.ended_at).not.toBeNull();
  });

  it('POST /evidence/push relays to the destination durably, once per title + source + collected_at', async () => {
    const body = {
      destination_id: base.destination_id, target: { assessment_id: 'asm_okta' }, control_ref: 'Access Control', question_match: 'MFA admin',
      title: 'Okta export from a flow', source: 'power-automate', result: 'pass', payload: { admins: 4 }, collected_at: '2026-11-20T10:00:00Z',
    };
    const first = await t.call('POST', '/api/v1/evidence/push', { json: body });
    expect(first.status, first.text).toBe(202);
    expect(first.headers.get('location')).toBe(`/api/v1/evidence/${first.body.id}`);
    const delivered = await eventually(async () => {
      const res = await t.call('GET', first.headers.get('location')!);
      return res.body.status === 'delivered' ? res.body : null;
    });
    expect(delivered.destination_evidence_ids).toHaveLength(1);
    const again = await t.call('POST', '/api/v1/evidence/push', { json: body });
    expect(again.body.id).toBe(first.body.id);
    expect(audigyd.state.evidence.filter((e) => e.title === 'Okta export from a flow')).toHaveLength(1);

    const bad = await t.call('POST', '/api/v1/evidence/push', { json: { ...body, target: {}, result: 'maybe' } });
    expect(bad.status).toBe(400);
    const writer = await t.call('POST', '/api/v1/api-keys', { json: { name: 'reader', scopes: ['evidence:read'] } });
    expect((await t.call('POST', '/api/v1/evidence/push', { key: writer.body.key, json: body })).status).toBe(403);
    const other = await newWorkspace(t, 'push-other');
    expect((await other.call('GET', `/api/v1/evidence/${first.body.id}`)).status).toBe(404);
    expect((await other.call('POST', '/api/v1/evidence/push', { json: body })).status).toBe(400);
  });

  it('a job on a push connection maps and delivers the records its trigger supplies', async () => {
    const connection = await createConnection(t.call, { type: 'push', config: { datasets: [{ name: 'admins' }] } });
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: 'pushed', rules: [{ id: 'pushed-admins', dataset: 'push.admins', control_ref: 'Access Control', question_match: 'MFA admin', title: 'Admins from the flow: {{matched}} of {{count}} with MFA', pass_when: [{ all: { field: 'mfa', eq: true } }], payload: { admins: { list: '$[*]', fields: ['login', 'mfa'] } } }] } });
    const job = await t.call('POST', '/api/v1/jobs', { json: { ...base, name: 'pushed', connection_id: connection, datasets: ['push.admins'], mapping_id: mapping.body.id } });
    expect(job.status, job.text).toBe(201);

    expect((await t.call('POST', `/api/v1/jobs/${job.body.id}/runs`)).body.errors[0]).toMatchObject({ pointer: '/input' });
    const notArray = await t.call('POST', `/api/v1/jobs/${job.body.id}/runs`, { json: { input: { 'push.admins': 'x' } } });
    expect(notArray.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(['/input/push.admins']);
    const unknown = await t.call('POST', `/api/v1/jobs/${job.body.id}/runs`, { json: { input: { 'push.admins': [], 'push.other': [] } } });
    expect(unknown.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(['/input/push.other']);

    const trigger = await t.call('POST', `/api/v1/jobs/${job.body.id}/runs`, { json: { input: { 'push.admins': [{ login: 'ann', mfa: true }, { login: 'bob', mfa: false }] } } });
    expect(trigger.status, trigger.text).toBe(202);
    const run = await eventually(async () => {
      const res = await t.call('GET', `/api/v1/runs/${trigger.body.id}`);
      return ['queued', 'running'].includes(res.body.status) ? null : res.body;
    });
    expect(run).toMatchObject({ status: 'succeeded', counts: { collected: 2, evidence: 1, delivered: 1 } });
    const arrived = audigyd.state.evidence.find((e) => e.title?.startsWith('Admins from the flow'))!;
    expect(arrived).toMatchObject({ result: 'fail', title: 'Admins from the flow: 1 of 2 with MFA — not met: pass_when[0] (all)' });
  });
});
