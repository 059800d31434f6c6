import type { Queryable } from './db.js';
import { toPage, type Page, type PageRequest } from './pagination.js';

export interface Connection {
  id: string;
  workspace_id: string;
  name: string;
  type: string;
  config: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

/** Connections (sources) and destinations: the same shape, each in its own table. */
export class ConnectionStore {
  constructor(private readonly db: Queryable, private readonly table: 'connections' | 'destinations' = 'connections') {}

  async insert(c: { id: string; workspaceId: string; name: string; type: string; config: Record<string, unknown> }, tx: Queryable = this.db): Promise<Connection> {
    const [row] = await tx.query<Connection>(
      `INSERT INTO ${this.table} (id, workspace_id, name, type, config) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [c.id, c.workspaceId, c.name, c.type, JSON.stringify(c.config)],
    );
    return row!;
  }

  async get(workspaceId: string, id: string): Promise<Connection | null> {
    const [row] = await this.db.query<Connection>(`SELECT * FROM ${this.table} WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
    return row ?? null;
  }

  /** The row, locked until the transaction ends: changes to one connection queue up. */
  async getForUpdate(workspaceId: string, id: string): Promise<Connection | null> {
    const [row] = await this.db.query<Connection>(`SELECT * FROM ${this.table} WHERE workspace_id = $1 AND id = $2 FOR UPDATE`, [workspaceId, id]);
    return row ?? null;
  }

  async list(workspaceId: string, page: PageRequest, type?: string): Promise<Page<Connection>> {
    const rows = await this.db.query<Connection>(
      `SELECT * FROM ${this.table} WHERE workspace_id = $1 AND ($2::text IS NULL OR id > $2) AND ($3::text IS NULL OR type = $3)
       ORDER BY id LIMIT $4`,
      [workspaceId, page.after, type ?? null, page.limit + 1],
    );
    return toPage(rows, page.limit);
  }

  async update(workspaceId: string, id: string, changes: { name?: string; config?: Record<string, unknown> }, tx: Queryable = this.db): Promise<Connection | null> {
    const [row] = await tx.query<Connection>(
      `UPDATE ${this.table} SET name = COALESCE($3, name), config = COALESCE($4, config), updated_at = now()
       WHERE workspace_id = $1 AND id = $2 RETURNING *`,
      [workspaceId, id, changes.name ?? null, changes.config ? JSON.stringify(changes.config) : null],
    );
    return row ?? null;
  }

  async delete(workspaceId: string, id: string, tx: Queryable = this.db): Promise<boolean> {
    return (await tx.query(`DELETE FROM ${this.table} WHERE workspace_id = $1 AND id = $2 RETURNING id`, [workspaceId, id])).length === 1;
  }
}
