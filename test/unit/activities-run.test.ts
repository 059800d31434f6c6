import { ApplicationFailure } from '@temporalio/activity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../lib/ids.js';
import { failActivity, inWorkflow, runActivity, startActivityWorld, type ActivityWorld } from '../helpers/activities.js';
import { OKTA_ASSESSMENT } from '../helpers/fixtures.js';
import { startAudigydSimulator, startOktaSimulator, type AudigydSimulator, type OktaSimulator } from '../simulators/index.js';

const RULES = [
  { id: 'users', dataset: 'okta.users', control_ref: 'Access Control', question_match: 'MFA admin', title: 'Okta users', mode: 'info', payload: { users: { count: '$' } } },
  { id: 'lockout', dataset: 'okta.users', control_ref: 'Access Control', question_match: 'account lockout', title: 'Okta users (lockout)', mode: 'info', payload: { users: { count: '$' } } },
];

describe('run activities, built by createActivities over PGlite (MockActivityEnvironment)', () => {
  let w: ActivityWorld;
  let okta: OktaSimulator;
  let audigyd: AudigydSimulator;
  let job: (connectionId: string) => Promise<string>;
  let oktaConnection: string;
  let badConnection: string;

  beforeAll(async () => {
    [w, okta, audigyd] = await Promise.all([
      startActivityWorld(),
      startOktaSimulator({ population: { total: 30 }, rateLimit: false }),
      startAudigydSimulator({ assessments: [OKTA_ASSESSMENT], rateLimit: false, uploadRateLimit: false }),
    ]);
    const oktaConfig = { base_url: okta.url, auth_method: 'api_token', enrich: false };
    oktaConnection = await w.addConnection('connection', 'okta', oktaConfig, { api_token: okta.apiToken });
    badConnection = await w.addConnection('connection', 'okta', oktaConfig, { api_token: 'not-the-token' });
    const destination = await w.addConnection('destination', 'audigyd', { base_url: audigyd.url }, { api_key: audigyd.apiKey });
    const { set } = await w.stores.mappings.create({ id: newId('map'), workspaceId: w.workspaceId, name: 'run activities', rules: RULES, createdBy: 'test' });
    job = async (connectionId) => (await w.stores.jobs.insert(newId('job'), w.workspaceId, {
      name: 'run activities', connection_id: connectionId, datasets: ['okta.users'], mapping_id: set.id, mapping_version: null,
      destination_id: destination, target: { assessment_id: OKTA_ASSESSMENT.id }, schedule: null, enabled: true,
    })).id;
  });
  afterAll(async () => {
    await Promise.all([okta?.close(), audigyd?.close()]);
    await w?.close();
  });

  it('startRun → collectDataset → evaluateRun → deliverEvidenceBatch → finishRun: the items reach AUDIGYD and the run ends succeeded with its counts', async () => {
    const a = w.activities;
    const jobId = await job(oktaConnection);
    const runId = newId('run');
    const info = inWorkflow(`run-${runId}`);

    const { result: plan } = await runActivity(() => a.startRun({ workspaceId: w.workspaceId, jobId, runId, trigger: 'api' }), info);
    expect(plan).toMatchObject({ runId, jobId, connectionId: oktaConnection, datasets: ['okta.users'], mappingVersion: 1 });
    expect(plan.error).toBeUndefined();
    expect(await w.stores.runs.getById(runId)).toMatchObject({ status: 'running', mapping_version: 1, workflow_id: `run-${runId}` });

    const collected = await runActivity(() => a.collectDataset({ workspaceId: w.workspaceId, connectionId: oktaConnection, dataset: 'okta.users', collectionKey: `${runId}:okta.users` }), info);
    expect(collected.result.record_count).toBe(okta.truth().users.total);
    // Progress goes to the server with every page, so that a retry resumes after the last stored one.
    expect(collected.heartbeats.length).toBeGreaterThan(0);

    const { result: pending } = await runActivity(() => a.evaluateRun({ plan, snapshotIds: [collected.result.id] }), info);
    expect(pending).toHaveLength(RULES.length);
    expect((await w.stores.evidence.listForRun(runId)).map((e) => e.status)).toEqual(['pending', 'pending']);

    const before = audigyd.state.evidence.length;
    await runActivity(() => a.deliverEvidenceBatch({ evidenceIds: pending, concurrency: 2 }), info);
    const items = await w.stores.evidence.listForRun(runId);
    expect(items.map((e) => ({ status: e.status, attempts: e.attempts }))).toEqual([{ status: 'delivered', attempts: 1 }, { status: 'delivered', attempts: 1 }]);
    const stored = audigyd.state.evidence.slice(before);
    expect(stored.map((e) => e.title).sort()).toEqual(['Okta users', 'Okta users (lockout)']);
    for (const item of items) expect(stored.map((e) => e.evidenceId)).toEqual(expect.arrayContaining(item.destination_evidence_ids as string[]));

    const { result: status } = await runActivity(() => a.finishRun({ runId }), info);
    expect(status).toBe('succeeded');
    expect(await w.stores.runs.getById(runId)).toMatchObject({ status: 'succeeded', error: null, counts: expect.objectContaining({ evidence: 2, delivered: 2, failed: 0 }) });
    // AUDIGYD keeps no activity stream: the trace is not sent, and that is not a failure.
    expect((await runActivity(() => a.exportRunTrace({ runId }), info)).result).toBe('not_supported');
  });

  it('a collection refused for good (401): collectDataset fails without retry, connection.failed is recorded once however often the step is retried, and the run ends failed with the reason', async () => {
    const a = w.activities;
    const jobId = await job(badConnection);
    const runId = newId('run');
    const info = inWorkflow(`run-${runId}`);
    const { result: plan } = await runActivity(() => a.startRun({ workspaceId: w.workspaceId, jobId, runId, trigger: 'api' }), info);

    const { error } = await failActivity(() => a.collectDataset({ workspaceId: w.workspaceId, connectionId: badConnection, dataset: 'okta.users', collectionKey: `${runId}:okta.users` }), info);
    expect(error).toBeInstanceOf(ApplicationFailure);
    const failure = error as ApplicationFailure;
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/401/);

    const record = () => runActivity(() => a.recordConnectionFailed({ workspaceId: w.workspaceId, connectionId: badConnection, runId, datasets: plan.datasets, error: failure.message }), info);
    await record();
    await record(); // a retried activity
    const events = (await w.stores.events.list(w.workspaceId, { limit: 100, after: null }, { type: 'connection.failed' })).data.filter((e) => e.data.run_id === runId);
    expect(events).toHaveLength(1);
    expect(events[0]!.data).toMatchObject({ connection_id: badConnection, run_id: runId });

    expect((await runActivity(() => a.finishRun({ runId, error: failure.message }), info)).result).toBe('failed');
    expect(await w.stores.runs.getById(runId)).toMatchObject({ status: 'failed', error: failure.message, counts: expect.objectContaining({ evidence: 0 }) });
  });

  it('startRun for a job that no longer exists ends the run failed at once, with the reason', async () => {
    const runId = newId('run');
    const { result: plan } = await runActivity(() => w.activities.startRun({ workspaceId: w.workspaceId, jobId: 'job_gone', runId, trigger: 'api' }), inWorkflow(`run-${runId}`));
    expect(plan.error).toBe('The job job_gone no longer exists.');
    expect(await w.stores.runs.getById(runId)).toMatchObject({ status: 'failed', error: 'The job job_gone no longer exists.' });
  });
});
