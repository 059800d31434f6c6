import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { HousekeepingTask } from '../activities/housekeeping.js';

const { runHousekeeping } = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5 },
});

/**
 * One pass of periodic upkeep, started by its Temporal Schedule: the cluster runs it once per
 * interval however many workers there are, skips a pass while the previous one still runs,
 * and keeps the schedule through restarts.
 */
export async function housekeepingWorkflow(input: { task: HousekeepingTask }): Promise<{ task: HousekeepingTask; affected: number }> {
  return runHousekeeping({ task: input.task });
}
