import { ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Job } from '../store/jobs.js';
import type { TemporalGateway } from './gateway.js';
import type { WorkflowStarter } from './starters.js';

/**
 * A job's schedule is a Temporal Schedule (not an in-process timer): it survives restarts,
 * skips a run while the previous one is still going, catches up missed runs within a window,
 * is paused while the job is disabled, and is deleted with the job.
 */
export class JobSchedules {
  constructor(private readonly temporal: TemporalGateway, private readonly starter: WorkflowStarter) {}

  private id(jobId: string): string {
    return `job-${jobId}`;
  }

  /** Creates, updates or removes the job's schedule to match the job. Throws on an invalid cron or time zone. */
  async sync(job: Job): Promise<void> {
    const client = await this.temporal.client();
    const handle = client.schedule.getHandle(this.id(job.id));
    if (!job.schedule) {
      await this.remove(job.id);
      return;
    }
    const spec = { cronExpressions: [job.schedule.cron], timezone: job.schedule.timezone };
    const action = this.starter.scheduledRunAction(job);
    try {
      await handle.update((previous) => ({ ...previous, spec, action, state: { ...previous.state, paused: !job.enabled } }));
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      await client.schedule.create({
        scheduleId: this.id(job.id),
        spec,
        action,
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
        state: { paused: !job.enabled, note: `Evidence Hub job ${job.id}` },
      });
    }
  }

  async remove(jobId: string): Promise<void> {
    const client = await this.temporal.client();
    await client.schedule.getHandle(this.id(jobId)).delete().catch((err: unknown) => {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    });
  }

  /** The time between the schedule's next two firings (null when it has none). */
  async intervalMs(jobId: string): Promise<number | null> {
    const client = await this.temporal.client();
    try {
      const [next, after] = (await client.schedule.getHandle(this.id(jobId)).describe()).info.nextActionTimes;
      return next && after ? after.getTime() - next.getTime() : null;
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return null;
      throw err;
    }
  }

  /**
   * When the schedule fires next, as Temporal itself computes it (its cron dialect, the time
   * zone's daylight-saving changes): up to `count` times, none when paused or unscheduled.
   */
  async nextRuns(jobId: string, count = 5): Promise<Date[]> {
    const client = await this.temporal.client();
    try {
      const description = await client.schedule.getHandle(this.id(jobId)).describe();
      if (description.state.paused) return [];
      return description.info.nextActionTimes.slice(0, count);
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return [];
      throw err;
    }
  }
}
