import type { Queryable } from './db.js';

export interface Diagnostic {
  id: string;
  workspace_id: string;
  status: 'running' | 'completed' | 'failed';
  workflow_id: string;
  message: string | null;
  worker_identity: string | null;
  created_at: Date;
  completed_at: Date | null;
}

/** Diagnostics prove the chain API → Temporal → worker → store on a live installation. */
export class DiagnosticStore {
  constructor(private readonly db: Queryable) {}

  async create(input: { id: string; workspaceId: string; workflowId: string }): Promise<Diagnostic> {
    const [row] = await this.db.query<Diagnostic>(
      `INSERT INTO diagnostics (id, workspace_id, status, workflow_id) VALUES ($1, $2, 'running', $3) RETURNING *`,
      [input.id, input.workspaceId, input.workflowId],
    );
    return row!;
  }

  async get(workspaceId: string, id: string): Promise<Diagnostic | null> {
    const [row] = await this.db.query<Diagnostic>('SELECT * FROM diagnostics WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
    return row ?? null;
  }

  async fail(id: string, message: string): Promise<void> {
    await this.db.query(`UPDATE diagnostics SET status = 'failed', completed_at = now(), message = $2 WHERE id = $1 AND status = 'running'`, [id, message]);
  }

  /** Idempotent: a retried activity finds the row already completed and changes nothing. */
  async complete(id: string, workerIdentity: string, message: string): Promise<void> {
    await this.db.query(
      `UPDATE diagnostics SET status = 'completed', completed_at = now(), worker_identity = $2, message = $3
       WHERE id = $1 AND status = 'running'`,
      [id, workerIdentity, message],
    );
  }
}
