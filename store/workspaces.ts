import type { Queryable } from './db.js';
import { newId } from '../lib/ids.js';
import { toPage, type Page, type PageRequest } from './pagination.js';

export interface Workspace {
  id: string;
  name: string;
  created_at: Date;
}

export const DEFAULT_WORKSPACE_ID = 'default';

export class WorkspaceStore {
  constructor(private readonly db: Queryable) {}

  async ensureDefault(): Promise<void> {
    await this.db.query(`INSERT INTO workspaces (id, name) VALUES ($1, 'Default') ON CONFLICT (id) DO NOTHING`, [DEFAULT_WORKSPACE_ID]);
  }

  async create(name: string): Promise<Workspace> {
    const [row] = await this.db.query<Workspace>('INSERT INTO workspaces (id, name) VALUES ($1, $2) RETURNING *', [newId('ws'), name]);
    return row!;
  }

  async get(id: string): Promise<Workspace | null> {
    const [row] = await this.db.query<Workspace>('SELECT * FROM workspaces WHERE id = $1', [id]);
    return row ?? null;
  }

  async list(page: PageRequest): Promise<Page<Workspace>> {
    const rows = await this.db.query<Workspace>(
      'SELECT * FROM workspaces WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2',
      [page.after, page.limit + 1],
    );
    return toPage(rows, page.limit);
  }
}
