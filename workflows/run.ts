import { CancellationScope, deprecatePatch, isCancellation, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { COLLECT_OPTIONS, deliveryOptions, failureMessage, largeBatchDeliveryOptions, type DeliveryRetry } from './options.js';

export type { DeliveryRetry };

export interface RunJobInput {
  workspaceId: string;
  jobId: string;
  /** Set when the API created the run; absent for runs started by a Temporal Schedule. */
  runId?: string;
  trigger: 'api' | 'schedule' | 'exception';
  deliveryRetry: DeliveryRetry;
  deliveryConcurrency?: number;
  /** Snapshots of data supplied with the run (push connections), by dataset: not collected. */
  suppliedSnapshots?: Record<string, string>;
}

/** Items per delivery activity, before patch 'delivery-in-large-batches'. */
const BATCH_SIZE = 50;
/**
 * Items per delivery activity since: one activity at a time runs every lane, so that the lanes
 * never wait for an activity to be scheduled, nor for the slowest item of a batch; 500 ids
 * keep the activity's input small (~15 KB).
 */
const LARGE_BATCH_SIZE = 500;

const short = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { initialInterval: '1 second', maximumAttempts: 20 } });
const { collectDataset } = proxyActivities<Activities>(COLLECT_OPTIONS);
const { evaluateRun } = proxyActivities<Activities>({ startToCloseTimeout: '30 minutes', retry: { initialInterval: '1 second', maximumAttempts: 5 } });

const { exportRunTrace } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 10 },
});

/** The run's trace for destinations that keep an activity stream; its failure never changes the run's outcome. */
async function exportTrace(runId: string): Promise<void> {
  // The step ran before its patch marker was added, so every history has it: the marker is
  // accepted where a history carries it and never required (a patched() guard here would skip
  // the step on replay of a run started before the marker, a nondeterminism error).
  deprecatePatch('export-run-trace');
  try {
    await exportRunTrace({ runId });
  } catch (err) {
    if (isCancellation(err)) throw err;
  }
}

/** What the run records when datasets could not be collected: each with its reason. */
function collectionFailure(uncollected: Record<string, string>): string {
  return Object.entries(uncollected).map(([dataset, reason]) => `${dataset} could not be collected: ${reason}`).join('; ');
}

/**
 * A job's run: collect the datasets in parallel → evaluate the pinned (or latest) mapping
 * version → write each item to the ledger as pending → deliver with bounded concurrency and
 * the destination's retry rules → finish with the counts. Every side effect is an
 * idempotent activity, so a worker that dies anywhere loses nothing and sends nothing twice.
 */
