import { condition, defineSignal, executeChild, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { DeliveryRetry } from './options.js';
import { runJobWorkflow } from './run.js';

const { announceExceptionExpiring, expireException, latestSnapshotsOfJob } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 50 },
});

/** Sent when the exception is revoked: its check is re-evaluated now instead of at expiry. */
export const revokeExceptionSignal = defineSignal('revoke');

export interface ExceptionInput {
  exceptionId: string;
  workspaceId: string;
  jobId: string;
  /** ISO 8601. */
  expiresAt: string;
  deliveryRetry: DeliveryRetry;
}

const WARN_BEFORE_MS = 7 * 86_400_000;

/**
 * An exception's life as durable timers, not a poll: exception.expiring 7 days ahead, then at
 * expiry (or at once when revoked) the exception ends and the job's checks are evaluated again
 * on its latest snapshots, so the result that no longer holds is recorded and delivered.
 */
export async function exceptionWorkflow(input: ExceptionInput): Promise<void> {
  let revoked = false;
  setHandler(revokeExceptionSignal, () => { revoked = true; });
  const expiresAtMs = Date.parse(input.expiresAt);
  // Date.now() in a workflow is the workflow's own deterministic clock.
  const untilWarning = expiresAtMs - WARN_BEFORE_MS - Date.now();
  if (untilWarning > 0 && !(await condition(() => revoked, untilWarning))) await announceExceptionExpiring({ exceptionId: input.exceptionId });
  if (!revoked) await condition(() => revoked, Math.max(1, expiresAtMs - Date.now()));
  if (!revoked) await expireException({ exceptionId: input.exceptionId });
  const suppliedSnapshots = await latestSnapshotsOfJob({ workspaceId: input.workspaceId, jobId: input.jobId });
  if (!Object.keys(suppliedSnapshots).length) return;
  await executeChild(runJobWorkflow, {
    // From the exception's id (as temporal/starters.ts names its workflow): one re-evaluation per exception.
    workflowId: `exception-${input.exceptionId}-reevaluation`,
    args: [{ workspaceId: input.workspaceId, jobId: input.jobId, trigger: 'exception', deliveryRetry: input.deliveryRetry, suppliedSnapshots }],
  });
}
