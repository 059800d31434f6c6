import type { Queryable } from './db.js';

export type StepStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface RunStep {
  name: string;
  status: StepStatus;
  started_at: Date;
  ended_at: Date | null;
  snapshot_ids: string[];
  detail: string | null;
}

/**
 * A run's timeline, written by the activities as they go (the workflow itself stays free of
 * I/O). Writes are idempotent per (run, step name): a retried activity resumes its step
 * instead of adding one, and keeps the time it first started.
 */
export class RunStepStore {
  constructor(private readonly db: Queryable) {}

  /** The step has started (again, when its activity is retried). */
  async begin(runId: string, name: string, position: number): Promise<void> {
    await this.db.query(
      `INSERT INTO run_steps (run_id, name, position, status) VALUES ($1, $2, $3, 'running')
       ON CONFLICT (run_id, name) DO UPDATE SET status = 'running', ended_at = NULL, detail = NULL WHERE run_steps.status <> 'succeeded'`,
      [runId, name, position],
    );
  }

  async end(runId: string, name: string, outcome: { status: Exclude<StepStatus, 'running'>; snapshotIds?: string[]; detail?: string | null }): Promise<void> {
    await this.db.query(
      `UPDATE run_steps SET status = $3, ended_at = now(), snapshot_ids = COALESCE($4, snapshot_ids), detail = $5 WHERE run_id = $1 AND name = $2`,
      [runId, name, outcome.status, outcome.snapshotIds ?? null, outcome.detail ?? null],
    );
  }

  /** A step that happened outside any activity (supplied data), recorded as done at once. */
  async record(runId: string, name: string, position: number, snapshotIds: string[], detail: string | null): Promise<void> {
    await this.db.query(
      `INSERT INTO run_steps (run_id, name, position, status, ended_at, snapshot_ids, detail) VALUES ($1, $2, $3, 'succeeded', now(), $4, $5)
       ON CONFLICT (run_id, name) DO NOTHING`,
      [runId, name, position, snapshotIds, detail],
    );
  }

  /** Steps still running when the run ended (cancelled, failed elsewhere) end with it. */
  async closeOpen(runId: string, status: 'failed' | 'cancelled' | 'succeeded'): Promise<void> {
    await this.db.query(`UPDATE run_steps SET status = $2, ended_at = now() WHERE run_id = $1 AND status = 'running'`, [runId, status]);
  }

  async list(runId: string): Promise<RunStep[]> {
    return this.db.query<RunStep>(
      'SELECT name, status, started_at, ended_at, snapshot_ids, detail FROM run_steps WHERE run_id = $1 ORDER BY position, started_at, name',
      [runId],
    );
  }

  /** The steps of many runs in one query (run listings). */
  async listMany(runIds: string[]): Promise<Map<string, RunStep[]>> {
    const byRun = new Map<string, RunStep[]>();
    if (runIds.length === 0) return byRun;
    const rows = await this.db.query<RunStep & { run_id: string }>(
      'SELECT run_id, name, status, started_at, ended_at, snapshot_ids, detail FROM run_steps WHERE run_id = ANY($1) ORDER BY position, started_at, name',
      [runIds],
    );
    for (const { run_id, ...step } of rows) byRun.set(run_id, [...(byRun.get(run_id) ?? []), step]);
    return byRun;
  }
}
