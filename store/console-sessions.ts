import type { Queryable } from './db.js';

export interface ConsoleSession {
  id: string;
  workspace_id: string;
  key_id: string;
  created_at: Date;
  last_seen_at: Date;
  ended_at: Date | null;
}

/** Console sign-ins, kept in the database so that every API process sees a sign-out at once. */
export class ConsoleSessionStore {
  constructor(private readonly db: Queryable) {}

  async create(s: { id: string; workspaceId: string; keyId: string; ip: string | null; userAgent: string | null }): Promise<ConsoleSession> {
    const [row] = await this.db.query<ConsoleSession>(
      `INSERT INTO console_sessions (id, workspace_id, key_id, ip, user_agent) VALUES ($1, $2, $3, $4, $5)
       RETURNING id, workspace_id, key_id, created_at, last_seen_at, ended_at`,
      [s.id, s.workspaceId, s.keyId, s.ip, s.userAgent?.slice(0, 500) ?? null],
    );
    return row!;
  }

  async get(id: string): Promise<ConsoleSession | null> {
    const [row] = await this.db.query<ConsoleSession>('SELECT id, workspace_id, key_id, created_at, last_seen_at, ended_at FROM console_sessions WHERE id = $1', [id]);
    return row ?? null;
  }

  /** The session was used now (written at most once a minute per session by the caller). */
  async touch(id: string, at: Date): Promise<void> {
    await this.db.query('UPDATE console_sessions SET last_seen_at = GREATEST(last_seen_at, $2) WHERE id = $1 AND ended_at IS NULL', [id, at]);
  }

  /** Ends the session (sign-out, idle timeout); true when it was still open. */
  async end(id: string): Promise<boolean> {
    const rows = await this.db.query<{ id: string }>('UPDATE console_sessions SET ended_at = now() WHERE id = $1 AND ended_at IS NULL RETURNING id', [id]);
    return rows.length > 0;
  }

  /** Ends every open session of a key (it was revoked). */
  async endForKey(keyId: string): Promise<number> {
    const rows = await this.db.query<{ id: string }>('UPDATE console_sessions SET ended_at = now() WHERE key_id = $1 AND ended_at IS NULL RETURNING id', [keyId]);
    return rows.length;
  }
}
