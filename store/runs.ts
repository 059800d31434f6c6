import { atomically, type Queryable } from './db.js';
import { EventStore } from './events.js';
import { toPage, type Page, type PageRequest } from './pagination.js';
import { NO_COUNTS, type RunCounts, type RunStatus } from './run-status.js';

export { FINAL_RUN_STATUSES, NO_COUNTS, RUN_STATUSES, type RunCounts, type RunStatus } from './run-status.js';

export interface Run {
  id: string;
  workspace_id: string;
  job_id: string | null;
  trigger: string;
  status: RunStatus;
  workflow_id: string;
  mapping_id: string | null;
  mapping_version: number | null;
  snapshot_ids: string[];
  counts: Partial<RunCounts>;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
}

export class RunStore {
  constructor(private readonly db: Queryable) {}

  /** Creates the run once per workflow id: a scheduled workflow retried finds its own run. */
  async create(r: { id: string; workspaceId: string; jobId: string | null; trigger: string; workflowId: string }): Promise<Run> {
    await this.db.query(
      `INSERT INTO runs (id, workspace_id, job_id, trigger, status, workflow_id) VALUES ($1, $2, $3, $4, 'queued', $5) ON CONFLICT (workflow_id) DO NOTHING`,
      [r.id, r.workspaceId, r.jobId, r.trigger, r.workflowId],
    );
    const [row] = await this.db.query<Run>('SELECT * FROM runs WHERE workflow_id = $1', [r.workflowId]);
    return row!;
  }

  async get(workspaceId: string, id: string): Promise<Run | null> {
    const [row] = await this.db.query<Run>('SELECT * FROM runs WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
    return row ?? null;
  }

  async getById(id: string): Promise<Run | null> {
    const [row] = await this.db.query<Run>('SELECT * FROM runs WHERE id = $1', [id]);
    return row ?? null;
  }

  async list(workspaceId: string, page: PageRequest, filter: { jobId?: string; status?: string }): Promise<Page<Run>> {
    const rows = await this.db.query<Run>(
      `SELECT * FROM runs WHERE workspace_id = $1 AND ($2::text IS NULL OR id < $2) AND ($3::text IS NULL OR job_id = $3) AND ($4::text IS NULL OR status = $4)
       ORDER BY id DESC LIMIT $5`,
      [workspaceId, page.after, filter.jobId ?? null, filter.status ?? null, page.limit + 1],
    );
    return toPage(rows, page.limit);
  }

  /**
   * Runs still queued `olderThanMs` after they were accepted (within the last day), oldest
   * first: the API process that accepted one may have died before starting its workflow.
   */
  async staleQueued(olderThanMs: number, limit = 100): Promise<Run[]> {
    return this.db.query<Run>(
      `SELECT * FROM runs WHERE status = 'queued' AND created_at < now() - make_interval(secs => $1::float8 / 1000)
       AND created_at > now() - interval '1 day' ORDER BY created_at LIMIT $2`,
      [olderThanMs, limit],
    );
  }

  /** Marks the run running (once) and emits run.started with it. */
  async start(id: string, mapping: { id: string; version: number }): Promise<void> {
    await atomically(this.db, async (tx) => {
      const [started] = await tx.query<Run>(
        `UPDATE runs SET status = 'running', started_at = now(), mapping_id = $2, mapping_version = $3 WHERE id = $1 AND status = 'queued' RETURNING *`,
        [id, mapping.id, mapping.version],
      );
      if (started) await new EventStore(tx).record({ workspaceId: started.workspace_id, type: 'run.started', data: runEventData(started) });
    });
  }

  async setSnapshots(id: string, snapshotIds: string[], collected: number): Promise<void> {
    await this.db.query(`UPDATE runs SET snapshot_ids = $2, counts = counts || jsonb_build_object('collected', $3::int) WHERE id = $1`, [id, snapshotIds, collected]);
  }

  /** Final state, once, with run.completed or run.failed: a retried finish changes nothing. */
  /** The snapshots of the job's latest run that has any (what re-evaluating its checks reads). */
  async latestSnapshotIds(workspaceId: string, jobId: string): Promise<string[]> {
    const [row] = await this.db.query<{ snapshot_ids: string[] }>(
      `SELECT snapshot_ids FROM runs WHERE workspace_id = $1 AND job_id = $2 AND cardinality(snapshot_ids) > 0 ORDER BY created_at DESC, id DESC LIMIT 1`,
      [workspaceId, jobId],
    );
    return row?.snapshot_ids ?? [];
  }

  async finish(id: string, outcome: { status: RunStatus; counts: RunCounts; error?: string | null }): Promise<void> {
    await atomically(this.db, async (tx) => {
      const [ended] = await tx.query<Run>(
        `UPDATE runs SET status = $2, counts = $3, error = $4, ended_at = now() WHERE id = $1 AND status IN ('queued', 'running') RETURNING *`,
        [id, outcome.status, JSON.stringify(outcome.counts), outcome.error ?? null],
      );
      if (ended) await new EventStore(tx).record({ workspaceId: ended.workspace_id, type: runEventType(ended), data: runEventData(ended) });
    });
  }
}

/** The `data` of a run's events (schemas in event-catalog.ts). */
const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

export function runEventData(run: Run): Record<string, unknown> {
  return {
    run_id: run.id, job_id: run.job_id, trigger: run.trigger, status: run.status, mapping_id: run.mapping_id, mapping_version: run.mapping_version,
    counts: { ...NO_COUNTS, ...run.counts }, error: run.error, started_at: iso(run.started_at), ended_at: iso(run.ended_at),
  };
}

export function runEventType(run: Run): 'run.completed' | 'run.failed' {
  return run.status === 'succeeded' || run.status === 'partial' ? 'run.completed' : 'run.failed';
}
