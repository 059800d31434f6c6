import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { startAudigydSimulator, type AudigydSimulator } from '../simulators/audigyd.js';
import { newWorkspace, startTestHub, type TestHub } from '../helpers/hub.js';
import { createConnection, runToEnd } from '../helpers/collect.js';
import { OKTA_ASSESSMENT } from '../helpers/fixtures.js';

/** What the console's run page and the mapping studio read: a run's steps, a connection's snapshots, a job's next runs. */
describe('a run’s steps and workflow id, a connection’s snapshots, a schedule’s next runs', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  let audigyd: AudigydSimulator;
  let connectionId: string;
  let jobId: string;
  let destinationId: string;
  let mappingId: string;
  beforeAll(async () => {
    t = await startTestHub();
    okta = await startOktaSimulator({ population: { total: 40, admins: 3, adminsWithoutMfa: 1, withoutMfa: 4, deprovisioned: 2 }, rateLimit: false });
    audigyd = await startAudigydSimulator({ assessments: [OKTA_ASSESSMENT], rateLimit: false, uploadRateLimit: false });
    connectionId = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token' }, secrets: { api_token: okta.apiToken } });
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'AUDIGYD', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } } });
    destinationId = destination.body.id;
    mappingId = (await t.call('POST', '/api/v1/mappings', { json: { name: 'okta', pack: 'okta' } })).body.id;
    const job = await t.call('POST', '/api/v1/jobs', {
      json: { name: 'okta', connection_id: connectionId, datasets: ['okta.users', 'okta.password_policies'], mapping_id: mappingId, destination_id: destinationId, target: { assessment_id: 'asm_okta' } },
    });
    expect(job.status, job.text).toBe(201);
    jobId = job.body.id;
  });
  afterAll(async () => { await okta?.close(); await audigyd?.close(); await t?.stop(); });

  it('lists each dataset’s collection, the evaluation and the delivery, timed, with the snapshots they wrote', async () => {
    const run = await runToEnd(t.call, jobId);
    expect(run.status).toBe('succeeded');
    expect(run.workflow_id).toBe(`run-${run.id}`);
    const names = run.steps.map((s: { name: string }) => s.name);
    expect(names.slice(0, 2).sort()).toEqual(['collect okta.password_policies', 'collect okta.users']);
    expect(names.slice(2)).toEqual(['evaluate', 'deliver']);
    for (const step of run.steps) {
      expect(step.status, step.name).toBe('succeeded');
      expect(new Date(step.ended_at).getTime()).toBeGreaterThanOrEqual(new Date(step.started_at).getTime());
    }
    const users = run.steps.find((s: { name: string }) => s.name === 'collect okta.users');
    expect(users.detail).toBe(`${okta.truth().users.total} records`);
    const snapshot = await t.call('GET', `/api/v1/snapshots/${users.snapshot_ids[0]}?limit=0`);
    expect(snapshot.body).toMatchObject({ dataset: 'okta.users', record_count: okta.truth().users.total });
    expect(run.steps.find((s: { name: string }) => s.name === 'deliver').detail).toBe(`${run.counts.delivered} delivered, 0 rejected, 0 ambiguous, 0 failed`);
    // The evaluation starts after both collections end, and the delivery after the evaluation.
    const evaluate = run.steps.find((s: { name: string }) => s.name === 'evaluate');
    for (const collect of run.steps.slice(0, 2)) expect(new Date(evaluate.started_at).getTime()).toBeGreaterThanOrEqual(new Date(collect.ended_at).getTime());
    // Listings carry the steps too.
    const listed = await t.call('GET', `/api/v1/runs?job_id=${jobId}`);
    expect(listed.body.data[0].steps).toEqual(run.steps);
  });

  it('a collection that fails is a failed step with its reason; its rules are then evaluated as errors, and the run fails', async () => {
    const broken = await createConnection(t.call, { name: 'wrong token', type: 'okta', config: { base_url: okta.url, auth_method: 'api_token' }, secrets: { api_token: 'not-the-token' } });
    const job = await t.call('POST', '/api/v1/jobs', {
      json: { name: 'broken', connection_id: broken, datasets: ['okta.users'], mapping_id: mappingId, destination_id: destinationId, target: { assessment_id: 'asm_okta' } },
    });
    const run = await runToEnd(t.call, job.body.id);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/^okta\.users could not be collected: /);
    expect(run.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([['collect okta.users', 'failed'], ['evaluate', 'succeeded']]);
    expect(run.steps[0]).toMatchObject({ snapshot_ids: [] });
    expect(run.steps[0].detail).toMatch(/401|credential|token|unauthori/i);
    // Nothing is sent, and no rule on the dataset reads as a pass.
    expect(run.items.length).toBeGreaterThan(0);
    expect(run.items.every((i: { result: string; status: string }) => i.result === 'error' && i.status === 'failed')).toBe(true);
  });

  it('lists a connection’s snapshots newest first, by dataset, the latest of each, in pages; other workspaces see none', async () => {
    await runToEnd(t.call, jobId);
    const all = await t.call('GET', `/api/v1/connections/${connectionId}/snapshots`);
    expect(all.status).toBe(200);
    const ids = all.body.data.map((s: { id: string }) => s.id);
    expect(ids.length).toBeGreaterThanOrEqual(4);
    expect([...ids].sort().reverse()).toEqual(ids);
    const users = await t.call('GET', `/api/v1/connections/${connectionId}/snapshots?dataset=okta.users`);
    expect(users.body.data.every((s: { dataset: string }) => s.dataset === 'okta.users')).toBe(true);
    const latest = await t.call('GET', `/api/v1/connections/${connectionId}/snapshots?latest=true`);
    expect(latest.body.data.map((s: { dataset: string }) => s.dataset).sort()).toEqual(['okta.password_policies', 'okta.users']);
    expect(latest.body.data.find((s: { dataset: string }) => s.dataset === 'okta.users').id).toBe(users.body.data[0].id);

    const first = await t.call('GET', `/api/v1/connections/${connectionId}/snapshots?limit=1`);
    expect(first.body.data.map((s: { id: string }) => s.id)).toEqual([ids[0]]);
    const second = await t.call('GET', `/api/v1/connections/${connectionId}/snapshots?limit=1&cursor=${first.body.next_cursor}`);
    expect(second.body.data.map((s: { id: string }) => s.id)).toEqual([ids[1]]);
    expect((await t.call('GET', `/api/v1/connections/${connectionId}/snapshots?cursor=garbage`)).status).toBe(400);

    const other = await newWorkspace(t, 'elsewhere');
    expect((await other.call('GET', `/api/v1/connections/${connectionId}/snapshots`)).status).toBe(404);
  });

  it('gives a scheduled job’s next five runs as Temporal computes them, in the schedule’s time zone; none while disabled', async () => {
    const job = await t.call('POST', '/api/v1/jobs', {
      json: {
        name: 'nightly', connection_id: connectionId, datasets: ['okta.users'], mapping_id: mappingId, destination_id: destinationId, target: { assessment_id: 'asm_okta' },
        schedule: { cron: '30 2 * * 1-5', timezone: 'America/New_York' }, enabled: true,
      },
    });
    expect(job.status, job.text).toBe(201);
    const runs: string[] = job.body.next_runs;
    expect(runs).toHaveLength(5);
    expect(job.body.next_run_at).toBe(runs[0]);
    const local = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    for (const at of runs) {
      const parts = Object.fromEntries(local.formatToParts(new Date(at)).map((p) => [p.type, p.value]));
      expect(`${parts.hour}:${parts.minute}`).toBe('02:30');
      expect(['Mon', 'Tue', 'Wed', 'Thu', 'Fri']).toContain(parts.weekday);
    }
    expect([...runs].sort()).toEqual(runs);
    const paused = await t.call('PATCH', `/api/v1/jobs/${job.body.id}`, { json: { enabled: false } });
    expect(paused.body.next_runs).toEqual([]);
    expect(paused.body.next_run_at).toBeNull();
  });
});
