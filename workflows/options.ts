import { ActivityFailure, ApplicationFailure, type ActivityOptions } from '@temporalio/workflow';

/** How a run's evidence deliveries are retried: from the hub's config, passed in with each workflow's input. */
export interface DeliveryRetry {
  initialIntervalMs: number;
  maximumIntervalMs: number;
  maximumAttempts: number;
}

/**
 * Collecting a dataset: long collections are fine as long as they heartbeat; a silent worker
 * is presumed dead after the heartbeat timeout and the attempt moves to another worker.
 */
export const COLLECT_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 8 },
};

/** Delivering evidence: heartbeating while it sends, retried as the hub's config says. */
export function deliveryOptions(retry: DeliveryRetry): ActivityOptions {
  return {
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '10 seconds',
    retry: { initialInterval: retry.initialIntervalMs, backoffCoefficient: 2, maximumInterval: retry.maximumIntervalMs, maximumAttempts: retry.maximumAttempts },
  };
}

/**
 * The same for a batch of up to 500 items (workflows/run.ts): more time to finish at a slow or
 * paced destination; a dead worker is still noticed by its missing heartbeats within seconds.
 */
export function largeBatchDeliveryOptions(retry: DeliveryRetry): ActivityOptions {
  return { ...deliveryOptions(retry), startToCloseTimeout: '1 hour' };
}

/** The readable reason of a failed activity (its ApplicationFailure message). */
export function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) return err.cause.message;
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
