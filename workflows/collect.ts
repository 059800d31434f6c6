import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { SnapshotRef } from '../activities/collect.js';
import { COLLECT_OPTIONS, failureMessage } from './options.js';

const { collectDataset } = proxyActivities<Activities>(COLLECT_OPTIONS);

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
