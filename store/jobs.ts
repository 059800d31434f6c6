import type { Queryable } from './db.js';
import { toPage, type Page, type PageRequest } from './pagination.js';

export interface Schedule {
  cron: string;
  timezone: string;
}

export interface Job {
  id: string;
  workspace_id: string;
  name: string;
  connection_id: string;
  datasets: string[];
  mapping_id: string;
  mapping_version: number | null;
  destination_id: string;
  target: Record<string, unknown>;
  schedule: Schedule | null;
  enabled: boolean;
  /** How long its results stay fresh, as set ("36h"); null: twice the schedule's interval, or 7 days. */
  fresh_for?: string | null;
  /** In effect, in milliseconds (null: the 7-day default of store/checks.ts). */
  fresh_for_ms?: number | string | null;
  created_at: Date;
  updated_at: Date;
}

export type JobFields = Omit<Job, 'id' | 'workspace_id' | 'created_at' | 'updated_at' | 'fresh_for_ms'>;

export class JobStore {
  constructor(private readonly db: Queryable) {}

  async insert(id: string, workspaceId: string, f: JobFields, tx: Queryable = this.db, freshForMs?: number | null): Promise<Job> {
    const [row] = await tx.query<Job>(
      `INSERT INTO jobs (id, workspace_id, name, connection_id, datasets, mapping_id, mapping_version, destination_id, target, schedule, enabled, fresh_for, fresh_for_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *`,
      [id, workspaceId, f.name, f.connection_id, f.datasets, f.mapping_id, f.mapping_version, f.destination_id, JSON.stringify(f.target), f.schedule ? JSON.stringify(f.schedule) : null, f.enabled, f.fresh_for ?? null, freshForMs ?? null],
    );
    return row!;
  }

  async update(workspaceId: string, id: string, f: JobFields, tx: Queryable = this.db, freshForMs?: number | null): Promise<Job | null> {
    const [row] = await tx.query<Job>(
      `UPDATE jobs SET name = $3, connection_id = $4, datasets = $5, mapping_id = $6, mapping_version = $7, destination_id = $8, target = $9,
       schedule = $10, enabled = $11, fresh_for = $12, fresh_for_ms = $13, updated_at = now() WHERE workspace_id = $1 AND id = $2 RETURNING *`,
      [workspaceId, id, f.name, f.connection_id, f.datasets, f.mapping_id, f.mapping_version, f.destination_id, JSON.stringify(f.target), f.schedule ? JSON.stringify(f.schedule) : null, f.enabled, f.fresh_for ?? null, freshForMs ?? null],
    );
    return row ?? null;
  }

  async get(workspaceId: string, id: string): Promise<Job | null> {
    const [row] = await this.db.query<Job>('SELECT * FROM jobs WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
    return row ?? null;
  }

  async list(workspaceId: string, page: PageRequest): Promise<Page<Job>> {
    const rows = await this.db.query<Job>('SELECT * FROM jobs WHERE workspace_id = $1 AND ($2::text IS NULL OR id > $2) ORDER BY id LIMIT $3', [workspaceId, page.after, page.limit + 1]);
    return toPage(rows, page.limit);
  }

  /** The jobs pinned to a version of this mapping set (mapping_version set). */
  async pinnedToMapping(workspaceId: string, mappingId: string): Promise<{ id: string; name: string; mapping_version: number }[]> {
    return this.db.query('SELECT id, name, mapping_version FROM jobs WHERE workspace_id = $1 AND mapping_id = $2 AND mapping_version IS NOT NULL ORDER BY id', [workspaceId, mappingId]);
  }

  async usingMapping(workspaceId: string, mappingId: string): Promise<string[]> {
    return this.using(workspaceId, 'mapping_id', mappingId);
  }

  /** The jobs that use a mapping set, a connection or a destination (which may then not be deleted). */
  async using(workspaceId: string, reference: 'mapping_id' | 'connection_id' | 'destination_id', id: string): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(`SELECT id FROM jobs WHERE workspace_id = $1 AND ${reference} = $2 ORDER BY id`, [workspaceId, id]);
    return rows.map((r) => r.id);
  }

  /** The job, its row locked until the transaction ends: concurrent PATCHes and DELETEs of it queue up. */
  async getForUpdate(workspaceId: string, id: string): Promise<Job | null> {
    const [row] = await this.db.query<Job>('SELECT * FROM jobs WHERE workspace_id = $1 AND id = $2 FOR UPDATE', [workspaceId, id]);
    return row ?? null;
  }

  /**
   * Locks (FOR SHARE) the rows a job refers to, so none can be deleted before this transaction
   * commits; names the references that are gone.
   */
  async lockReferences(workspaceId: string, f: Pick<JobFields, 'connection_id' | 'mapping_id' | 'destination_id'>): Promise<string[]> {
    const missing: string[] = [];
    const checks = [
      ['connections', 'connection_id', f.connection_id, ''],
      ['mappings', 'mapping_id', f.mapping_id, ' AND deleted_at IS NULL'],
      ['destinations', 'destination_id', f.destination_id, ''],
    ] as const;
    for (const [table, field, id, live] of checks) {
      const rows = await this.db.query(`SELECT 1 FROM ${table} WHERE workspace_id = $1 AND id = $2${live} FOR SHARE`, [workspaceId, id]);
      if (!rows.length) missing.push(field);
    }
    return missing;
  }

  async delete(workspaceId: string, id: string, tx: Queryable = this.db): Promise<boolean> {
    return (await tx.query('DELETE FROM jobs WHERE workspace_id = $1 AND id = $2 RETURNING id', [workspaceId, id])).length === 1;
  }
}
