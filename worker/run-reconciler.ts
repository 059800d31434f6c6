import type { Logger } from '../lib/logger.js';
import type { JobStore } from '../store/jobs.js';
import type { RunStore } from '../store/runs.js';
import type { SnapshotStore } from '../store/snapshots.js';
import type { WorkflowStarter } from '../temporal/starters.js';

/**
 * Starts the workflows of runs that an API process accepted (row written, 202 maybe sent) but
 * died before starting. A run still queued after the grace period is started under its own
 * workflow id; one whose workflow exists (queued behind busy workers) is left alone, and the
 * reuse policy keeps a finished workflow from ever running twice. Several workers may pass at
 * once: the workflow id makes the start happen once.
 */
export class QueuedRunReconciler {
  private timer: NodeJS.Timeout | null = null;
  private pass: Promise<void> | null = null;

  constructor(private readonly deps: {
    runs: RunStore;
    jobs: JobStore;
    snapshots: SnapshotStore;
    starter: WorkflowStarter;
    graceMs: number;
    logger: Logger;
  }) {}

  start(): void {
    // Twice per grace period, so a lost start is made up for within 1.5 × the grace.
    const interval = Math.max(500, Math.floor(this.deps.graceMs / 2));
    this.timer = setInterval(() => {
      this.pass ??= this.reconcile().then(() => undefined)
        .catch((err: unknown) => this.deps.logger.warn({ err }, 'queued run reconciliation failed; trying again'))
        .finally(() => { this.pass = null; });
    }, interval);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.pass;
  }

  /** One pass; returns the ids of the runs whose workflow it started. */
  async reconcile(): Promise<string[]> {
    const stale = await this.deps.runs.staleQueued(this.deps.graceMs);
    if (!stale.length) return [];
    const started: string[] = [];
    for (const run of stale) {
      // Scheduled runs are created by their workflow, so a queued row without one came from the API.
      const job = run.job_id ? await this.deps.jobs.get(run.workspace_id, run.job_id) : null;
      const keys = (job?.datasets ?? []).map((dataset) => `${run.id}:${dataset}`);
      const supplied = await this.deps.snapshots.byCollectionKeys(keys);
      // Under the id its row holds (workflowIds.run), never a second time once it existed.
      const { started: fresh } = await this.deps.starter.run({
        workspaceId: run.workspace_id, jobId: run.job_id ?? '', runId: run.id, trigger: 'api',
        suppliedSnapshots: Object.fromEntries(supplied.map((s) => [s.dataset, s.id])),
      }, { onlyOnce: true });
      if (fresh) {
        started.push(run.id);
        this.deps.logger.warn({ run_id: run.id }, 'started the workflow of a run left queued by a stopped process');
      }
    }
    return started;
  }
}
