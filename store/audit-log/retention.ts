import type { Db, Queryable } from '../db.js';
import { appendAuditEntry, appendInOwnTransaction } from './append.js';
import { ARCHIVE_BATCH, COLUMNS, DAY_MS, SYSTEM_ACTOR, latestCheckpoint, lockChain, nextTurn, type ArchiveResult, type AuditActor, type AuditContext, type Retention } from './model.js';

/** Retention: entries past a workspace's period move to the archive behind checkpoints, never dropped. */
export class AuditLogRetention {
  constructor(private readonly db: Db) {}

  /**
   * Moves live entries older than `olderThanDays` into audit_log_archive, a prefix of the chain
   * at a time (in short batches, so appends wait on the lock briefly and, on PGlite, other requests
   * run between batches), recording after each batch a checkpoint with the last archived seq and
   * hash: the live log's first entry links to it, so both parts stay verifiable. Nothing is ever
   * dropped. The run itself is an audit entry.
   */
  async archive(workspaceId: string, olderThanDays: number, options: { now?: Date; actor?: AuditActor } = {}): Promise<ArchiveResult> {
    if (!Number.isInteger(olderThanDays) || olderThanDays < 0) throw new Error('audit log: olderThanDays must be a whole number ≥ 0');
    const cutoff = new Date((options.now ?? new Date()).getTime() - olderThanDays * DAY_MS);
    let archived = 0;
    let checkpoint: ArchiveResult['checkpoint'] = null;
    for (;;) {
      const batch = await this.db.transaction((tx) => this.archiveBatch(tx, workspaceId, cutoff));
      if (!batch) break;
      archived += batch.count;
      checkpoint = { seq: batch.seq, hash: batch.hash };
      await nextTurn();
    }
    if (archived > 0) {
      await appendInOwnTransaction(this.db, {
        workspaceId, actor: options.actor ?? SYSTEM_ACTOR, action: 'audit_log.archived', resourceType: 'audit_log',
        changes: { archived_count: archived, through_seq: checkpoint!.seq, through_hash: checkpoint!.hash, older_than_days: olderThanDays, cutoff: cutoff.toISOString() },
      });
    }
    return { workspace_id: workspaceId, archived, cutoff: cutoff.toISOString(), checkpoint };
  }

  private async archiveBatch(tx: Queryable, workspaceId: string, cutoff: Date): Promise<{ count: number; seq: number; hash: string } | null> {
    await lockChain(tx, workspaceId);
    // Everything before the first entry at or after the cutoff: the archive stays a prefix of
    // the chain even if occurred_at and seq ever disagreed (a clock stepping back).
    const [bounds] = await tx.query<{ first: number | string | null; keep_from: number | string | null; last: number | string | null }>(
      `SELECT (SELECT min(seq) FROM audit_log WHERE workspace_id = $1) AS first,
              (SELECT min(seq) FROM audit_log WHERE workspace_id = $1 AND occurred_at >= $2) AS keep_from,
              (SELECT max(seq) FROM audit_log WHERE workspace_id = $1) AS last`,
      [workspaceId, cutoff.toISOString()],
    );
    if (!bounds || bounds.first === null || bounds.last === null) return null;
    const first = Number(bounds.first);
    const through = Math.min(bounds.keep_from === null ? Number(bounds.last) : Number(bounds.keep_from) - 1, first + ARCHIVE_BATCH - 1);
    if (through < first) return null;
    const [moved] = await tx.query<{ seq: number | string; hash: string; count: number | string }>(
      `WITH moved AS (DELETE FROM audit_log WHERE workspace_id = $1 AND seq BETWEEN $2 AND $3 RETURNING ${COLUMNS}),
            archived AS (INSERT INTO audit_log_archive (${COLUMNS}) SELECT ${COLUMNS} FROM moved RETURNING seq, hash)
       SELECT seq, hash, (SELECT count(*) FROM archived) AS count FROM archived ORDER BY seq DESC LIMIT 1`,
      [workspaceId, first, through],
    );
    if (!moved) return null;
    const result = { count: Number(moved.count), seq: Number(moved.seq), hash: moved.hash };
    await tx.query(
      'INSERT INTO audit_log_checkpoints (workspace_id, seq, hash, archived_count, cutoff) VALUES ($1, $2, $3, $4, $5)',
      [workspaceId, result.seq, result.hash, result.count, cutoff.toISOString()],
    );
    return result;
  }

  async retention(workspaceId: string): Promise<Retention> {
    const [settings] = await this.db.query<{ retention_days: number | null; updated_at: Date }>(
      'SELECT retention_days, updated_at FROM audit_log_settings WHERE workspace_id = $1',
      [workspaceId],
    );
    const latest = await latestCheckpoint(this.db, workspaceId);
    return {
      days: settings?.retention_days ?? null,
      updated_at: settings?.updated_at ?? null,
      archived_through: latest ? { seq: latest.seq, hash: latest.hash, archived_at: latest.created_at } : null,
    };
  }

  /** Sets (or, with null, clears) how many days entries stay live; the change is itself audited. */
  async setRetention(workspaceId: string, days: number | null, context: AuditContext): Promise<Retention> {
    if (days !== null && (!Number.isInteger(days) || days < 1)) throw new Error('audit log: retention days must be a whole number ≥ 1 or null');
    await this.db.transaction(async (tx) => {
      const [before] = await tx.query<{ retention_days: number | null }>('SELECT retention_days FROM audit_log_settings WHERE workspace_id = $1 FOR UPDATE', [workspaceId]);
      await tx.query(
        `INSERT INTO audit_log_settings (workspace_id, retention_days) VALUES ($1, $2)
         ON CONFLICT (workspace_id) DO UPDATE SET retention_days = EXCLUDED.retention_days, updated_at = now()`,
        [workspaceId, days],
      );
      await appendAuditEntry(tx, {
        ...context, workspaceId, action: 'audit_log.retention_updated', resourceType: 'audit_log',
        changes: { retention_days: { from: before?.retention_days ?? null, to: days } },
      });
    });
    return this.retention(workspaceId);
  }

  /** The scheduled retention pass: archives, for every workspace with a retention period, what is past it. */
  async runRetention(now = new Date()): Promise<ArchiveResult[]> {
    const due = await this.db.query<{ workspace_id: string; retention_days: number }>(
      'SELECT workspace_id, retention_days FROM audit_log_settings WHERE retention_days IS NOT NULL ORDER BY workspace_id',
    );
    const results: ArchiveResult[] = [];
    const failures: unknown[] = [];
    for (const { workspace_id, retention_days } of due) {
      // One workspace that fails must not hold up the others: try them all, then report.
      try {
        results.push(await this.archive(workspace_id, retention_days, { now }));
      } catch (err) {
        failures.push(err);
      }
    }
    if (failures.length) throw new AggregateError(failures, `audit log retention failed for ${failures.length} of ${due.length} workspaces`);
    return results;
  }
}
