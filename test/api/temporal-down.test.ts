import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { createConnection } from '../helpers/collect.js';

describe('when Temporal does not answer', () => {
  let t: TestHub;
  // The API alone, pointed at a Temporal address where nothing listens.
  beforeAll(async () => { t = await startTestHub({ backend: 'postgres', role: 'api', env: { TEMPORAL_ADDRESS: '127.0.0.1:9' } }); });
  afterAll(async () => { await t?.stop(); });

  it('readyz says so, and work that cannot start answers 503 and is not left looking queued', async () => {
    const ready = await t.call('GET', '/readyz', { key: null });
    expect(ready.status).toBe(503);
    expect(ready.body.checks.database).toBe('ok');

    const diagnostic = await t.call('POST', '/api/v1/diagnostics');
    expect(diagnostic.status).toBe(503);
    expect(diagnostic.headers.get('retry-after')).toBe('5');
    const rows = await t.hub.db.query<{ status: string }>('SELECT status FROM diagnostics');
    expect(rows.map((r) => r.status)).toEqual(['failed']);

    const connection = await createConnection(t.call, { type: 'push', config: { datasets: [{ name: 'x' }] } });
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'd', type: 'audigyd', config: { base_url: 'http://127.0.0.1:9' }, secrets: { api_key: 'k' } } });
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: 'm', rules: [{ id: 'r', dataset: 'push.x', control_ref: 'C', question_match: 'q', title: 't', mode: 'info' }] } });
    const job = await t.call('POST', '/api/v1/jobs', { json: { name: 'j', connection_id: connection, datasets: ['push.x'], mapping_id: mapping.body.id, destination_id: destination.body.id, target: { assessment_id: 'a' } } });
    expect(job.status, job.text).toBe(201); // no schedule: Temporal is not needed to save it
    const scheduled = await t.call('PATCH', `/api/v1/jobs/${job.body.id}`, { json: { schedule: { cron: '0 2 * * *', timezone: 'UTC' } } });
    expect(scheduled.status).toBe(503);
    expect((await t.call('GET', `/api/v1/jobs/${job.body.id}`)).body.schedule).toBeNull(); // nothing half-written

    const run = await t.call('POST', `/api/v1/jobs/${job.body.id}/runs`, { json: { input: { 'push.x': [] } } });
    expect(run.status).toBe(503);
    const runs = await t.call('GET', `/api/v1/runs?job_id=${job.body.id}`);
    expect(runs.body.data.map((r: { status: string }) => r.status)).toEqual(['failed']);
  });
});
