import type { Queryable } from './db.js';
import { toPage, type Page, type PageRequest } from './pagination.js';

export interface Snapshot {
  id: string;
  workspace_id: string;
  connection_id: string;
  dataset: string;
  sha256: string;
  bytes: number;
  record_count: number;
  collected_at: Date;
  metadata: Record<string, unknown>;
  collection_key: string;
}

export class SnapshotStore {
  constructor(private readonly db: Queryable) {}

  /** Records a snapshot once per collection key: a retried activity gets the first row back. */
  async record(s: Omit<Snapshot, 'bytes'> & { bytes: number }): Promise<Snapshot> {
    await this.db.query(
      `INSERT INTO snapshots (id, workspace_id, connection_id, dataset, sha256, bytes, record_count, collected_at, metadata, collection_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (collection_key) DO NOTHING`,
      [s.id, s.workspace_id, s.connection_id, s.dataset, s.sha256, s.bytes, s.record_count, s.collected_at, JSON.stringify(s.metadata), s.collection_key],
    );
    const [row] = await this.db.query<Snapshot>('SELECT * FROM snapshots WHERE collection_key = $1', [s.collection_key]);
    return normalise(row!);
  }

  /** The snapshots recorded under these collection keys (those that exist). */
  async byCollectionKeys(keys: string[]): Promise<Snapshot[]> {
    if (!keys.length) return [];
    const rows = await this.db.query<Snapshot>('SELECT * FROM snapshots WHERE collection_key = ANY($1)', [keys]);
    return rows.map(normalise);
  }

  async get(workspaceId: string, id: string): Promise<Snapshot | null> {
    const [row] = await this.db.query<Snapshot>('SELECT * FROM snapshots WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
    return row ? normalise(row) : null;
  }

  async getMany(workspaceId: string, ids: string[]): Promise<Snapshot[]> {
    const rows = await this.db.query<Snapshot>('SELECT * FROM snapshots WHERE workspace_id = $1 AND id = ANY($2) ORDER BY id', [workspaceId, ids]);
    return rows.map(normalise);
  }

  /**
   * A connection's snapshots, newest first (one dataset or all): keyset pages by id, which
   * sorts by the time the snapshot was stored.
   */
  async listForConnection(workspaceId: string, connectionId: string, page: PageRequest, dataset?: string): Promise<Page<Snapshot>> {
    const rows = await this.db.query<Snapshot>(
      `SELECT * FROM snapshots WHERE workspace_id = $1 AND connection_id = $2 AND ($3::text IS NULL OR dataset = $3) AND ($4::text IS NULL OR id < $4)
       ORDER BY id DESC LIMIT $5`,
      [workspaceId, connectionId, dataset ?? null, page.after, page.limit + 1],
    );
    return toPage(rows.map(normalise), page.limit);
  }

  /** The newest snapshot of each of the connection's datasets (what a preview reads by default). */
  async latestPerDataset(workspaceId: string, connectionId: string): Promise<Snapshot[]> {
    const rows = await this.db.query<Snapshot>(
      `SELECT DISTINCT ON (dataset) * FROM snapshots WHERE workspace_id = $1 AND connection_id = $2 ORDER BY dataset, id DESC`,
      [workspaceId, connectionId],
    );
    return rows.map(normalise);
  }

  /** When the last successful collection of this dataset started (for incremental datasets). */
  async lastCollectedAt(workspaceId: string, connectionId: string, dataset: string): Promise<Date | null> {
    const [row] = await this.db.query<{ collected_at: Date }>(
      'SELECT collected_at FROM snapshots WHERE workspace_id = $1 AND connection_id = $2 AND dataset = $3 ORDER BY collected_at DESC LIMIT 1',
      [workspaceId, connectionId, dataset],
    );
    return row?.collected_at ?? null;
  }
}

// pg returns bigint columns as strings.
function normalise(row: Snapshot): Snapshot {
  return { ...row, bytes: Number(row.bytes) };
}
