import type { Queryable } from './db.js';

export interface Collection {
  id: string;
  workspace_id: string;
  connection_id: string;
  datasets: string[];
  status: 'running' | 'succeeded' | 'failed';
  workflow_id: string;
  error: string | null;
  snapshot_ids: string[];
  created_at: Date;
  completed_at: Date | null;
}

/** A collection run on its own (POST /connections/:id/collect), outside any job. */
export class CollectionStore {
  constructor(private readonly db: Queryable) {}

  async create(c: { id: string; workspaceId: string; connectionId: string; datasets: string[]; workflowId: string }): Promise<Collection> {
    const [row] = await this.db.query<Collection>(
      `INSERT INTO collections (id, workspace_id, connection_id, datasets, status, workflow_id) VALUES ($1, $2, $3, $4, 'running', $5) RETURNING *`,
      [c.id, c.workspaceId, c.connectionId, c.datasets, c.workflowId],
    );
    return row!;
  }

  async get(workspaceId: string, id: string): Promise<Collection | null> {
    const [row] = await this.db.query<Collection>('SELECT * FROM collections WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
    return row ?? null;
  }

  async finish(id: string, outcome: { status: 'succeeded' | 'failed'; snapshotIds: string[]; error?: string }): Promise<void> {
    await this.db.query(
      `UPDATE collections SET status = $2, snapshot_ids = $3, error = $4, completed_at = now() WHERE id = $1 AND status = 'running'`,
      [id, outcome.status, outcome.snapshotIds, outcome.error ?? null],
    );
  }
}
