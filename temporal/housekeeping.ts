import { ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import type { HousekeepingTask } from '../activities/housekeeping.js';
import type { TemporalGateway } from './gateway.js';
import { workflowIds, type WorkflowStarter } from './starters.js';

/** How often each task runs. */
export type HousekeepingIntervals = Record<HousekeepingTask, number>;

/**
 * The hub's periodic upkeep as Temporal Schedules, like job schedules: one schedule per task
 * for the whole cluster, so N workers do not each run it, and a pass missed while every worker
 * was down runs when one is back (within the catch-up window). Every worker ensures them at
 * start: the first creates each (and runs it at once), later ones only bring the interval in
 * line with their configuration.
 */
export class HousekeepingSchedules {
  constructor(private readonly temporal: TemporalGateway, private readonly starter: WorkflowStarter) {}

  async ensure(intervals: HousekeepingIntervals): Promise<void> {
    const client = await this.temporal.client();
    for (const [task, everyMs] of Object.entries(intervals) as [HousekeepingTask, number][]) {
      const scheduleId = workflowIds.housekeeping(task, this.temporal.taskQueue);
      const spec = { intervals: [{ every: everyMs }] };
      const action = this.starter.housekeepingAction(task);
      try {
        await client.schedule.create({
          scheduleId, spec, action,
          policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
          state: { triggerImmediately: true, note: `Evidence Hub housekeeping: ${task}` },
        });
      } catch (err) {
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
        await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action }));
      }
    }
  }
}
