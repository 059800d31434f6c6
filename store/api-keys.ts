import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Queryable } from './db.js';
import { newId } from '../lib/ids.js';
import { toPage, type Page, type PageRequest } from './pagination.js';

export const WORKSPACE_SCOPES = [
  'admin',
  'config:read',
  'config:write',
  'runs:read',
  'runs:write',
  'evidence:read',
  'evidence:write',
  'audit:read',
  'events:subscribe',
] as const;
export const ALL_SCOPES = [...WORKSPACE_SCOPES, 'workspaces:admin'] as const;
export type Scope = (typeof ALL_SCOPES)[number];

export interface ApiKey {
  id: string;
  workspace_id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  is_bootstrap: boolean;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

interface ApiKeyRow extends ApiKey {
  key_hash: string;
}

const KEY_PATTERN = /^ehk_([A-Za-z0-9_-]{40,100})$/;
const PREFIX_LENGTH = 8;

function hashKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** `ehk_` + 32 random bytes (base64url). High entropy, so a fast hash is the right one. */
export function generateKey(): string {
  return `ehk_${randomBytes(32).toString('base64url')}`;
}

const COLUMNS = 'id, workspace_id, name, prefix, scopes, is_bootstrap, created_at, last_used_at, revoked_at';

export class ApiKeyStore {
  constructor(private readonly db: Queryable) {}

  /** Stores the hash of `key` (a new random key unless given) and returns the record and the key. */
  async create(input: { workspaceId: string; name: string; scopes: Scope[]; key?: string; isBootstrap?: boolean }): Promise<{ record: ApiKey; key: string }> {
    const key = input.key ?? generateKey();
    const match = KEY_PATTERN.exec(key);
    const prefix = (match ? match[1]! : key).slice(0, PREFIX_LENGTH);
    const [record] = await this.db.query<ApiKey>(
      `INSERT INTO api_keys (id, workspace_id, name, prefix, key_hash, scopes, is_bootstrap)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [newId('key'), input.workspaceId, input.name, prefix, hashKey(key).toString('hex'), input.scopes, input.isBootstrap ?? false],
    );
    return { record: record!, key };
  }

  /**
   * Finds the live key matching `presented`. Candidates are looked up by their public prefix
   * and the full hashes compared in constant time, so response timing tells nothing about
   * how much of a guessed key was right.
   */
  async verify(presented: string): Promise<ApiKey | null> {
    if (presented.length > 200) return null;
    const match = KEY_PATTERN.exec(presented);
    const prefix = (match ? match[1]! : presented).slice(0, PREFIX_LENGTH);
    const candidates = await this.db.query<ApiKeyRow>(
      `SELECT ${COLUMNS}, key_hash FROM api_keys WHERE prefix = $1 AND revoked_at IS NULL`,
      [prefix],
    );
    const presentedHash = hashKey(presented);
    let found: ApiKey | null = null;
    for (const candidate of candidates) {
      const stored = Buffer.from(candidate.key_hash, 'hex');
      if (stored.length === presentedHash.length && timingSafeEqual(stored, presentedHash)) {
        const { key_hash: _omit, ...record } = candidate;
        found = record;
      }
    }
    return found;
  }

  /** Whether this exact key was ever registered, revoked or not. */
  async knows(key: string): Promise<boolean> {
    const rows = await this.db.query('SELECT 1 FROM api_keys WHERE key_hash = $1', [hashKey(key).toString('hex')]);
    return rows.length > 0;
  }

  async findBootstrap(): Promise<ApiKey | null> {
    const [row] = await this.db.query<ApiKey>(`SELECT ${COLUMNS} FROM api_keys WHERE is_bootstrap AND revoked_at IS NULL ORDER BY id LIMIT 1`);
    return row ?? null;
  }

  /** Whether a bootstrap key was ever issued, revoked since or not. */
  async everIssuedBootstrap(): Promise<boolean> {
    return (await this.db.query('SELECT 1 FROM api_keys WHERE is_bootstrap LIMIT 1')).length > 0;
  }

  async touch(id: string): Promise<void> {
    await this.db.query('UPDATE api_keys SET last_used_at = now() WHERE id = $1', [id]);
  }

  async list(workspaceId: string, page: PageRequest): Promise<Page<ApiKey>> {
    const rows = await this.db.query<ApiKey>(
      `SELECT ${COLUMNS} FROM api_keys WHERE workspace_id = $1 AND ($2::text IS NULL OR id > $2) ORDER BY id LIMIT $3`,
      [workspaceId, page.after, page.limit + 1],
    );
    return toPage(rows, page.limit);
  }

  /** Revokes a live key of the workspace; false when there is none (unknown, other workspace, already revoked). */
  async revoke(workspaceId: string, id: string): Promise<boolean> {
    const rows = await this.db.query(
      'UPDATE api_keys SET revoked_at = now() WHERE workspace_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING id',
      [workspaceId, id],
    );
    return rows.length === 1;
  }
}
