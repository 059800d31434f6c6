import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAudigydSimulator, type AudigydSimulator } from '../simulators/audigyd.js';
import { caller, eventually, startTestHub, type TestHub } from '../helpers/hub.js';
import { createConnection } from '../helpers/collect.js';
import { OKTA_ASSESSMENT } from '../helpers/fixtures.js';
import { RunStore } from '../../store/runs.js';
import { newId } from '../../lib/ids.js';

describe('idempotency keys, push identities and what a crash leaves behind', () => {
  let t: TestHub;
  let audigyd: AudigydSimulator;
  let destinationId: string;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_QUEUED_RUN_GRACE: '2s', HUB_DELIVERY_RETRY_INITIAL_MS: '100', HUB_DELIVERY_RETRY_MAX_MS: '300' } });
    audigyd = await startAudigydSimulator({ assessments: [OKTA_ASSESSMENT], rateLimit: false, uploadRateLimit: false });
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'AUDIGYD', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } } });
    destinationId = destination.body.id;
  });
  afterAll(async () => { await audigyd?.close(); await t?.stop(); });

  async function pushJob(name: string) {
    const connection = await createConnection(t.call, { name, type: 'push', config: { datasets: [{ name: 'admins' }] } });
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name, rules: [{ id: 'r', dataset: 'push.admins', control_ref: 'Access Control', question_match: 'MFA admin', title: `${name}: admins`, mode: 'info' }] } });
    const job = await t.call('POST', '/api/v1/jobs', { json: { name, connection_id: connection, datasets: ['push.admins'], mapping_id: mapping.body.id, destination_id: destinationId, target: { assessment_id: 'asm_okta' } } });
    expect(job.status, job.text).toBe(201);
    return { jobId: job.body.id as string, connectionId: connection, mappingId: mapping.body.id as string };
  }

  it('an Idempotency-Key belongs to the API key that sent it: another key with the same Idempotency-Key makes its own webhook and never sees the first secret', async () => {
    const a = caller(t.url, (await t.call('POST', '/api/v1/api-keys', { json: { name: 'a', scopes: ['config:write', 'config:read'] } })).body.key);
    const b = caller(t.url, (await t.call('POST', '/api/v1/api-keys', { json: { name: 'b', scopes: ['config:write', 'config:read'] } })).body.key);
    const body = { url: 'https://hooks.example.com/in', events: ['run.completed'] };
    const first = await a('POST', '/api/v1/webhooks', { json: body, headers: { 'idempotency-key': 'shared-key' } });
    expect(first.status).toBe(201);
    const replay = await a('POST', '/api/v1/webhooks', { json: body, headers: { 'idempotency-key': 'shared-key' } });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.id).toBe(first.body.id);
    const other = await b('POST', '/api/v1/webhooks', { json: body, headers: { 'idempotency-key': 'shared-key' } });
    expect(other.status).toBe(201);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expect(other.body.id).not.toBe(first.body.id);
    expect(other.text).not.toContain(first.body.secret);
  });

  it('a response that could not be stored is not replayable: the retry is a 409 that says so, and the request ran once', async () => {
    // The store refuses to keep the response, as a full disk or a lost connection would.
    await t.hub.db.exec(`
      CREATE FUNCTION refuse_completion() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;
      CREATE TRIGGER refuse_completion BEFORE UPDATE ON idempotency_keys FOR EACH ROW WHEN (NEW.state = 'completed') EXECUTE FUNCTION refuse_completion();`);
    try {
      const body = { name: 'once', scopes: ['runs:read'] };
      const first = await t.call('POST', '/api/v1/api-keys', { json: body, headers: { 'idempotency-key': 'unstorable' } });
      expect(first.status).toBe(201);
      expect(first.headers.get('idempotency-replayable')).toBe('false');
      const retry = await t.call('POST', '/api/v1/api-keys', { json: body, headers: { 'idempotency-key': 'unstorable' } });
      expect(retry.status).toBe(409);
      expect(retry.headers.get('content-type')).toContain('application/problem+json');
      expect(retry.body.detail).toContain('could not be kept');
      const keys = await t.call('GET', '/api/v1/api-keys?limit=500');
      expect(keys.body.data.filter((k: { name: string }) => k.name === 'once')).toHaveLength(1);
    } finally {
      await t.hub.db.exec('DROP TRIGGER refuse_completion ON idempotency_keys; DROP FUNCTION refuse_completion();');
    }
  });

  it('one push identity is one content: another result or payload under the same title + source + collected_at is a 409; an identical push answers with the first item', async () => {
    const body = {
      destination_id: destinationId, target: { assessment_id: 'asm_okta' }, control_ref: 'Access Control', question_match: 'MFA admin',
      title: 'Flow export', source: 'power-automate', result: 'pass', payload: { admins: 4 }, collected_at: '2026-11-20T10:00:00Z',
    };
    const first = await t.call('POST', '/api/v1/evidence/push', { json: body });
    expect(first.status, first.text).toBe(202);
    for (const changed of [{ result: 'fail' }, { payload: { admins: 5 } }]) {
      const res = await t.call('POST', '/api/v1/evidence/push', { json: { ...body, ...changed } });
      expect(res.status, JSON.stringify(changed)).toBe(409);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.detail).toContain('collected_at');
    }
    const same = await t.call('POST', '/api/v1/evidence/push', { json: body });
    expect(same.status).toBe(202);
    expect(same.body.id).toBe(first.body.id);
    await eventually(async () => (await t.call('GET', `/api/v1/evidence/${first.body.id}`)).body.status === 'delivered');
    expect(audigyd.state.evidence.filter((e) => e.title === 'Flow export')).toHaveLength(1);
    expect(audigyd.state.evidence.find((e) => e.title === 'Flow export')).toMatchObject({ result: 'pass' });
  });

  it('a run left queued by an API process that died before starting its workflow is started by a worker', async () => {
    const { jobId } = await pushJob('orphaned');
    const runId = newId('run');
    // What the API had written when it died: the run row, and no workflow.
    await new RunStore(t.hub.db).create({ id: runId, workspaceId: 'default', jobId, trigger: 'api', workflowId: `run-${runId}` });
    const run = await eventually(async () => {
      const res = await t.call('GET', `/api/v1/runs/${runId}`);
      return ['queued', 'running'].includes(res.body.status) ? null : res.body;
    }, { timeoutMs: 60_000 });
    expect(run.status).not.toBe('queued');
    expect(t.logs.some((l) => l.includes('left queued by a stopped process') && l.includes(runId))).toBe(true);
  });

  it('concurrent PATCHes of a job each keep their change; deleting a connection or destination a job uses is a 409', async () => {
    const { jobId, connectionId } = await pushJob('patched');
    for (let i = 0; i < 5; i++) {
      const [a, b] = await Promise.all([
        t.call('PATCH', `/api/v1/jobs/${jobId}`, { json: { name: `name-${i}` } }),
        t.call('PATCH', `/api/v1/jobs/${jobId}`, { json: { target: { assessment_id: `asm-${i}` } } }),
      ]);
      expect([a.status, b.status]).toEqual([200, 200]);
      const job = (await t.call('GET', `/api/v1/jobs/${jobId}`)).body;
      expect({ name: job.name, target: job.target }).toEqual({ name: `name-${i}`, target: { assessment_id: `asm-${i}` } });
    }
    const connection = await t.call('DELETE', `/api/v1/connections/${connectionId}`);
    expect(connection.status).toBe(409);
    expect(connection.body.detail).toContain(jobId);
    expect((await t.call('DELETE', `/api/v1/destinations/${destinationId}`)).status).toBe(409);
    expect((await t.call('GET', `/api/v1/connections/${connectionId}`)).status).toBe(200);
    expect((await t.call('DELETE', `/api/v1/jobs/${jobId}`)).status).toBe(204);
    expect((await t.call('DELETE', `/api/v1/connections/${connectionId}`)).status).toBe(204);
  });
});
