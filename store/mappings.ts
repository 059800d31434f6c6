import { atomically, type Queryable } from './db.js';
import { EventStore } from './events.js';
import { toPage, type Page, type PageRequest } from './pagination.js';

export interface MappingSet {
  id: string;
  workspace_id: string;
  name: string;
  description: string | null;
  latest_version: number;
  created_at: Date;
  updated_at: Date;
}

export interface MappingVersion {
  mapping_id: string;
  version: number;
  rules: unknown[];
  pack: string | null;
  restored_from: number | null;
  created_by: string | null;
  created_at: Date;
  /** The text the rules were written as, when they were sent as text. */
  source: string | null;
  source_format: 'yaml' | 'json' | null;
  message: string | null;
}

/** What a new version is made of besides its rules. */
export interface VersionText {
  source?: { text: string; format: 'yaml' | 'json' } | null;
  message?: string | null;
}

/**
 * Versioned mapping sets: every change is a new immutable version (n + 1); a restore copies
 * an old version's rules into the next one, so history is never rewritten. Built over a
 * transaction, its writes join it (the API records them in the audit log there).
 */
export class MappingStore {
  constructor(private readonly db: Queryable) {}

  async create(m: { id: string; workspaceId: string; name: string; description?: string; rules: unknown[]; pack?: string; createdBy: string } & VersionText): Promise<{ set: MappingSet; version: MappingVersion }> {
    return atomically(this.db, async (tx) => {
      const [set] = await tx.query<MappingSet>(
        'INSERT INTO mappings (id, workspace_id, name, description, latest_version) VALUES ($1, $2, $3, $4, 1) RETURNING *',
        [m.id, m.workspaceId, m.name, m.description ?? null],
      );
      const version = await insertVersion(tx, { mappingId: m.id, version: 1, rules: m.rules, pack: m.pack ?? null, restoredFrom: null, createdBy: m.createdBy, source: m.source, message: m.message });
      await recordPublished(tx, set!, version);
      return { set: set!, version };
    });
  }

  async get(workspaceId: string, id: string): Promise<MappingSet | null> {
    const [row] = await this.db.query<MappingSet>('SELECT * FROM mappings WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL', [workspaceId, id]);
    return row ?? null;
  }

  async list(workspaceId: string, page: PageRequest): Promise<Page<MappingSet>> {
    const rows = await this.db.query<MappingSet>(
      'SELECT * FROM mappings WHERE workspace_id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR id > $2) ORDER BY id LIMIT $3',
      [workspaceId, page.after, page.limit + 1],
    );
    return toPage(rows, page.limit);
  }

  async version(mappingId: string, version: number): Promise<MappingVersion | null> {
    const [row] = await this.db.query<MappingVersion>('SELECT * FROM mapping_versions WHERE mapping_id = $1 AND version = $2', [mappingId, version]);
    return row ?? null;
  }

  async versions(mappingId: string): Promise<Omit<MappingVersion, 'rules' | 'source' | 'source_format'>[]> {
    return this.db.query('SELECT mapping_id, version, pack, restored_from, created_by, created_at, message FROM mapping_versions WHERE mapping_id = $1 ORDER BY version DESC', [mappingId]);
  }

  /**
   * Appends version n + 1. The row lock on the set serialises concurrent writers, so two
   * simultaneous PUTs get two consecutive versions, never the same number.
   */
  async append(workspaceId: string, id: string, v: { rules: unknown[]; pack?: string | null; restoredFrom?: number; createdBy: string; name?: string; description?: string } & VersionText): Promise<{ set: MappingSet; version: MappingVersion } | null> {
    return atomically(this.db, async (tx) => {
      const [locked] = await tx.query<MappingSet>('SELECT * FROM mappings WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE', [workspaceId, id]);
      if (!locked) return null;
      const next = locked.latest_version + 1;
      const version = await insertVersion(tx, { mappingId: id, version: next, rules: v.rules, pack: v.pack ?? null, restoredFrom: v.restoredFrom ?? null, createdBy: v.createdBy, source: v.source, message: v.message });
      const [set] = await tx.query<MappingSet>(
        'UPDATE mappings SET latest_version = $2, name = COALESCE($3, name), description = COALESCE($4, description), updated_at = now() WHERE id = $1 RETURNING *',
        [id, next, v.name ?? null, v.description ?? null],
      );
      await recordPublished(tx, set!, version);
      return { set: set!, version };
    });
  }

  async delete(workspaceId: string, id: string): Promise<boolean> {
    const rows = await this.db.query('UPDATE mappings SET deleted_at = now() WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING id', [workspaceId, id]);
    return rows.length === 1;
  }
}

async function insertVersion(tx: Queryable, v: { mappingId: string; version: number; rules: unknown[]; pack: string | null; restoredFrom: number | null; createdBy: string } & VersionText): Promise<MappingVersion> {
  const [row] = await tx.query<MappingVersion>(
    `INSERT INTO mapping_versions (mapping_id, version, rules, pack, restored_from, created_by, source, source_format, message)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
    [v.mappingId, v.version, JSON.stringify(v.rules), v.pack, v.restoredFrom, v.createdBy, v.source?.text ?? null, v.source?.format ?? null, v.message ?? null],
  );
  return row!;
}

/** Every published version (created, changed, restored) emits mapping.published in its transaction. */
async function recordPublished(tx: Queryable, set: MappingSet, version: MappingVersion): Promise<void> {
  await new EventStore(tx).record({
    workspaceId: set.workspace_id,
    type: 'mapping.published',
    data: { mapping_id: set.id, name: set.name, version: version.version, restored_from: version.restored_from, rule_count: version.rules.length, published_at: new Date(version.created_at).toISOString() },
  });
}
