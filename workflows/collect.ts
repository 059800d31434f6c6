import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { SnapshotRef } from '../activities/collect.js';

const { collectDataset } = proxyActivities<Activities>({
  // Long collections are fine as long as they heartbeat; a silent worker is presumed dead
  // after the heartbeat timeout and the attempt moves to another worker.
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 8 },
});

const { finishCollection } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 20 },
});

export interface CollectWorkflowInput {
  workspaceId: string;
  connectionId: string;
  datasets: string[];
  collectionId: string;
}

/** The readable reason of a failed activity (its ApplicationFailure message). */
export function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) return err.cause.message;
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

/** Collects several datasets of one connection in parallel, each into its own snapshot. */
export async function collectWorkflow(input: CollectWorkflowInput): Promise<{ snapshots: SnapshotRef[] }> {
  const results = await Promise.allSettled(
    input.datasets.map((dataset) => collectDataset({ workspaceId: input.workspaceId, connectionId: input.connectionId, dataset, collectionKey: `${input.collectionId}:${dataset}` })),
  );
  const snapshots = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const errors = results.flatMap((r, i) => (r.status === 'rejected' ? [`${input.datasets[i]}: ${failureMessage(r.reason)}`] : []));
  await finishCollection({ collectionId: input.collectionId, status: errors.length ? 'failed' : 'succeeded', snapshotIds: snapshots.map((s) => s.id), error: errors.join('; ') || undefined });
  if (errors.length) throw ApplicationFailure.nonRetryable(errors.join('; '), 'collection.failed');
  return { snapshots };
}
