import { ScheduleOverlapPolicy } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HousekeepingSchedules } from '../../temporal/housekeeping.js';
import { TemporalGateway } from '../../temporal/gateway.js';
import { WorkflowStarter } from '../../temporal/starters.js';
import { eventually, newWorkspace, startTestHub, type TestHub } from '../helpers/hub.js';

// Periodic upkeep is a Temporal Schedule per task for the whole cluster, not a timer in each
// process: the schedules exist once however often workers start, and a pass they fire does the work.
describe('housekeeping on Temporal Schedules', () => {
  let t: TestHub;
  beforeAll(async () => { t = await startTestHub({ env: { HUB_EVIDENCE_PACKAGE_TTL: '2h' } }); });
  afterAll(async () => { await t?.stop(); });

  const scheduleIds = () => ({
    retention: `housekeeping-${t.config.temporal.taskQueue}-audit-retention`,
    expiry: `housekeeping-${t.config.temporal.taskQueue}-evidence-package-expiry`,
    stale: `housekeeping-${t.config.temporal.taskQueue}-stale-checks`,
  });

  it('sets up one schedule per task when the worker starts, at its interval, skipping overlaps', async () => {
    const client = await t.hub.temporalClient();
    const { retention, expiry, stale } = scheduleIds();
    const described = await Promise.all([retention, expiry, stale].map((id) => client.schedule.getHandle(id).describe()));
    expect(described.map((d) => d.spec.intervals?.[0]?.every)).toEqual([3_600_000, 600_000, 60_000]);
    for (const d of described) {
      expect(d.action).toMatchObject({ type: 'startWorkflow', workflowType: 'housekeepingWorkflow', taskQueue: t.config.temporal.taskQueue });
      expect(d.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    }
  });

  it('another worker starting (ensure again, with another interval) updates the schedules instead of adding any', async () => {
    const gateway = new TemporalGateway({ address: t.hub.temporalAddress, namespace: t.config.temporal.namespace, taskQueue: t.config.temporal.taskQueue });
    try {
      const schedules = new HousekeepingSchedules(gateway, new WorkflowStarter(gateway, t.config.deliveryRetry));
      await schedules.ensure({ 'audit-retention': 3_600_000, 'evidence-package-expiry': 300_000, 'stale-checks': 60_000 });
      await schedules.ensure({ 'audit-retention': 3_600_000, 'evidence-package-expiry': 600_000, 'stale-checks': 60_000 });
      const client = await t.hub.temporalClient();
      const ours: string[] = [];
      for await (const schedule of client.schedule.list()) if (schedule.scheduleId.startsWith(`housekeeping-${t.config.temporal.taskQueue}-`)) ours.push(schedule.scheduleId);
      expect(ours.sort()).toEqual(Object.values(scheduleIds()).sort());
      expect((await client.schedule.getHandle(scheduleIds().expiry).describe()).spec.intervals?.[0]?.every).toBe(600_000);
    } finally {
      await gateway.close();
    }
  });

  it('a pass of the expiry schedule expires a package past its time to live', async () => {
    const ws = await newWorkspace(t, 'housekeeping');
    const created = await ws.call('POST', '/api/v1/evidence-packages', { json: { from: '2026-01-01', to: '2026-01-31' } });
    expect(created.status, created.text).toBe(202);
    await eventually(async () => ((await ws.call('GET', `/api/v1/evidence-packages/${created.body.id}`)).body.status === 'ready' ? true : null), { timeoutMs: 60_000 });
    // Its time to live has passed (as if two hours went by).
    await t.hub.db.query(`UPDATE evidence_packages SET expires_at = now() - interval '1 minute' WHERE id = $1`, [created.body.id]);
    const client = await t.hub.temporalClient();
    await client.schedule.getHandle(scheduleIds().expiry).trigger();
    const pkg = await eventually(async () => {
      const read = await ws.call('GET', `/api/v1/evidence-packages/${created.body.id}`);
      return read.body.status === 'expired' ? read.body : null;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    expect(pkg).toMatchObject({ status: 'expired', download_url: null });
  });
});