export async function runJobWorkflow(input: RunJobInput): Promise<{ runId: string; status: string }> {
  let plan;
  try {
    plan = await short.startRun({ workspaceId: input.workspaceId, jobId: input.jobId, runId: input.runId, trigger: input.trigger });
  } catch (err) {
    if (input.runId) await CancellationScope.nonCancellable(() => short.finishRun({ runId: input.runId!, ...(isCancellation(err) ? { cancelled: true } : { error: failureMessage(err) }) }));
    throw err;
  }
  if (plan.error) return { runId: plan.runId, status: 'failed' };
  const { deliverEvidenceBatch } = proxyActivities<Activities>(deliveryOptions(input.deliveryRetry));
  try {
    const supplied = input.suppliedSnapshots ?? {};
    const toCollect = plan.datasets.filter((dataset) => !supplied[dataset]);
    let collected: { id: string }[];
    const uncollected: Record<string, string> = {};
    if (patched('uncollected-datasets-as-errors')) {
      // A dataset that fails (after its retries) no longer fails the run: its rules report
      // error with the reason, and the other datasets are evaluated and delivered.
      const outcomes = await Promise.all(toCollect.map((dataset) =>
        collectDataset({ workspaceId: plan.workspaceId, connectionId: plan.connectionId, dataset, collectionKey: `${plan.runId}:${dataset}`, runId: plan.runId })
          .then((snapshot) => ({ dataset, snapshot, error: null }), (err: unknown) => {
            if (isCancellation(err)) throw err;
            return { dataset, snapshot: null, error: failureMessage(err) };
          })));
      collected = outcomes.flatMap((o) => (o.snapshot ? [o.snapshot] : []));
      for (const o of outcomes) if (o.error !== null) uncollected[o.dataset] = o.error;
      if (Object.keys(uncollected).length) {
        deprecatePatch('connection-failed-event');
        await short.recordConnectionFailed({ workspaceId: plan.workspaceId, connectionId: plan.connectionId, runId: plan.runId, datasets: Object.keys(uncollected), error: collectionFailure(uncollected) });
      }
    } else {
      collected = await Promise.all(toCollect.map((dataset) =>
        collectDataset({ workspaceId: plan.workspaceId, connectionId: plan.connectionId, dataset, collectionKey: `${plan.runId}:${dataset}`, runId: plan.runId })))
        .catch(async (err: unknown) => {
          if (!isCancellation(err)) {
            // As for export-run-trace: the step predates its marker, so it always runs.
            deprecatePatch('connection-failed-event');
            await short.recordConnectionFailed({ workspaceId: plan.workspaceId, connectionId: plan.connectionId, runId: plan.runId, datasets: toCollect, error: failureMessage(err) });
          }
          throw err;
        });
    }
    const failedDatasets = Object.keys(uncollected);
    const pending = await evaluateRun({ plan, snapshotIds: [...collected.map((s) => s.id), ...Object.values(supplied)], ...(failedDatasets.length ? { uncollected } : {}) });

    const concurrency = input.deliveryConcurrency ?? 8;
    if (patched('delivery-in-large-batches')) {
      // Bounded concurrency: one activity at a time, delivering `deliveryConcurrency` items at once.
      const { deliverEvidenceBatch: deliverLargeBatch } = proxyActivities<Activities>(largeBatchDeliveryOptions(input.deliveryRetry));
      for (let i = 0; i < pending.length; i += LARGE_BATCH_SIZE) {
        const batch = pending.slice(i, i + LARGE_BATCH_SIZE);
        try {
          await deliverLargeBatch({ evidenceIds: batch, concurrency });
        } catch (err) {
          if (isCancellation(err)) throw err;
          // Retries exhausted: what is still pending in the batch is recorded as failed.
          await short.markEvidenceBatchFailed({ evidenceIds: batch, error: failureMessage(err) });
        }
      }
    } else {
      // Bounded concurrency: batches of items, two in flight, each delivering a few at a time,
      // so that at most `deliveryConcurrency` requests reach the destination at once.
      const lanes = Math.min(2, concurrency);
      const batches: string[][] = [];
      for (let i = 0; i < pending.length; i += BATCH_SIZE) batches.push(pending.slice(i, i + BATCH_SIZE));
      let next = 0;
      const lane = async () => {
        while (next < batches.length) {
          const batch = batches[next++]!;
          try {
            await deliverEvidenceBatch({ evidenceIds: batch, concurrency: Math.max(1, Math.floor(concurrency / lanes)) });
          } catch (err) {
            if (isCancellation(err)) throw err;
            for (const evidenceId of batch) await short.markEvidenceFailed({ evidenceId, error: failureMessage(err) });
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(lanes, Math.max(1, batches.length)) }, lane));
    }
    // Nothing collected at all is a failed run, as before; some datasets missing, a partial one.
    const nothingCollected = failedDatasets.length > 0 && collected.length === 0 && Object.keys(supplied).length === 0;
    const status = await short.finishRun({
      runId: plan.runId,
      ...(nothingCollected ? { error: collectionFailure(uncollected) } : failedDatasets.length ? { collectionError: collectionFailure(uncollected) } : {}),
    });
    await exportTrace(plan.runId);
    return { runId: plan.runId, status };
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => short.finishRun({ runId: plan.runId, cancelled: true }));
      throw err;
    }
    const status = await short.finishRun({ runId: plan.runId, error: failureMessage(err) });
    await exportTrace(plan.runId);
    return { runId: plan.runId, status };
  }
}
