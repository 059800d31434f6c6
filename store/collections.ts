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

  /**
   * The job a collection is for: that of the run whose workflow collects, or null for a
   * collection on its own (POST /connections/:id/collect).
   */
  async jobOfWorkflow(workflowId: string): Promise<string | null> {
    const [row] = await this.db.query<{ job_id: string | null }>('SELECT job_id FROM runs WHERE workflow_id = $1', [workflowId]);
    return row?.job_id ?? null;
  }

  /**
   * Where the next collection of an incremental dataset (okta.system_log, …) starts: when the
   * last successful one by the same collector started. The cursor belongs to the collector: a
   * job's runs read and advance the job's own (`jobId`), so that nothing else can make a run
   * miss events; collections on their own (`jobId` null) share one per connection and dataset,
   * which never moves a job's. No cursor yet: null (the connector reads its initial window).
   */
  async cursor(workspaceId: string, connectionId: string, dataset: string, jobId: string | null): Promise<Date | null> {
    const [row] = await this.db.query<{ since: Date }>(
      'SELECT since FROM collection_cursors WHERE workspace_id = $1 AND connection_id = $2 AND dataset = $3 AND job_id = $4',
      [workspaceId, connectionId, dataset, jobId ?? ''],
    );
    return row?.since ?? null;
  }

  /** Moves a collector's cursor to `since` (a collection that stored its snapshot); never backwards, so a retry changes nothing. */
  async advanceCursor(workspaceId: string, connectionId: string, dataset: string, jobId: string | null, since: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO collection_cursors (workspace_id, connection_id, dataset, job_id, since) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (workspace_id, connection_id, dataset, job_id) DO UPDATE SET since = GREATEST(collection_cursors.since, EXCLUDED.since), updated_at = now()`,
      [workspaceId, connectionId, dataset, jobId ?? '', since],
    );
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
