import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { eventually, spawnWorker, startTestHub, type TestHub } from '../helpers/hub.js';
import { createConnection, snapshotRecords } from '../helpers/collect.js';

describe('a worker killed mid-pagination (SIGKILL of a real worker process)', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  beforeAll(async () => {
    // API in this process; workers are separate OS processes sharing PostgreSQL and the blob dir.
    t = await startTestHub({ backend: 'postgres', role: 'api' });
    okta = await startOktaSimulator({ population: { total: 5_000, deprovisioned: 100 }, rateLimit: false });
  });
  afterAll(async () => { await okta?.close(); await t?.stop(); });

  it('resumes from the last stored page on another worker; the snapshot has every record exactly once', async () => {
    const id = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token', enrich_concurrency: 4 }, secrets: { api_token: okta.apiToken } });
    // Slow pages, so that the kill lands in the middle of the walk.
    okta.faults.inject({ kind: 'delay', ms: 250 }, 1000, { path: /^\/api\/v1\/users$/ });
    const first = await spawnWorker(t);
    const started = await t.call('POST', `/api/v1/connections/${id}/collect?wait=0`, { json: { datasets: ['okta.users'] } });
    expect(started.status).toBe(202);

    const userPages = () => okta.requests.filter((r) => r.path === '/api/v1/users' && r.status === 200);
    // Kill once Temporal has recorded progress (a stored part of 2 000 records in the
    // heartbeat details) and the walk has gone on past it.
    const client = await t.hub.temporalClient();
    const handle = client.workflow.getHandle(`collect-${started.body.id}`);
    await eventually(async () => {
      const { raw } = await handle.describe();
      const details = raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0]?.data;
      const progress = details ? (JSON.parse(Buffer.from(details).toString()) as { parts: string[] }) : null;
      return (progress?.parts.length ?? 0) >= 1;
    }, { timeoutMs: 120_000, intervalMs: 50 });
    const pagesAtProgress = userPages().length;
    await eventually(async () => userPages().length >= pagesAtProgress + 2, { timeoutMs: 60_000, intervalMs: 20 });
    await first.kill();
    const pagesBeforeKill = userPages().length;
    expect(pagesBeforeKill).toBeLessThan(25); // 5 000 users = 25 pages: the walk was not finished

    const second = await spawnWorker(t);
    try {
      const result = await eventually(async () => {
        const res = await t.call('GET', started.headers.get('location')!);
        return res.body.status === 'running' ? null : res.body;
      }, { timeoutMs: 120_000, intervalMs: 250 });
      expect(result.status, result.error ?? '').toBe('succeeded');
      const snapshot = result.snapshots[0];
      expect(snapshot.record_count).toBe(5_000);
      const records = await snapshotRecords<{ id: string }>(t.call, snapshot.id);
      expect(records).toHaveLength(5_000);
      expect(new Set(records.map((r) => r.id)).size).toBe(5_000);
      // Resumed, not restarted: the first page was fetched once, and the pages after the last stored part again.
      const firstPageFetches = okta.requests.filter((r) => r.path === '/api/v1/users' && !r.query.has('after') && !r.query.has('filter'));
      expect(firstPageFetches).toHaveLength(1);
      expect(second.output()).toContain('collection resumes after the last stored page');
      expect((await t.call('GET', `/api/v1/snapshots/${snapshot.id}?limit=0`)).body.metadata.attempts).toBe(2);
    } finally {
      await second.kill();
    }
  }, 240_000);
});
