import { atomically, type Queryable } from './db.js';
import { EventStore } from './events.js';

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

  /** Ends the collection once; a failure emits connection.failed with it. */
  async finish(id: string, outcome: { status: 'succeeded' | 'failed'; snapshotIds: string[]; error?: string }): Promise<void> {
    await atomically(this.db, async (tx) => {
      const [ended] = await tx.query<Collection & { connection_type: string | null }>(
        `UPDATE collections c SET status = $2, snapshot_ids = $3, error = $4, completed_at = now() WHERE c.id = $1 AND c.status = 'running'
         RETURNING c.*, (SELECT type FROM connections WHERE id = c.connection_id) AS connection_type`,
        [id, outcome.status, outcome.snapshotIds, outcome.error ?? null],
      );
      if (ended?.status === 'failed') {
        await new EventStore(tx).record({ workspaceId: ended.workspace_id, type: 'connection.failed', data: connectionFailedData({ ...ended, collectionId: ended.id, runId: null }) });
      }
    });
  }
}

/** The data of connection.failed, for a collection on its own or a job run's collection. */
export function connectionFailedData(f: { connection_id: string; connection_type: string | null; collectionId: string | null; runId: string | null; datasets: string[]; error: string | null }): Record<string, unknown> {
  return {
    connection_id: f.connection_id, connection_type: f.connection_type, collection_id: f.collectionId, run_id: f.runId,
    datasets: f.datasets, error: f.error ?? 'collection failed', failed_at: new Date().toISOString(),
  };
}
