import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type WorkflowHandle } from '@temporalio/client';
import { HubError } from '../lib/errors.js';
import type * as workflows from '../workflows/index.js';
import type { HousekeepingTask } from '../activities/housekeeping.js';
import type { CollectWorkflowInput } from '../workflows/collect.js';
import type { DeliveryRetry, RunJobInput } from '../workflows/run.js';
import type { TemporalGateway } from './gateway.js';

/** Every workflow the worker registers, by the name Temporal knows it by. */
type Workflows = typeof workflows;
export type WorkflowName = keyof Workflows & string;

/**
 * The workflow ids of the hub, in one place: the API stores them in rows, the reconciler and
 * the schedules find the same work again by them, and a repeated start under one id is a no-op.
 */
export const workflowIds = {
  run: (runId: string) => `run-${runId}`,
  scheduledRun: (jobId: string) => `run-scheduled-${jobId}`,
  collection: (collectionId: string) => `collect-${collectionId}`,
  diagnostic: (diagnosticId: string) => `diagnostics-${diagnosticId}`,
  evidencePackage: (packageId: string) => `evidence-package-${packageId}`,
  delivery: (evidenceId: string) => `deliver-${evidenceId}`,
  webhookBatch: (batchId: string) => `webhook-${batchId}`,
  exception: (exceptionId: string) => `exception-${exceptionId}`,
  /** The schedule's id, per hub (its task queue) sharing a namespace; Temporal appends each pass's start time. */
  housekeeping: (task: string, taskQueue: string) => `housekeeping-${taskQueue}-${task}`,
};

/** The one answer to "Temporal did not take the request": 503 with Retry-After, saying what did not happen. */
export function temporalUnavailable(consequence: string): HubError {
  return new HubError(503, 'Service Unavailable', `Temporal is not reachable; ${consequence}. See /readyz.`, { headers: { 'Retry-After': '5' } });
}

export interface Started<N extends WorkflowName> {
  handle: WorkflowHandle<Workflows[N]>;
  /** false when a workflow with this id already existed: the start was a no-op. */
  started: boolean;
}

/**
 * Owns every workflow start: typed against the workflow function (a renamed input field fails
 * the type check at each caller), with the hub's ids, the task queue and the delivery retry
 * policy filled in, and Temporal being unreachable turned into one HubError.
 */
export class WorkflowStarter {
  constructor(private readonly temporal: TemporalGateway, private readonly deliveryRetry: DeliveryRetry) {}

  get taskQueue(): string {
    return this.temporal.taskQueue;
  }

  /** A run the API created (its row holds `workflowIds.run(runId)`). `onlyOnce`: an id used before is never started again. */
  run(input: Omit<RunJobInput, 'deliveryRetry' | 'runId'> & { runId: string }, options: { onlyOnce?: boolean } = {}) {
    return this.start('runJobWorkflow', workflowIds.run(input.runId), [{ ...input, deliveryRetry: this.deliveryRetry }], 'the run did not start', options.onlyOnce);
  }

  collection(input: CollectWorkflowInput) {
    return this.start('collectWorkflow', workflowIds.collection(input.collectionId), [input], 'the collection did not start');
  }

  diagnostic(diagnosticId: string) {
    return this.start('diagnosticsWorkflow', workflowIds.diagnostic(diagnosticId), [{ diagnosticId }], 'the diagnostic could not start');
  }

  evidencePackage(packageId: string) {
    return this.start('buildEvidencePackageWorkflow', workflowIds.evidencePackage(packageId), [{ packageId }], 'the package was not built');
  }

  /** One delivery workflow per pushed item: a repeated push finds it already running or done. */
  delivery(evidenceId: string) {
    return this.start('deliverEvidenceWorkflow', workflowIds.delivery(evidenceId), [{ evidenceId, deliveryRetry: this.deliveryRetry }], 'the delivery could not start');
  }

  webhookBatch(batchId: string, deliveryIds: string[], roundTimeoutMs: number) {
    return this.start('deliverWebhooksWorkflow', workflowIds.webhookBatch(batchId), [{ deliveryIds, roundTimeoutMs }], 'the webhook deliveries were not dispatched');
  }

  /** What a job's Temporal Schedule starts each time it fires. */
  scheduledRunAction(job: { id: string; workspace_id: string }) {
    const args: Parameters<Workflows['runJobWorkflow']> = [{ workspaceId: job.workspace_id, jobId: job.id, trigger: 'schedule', deliveryRetry: this.deliveryRetry }];
    return { type: 'startWorkflow' as const, workflowType: 'runJobWorkflow' satisfies WorkflowName, taskQueue: this.taskQueue, workflowId: workflowIds.scheduledRun(job.id), args };
  }

  /** Asks a workflow to cancel; one that has already ended (or never existed) is left as it is. */
  async cancel(workflowId: string): Promise<void> {
    const client = await this.temporal.client().catch(() => {
      throw temporalUnavailable('the cancellation was not requested');
    });
    await client.workflow.getHandle(workflowId).cancel().catch(() => undefined);
  }

  /** An exception's timers: expiring, then expiry and re-evaluation of its check. */
  exception(input: { exceptionId: string; workspaceId: string; jobId: string; expiresAt: Date }) {
    return this.start('exceptionWorkflow', workflowIds.exception(input.exceptionId), [{ ...input, expiresAt: input.expiresAt.toISOString(), deliveryRetry: this.deliveryRetry }], 'the exception was not granted');
  }

  /** Tells an exception's workflow it was revoked (its check is evaluated again at once). */
  async revokeException(exceptionId: string): Promise<void> {
    const client = await this.temporal.client().catch(() => {
      throw temporalUnavailable('the revocation could not reach its timer');
    });
    await client.workflow.getHandle(workflowIds.exception(exceptionId)).signal('revoke');
  }

  /** What a housekeeping Schedule starts each time it fires. */
  housekeepingAction(task: HousekeepingTask) {
    const args: Parameters<Workflows['housekeepingWorkflow']> = [{ task }];
    return { type: 'startWorkflow' as const, workflowType: 'housekeepingWorkflow' satisfies WorkflowName, taskQueue: this.taskQueue, workflowId: workflowIds.housekeeping(task, this.taskQueue), args };
  }

  private async start<N extends WorkflowName>(name: N, workflowId: string, args: Parameters<Workflows[N]>, consequence: string, onlyOnce = false): Promise<Started<N>> {
    let client;
    try {
      client = await this.temporal.client();
    } catch {
      throw temporalUnavailable(consequence);
    }
    try {
      const handle = await client.workflow.start<Workflows[N]>(name, {
        taskQueue: this.taskQueue, workflowId, args,
        ...(onlyOnce ? { workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE } : {}),
      });
      return { handle, started: true };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return { handle: client.workflow.getHandle<Workflows[N]>(workflowId), started: false };
      throw temporalUnavailable(consequence);
    }
  }
}
