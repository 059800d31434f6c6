import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, eventually, startTestHub, type TestHub } from '../helpers/hub.js';

describe.each(BACKENDS)('diagnostics: API → Temporal → worker → store (%s)', (backend) => {
  let t: TestHub;
  beforeAll(async () => { t = await startTestHub({ backend }); });
  afterAll(async () => { await t?.stop(); });

  it('a diagnostic started through the API is completed by the worker and read back', async () => {
    const started = await t.call('POST', '/api/v1/diagnostics');
    expect(started.status).toBe(202);
    expect(started.body.status).toBe('running');
    const location = started.headers.get('location')!;
    expect(location).toBe(`/api/v1/diagnostics/${started.body.id}`);

    const done = await eventually(async () => {
      const res = await t.call('GET', location);
      return res.body.status === 'completed' ? res.body : null;
    });
    expect(done.worker_identity).toMatch(/^\d+@/);
    expect(new Date(done.completed_at).getTime()).toBeGreaterThanOrEqual(new Date(done.created_at).getTime());

    // The workflow really ran on Temporal and finished there.
    const client = await (await import('@temporalio/client')).Connection.connect({ address: t.hub.temporalAddress });
    const { Client } = await import('@temporalio/client');
    const handle = new Client({ connection: client }).workflow.getHandle(started.body.workflow_id);
    // The row is written by the activity, just before the workflow itself completes.
    expect(await handle.result()).toEqual({ workerIdentity: done.worker_identity });
    expect((await handle.describe()).status.name).toBe('COMPLETED');
    await client.close();
  });

  it('readyz reports the database and Temporal', async () => {
    const res = await t.call('GET', '/readyz', { key: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', checks: { database: 'ok', temporal: 'ok' } });
  });
});
