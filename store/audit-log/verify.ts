import { GENESIS_HASH, VerificationHasher, entryHash } from '../../lib/audit-chain.js';
import type { Db, Queryable } from '../db.js';
import { COLUMNS, VERIFY_PAGE, latestCheckpoint, nextTurn, toEntry, type BreakReason, type EntryRow, type VerifyOptions, type VerifyReport, type VerifyScope } from './model.js';

/** Walks a workspace's chain and says whether it is intact, and where it first breaks. */
export class AuditLogVerifier {
  constructor(private readonly db: Db) {}

  /**
   * Walks the chain in seq order, a page at a time, recomputing every hash and checking every
   * link and seq step. `from`/`to` pick the entries by occurred_at and are turned into a seq
   * range first, so the walk itself is contiguous; the first entry of the range is checked
   * against its predecessor (live, archived or checkpoint), whose own hash is not recomputed.
   *
   * Each page is one statement, a short snapshot of its own, never one snapshot for the walk:
   * on PGlite a transaction holds the only connection (every other tenant's query would wait
   * for the walk), on PostgreSQL a long snapshot holds a pooled connection and holds back
   * vacuum. Retention may therefore archive entries while the walk is under way; each page
   * reads the archive checkpoint afresh in its snapshot and takes the entries the walk has not
   * reached yet from wherever they are by then (the live log, or the archive up to that
   * checkpoint), so archiving mid-walk is never a gap and the report covers exactly the entries
   * of the range as it was when the walk began. Between pages the walk lets the event loop turn.
   */
  async verify(workspaceId: string, options: VerifyOptions = {}): Promise<VerifyReport> {
    const scope = options.scope ?? 'live';
    const hasher = new VerificationHasher();
    const report: VerifyReport = {
      verified: true, logs_checked: 0, chain_valid: true, hash_mismatches: 0, gaps_detected: 0, links_broken: 0,
      verification_hash: '', verified_at: '', scope, first_seq: null, last_seq: null, last_hash: null,
    };
    const broken = (entry: { id: string | null; seq: number }, reason: BreakReason, detail: string) => {
      report.first_broken ??= { id: entry.id, seq: entry.seq, reason, detail };
    };

    // Where the walk starts and ends, what its first entry links to and how far the archive
    // reaches, all as of one moment.
    const start = await this.snapshot(async (q) => {
      const firstSeq = await this.boundary(q, workspaceId, scope, 'first', options.from ?? null);
      const lastSeq = await this.boundary(q, workspaceId, scope, 'last', options.to ?? null);
      const anchor = firstSeq !== null && lastSeq !== null && firstSeq <= lastSeq ? await this.predecessor(q, workspaceId, firstSeq) : null;
      const latest = scope === 'all' && !options.to ? await latestCheckpoint(q, workspaceId) : null;
      return { firstSeq, lastSeq, anchor, latest };
    });

    if (start.anchor && start.firstSeq !== null && start.lastSeq !== null) {
      const lastSeq = start.lastSeq;
      let expectedSeq = start.anchor.seq + 1;
      let expectedPrevious = start.anchor.hash;
      let cursor = start.firstSeq - 1;
      let pages = 0;
      for (;;) {
        // One statement, so one snapshot: the checkpoint it reads, the rows it returns and the
        // checkpoint hashes of those rows all agree. The live scope reads the archive only up to
        // that checkpoint: what retention moved since the walk began, nothing archived before.
        const rows = (await this.db.query<EntryRow & { checkpoint_hash: string | null }>(
          `WITH page AS (
             SELECT * FROM (
               (SELECT ${COLUMNS}, false AS archived FROM audit_log WHERE workspace_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4)
               UNION ALL
               (SELECT ${COLUMNS}, true AS archived FROM audit_log_archive
                 WHERE workspace_id = $1 AND seq > $2
                   AND seq <= CASE WHEN $5::boolean THEN $3 ELSE least($3, (SELECT coalesce(max(seq), 0) FROM audit_log_checkpoints WHERE workspace_id = $1)) END
                 ORDER BY seq LIMIT $4)
             ) AS e ORDER BY seq LIMIT $4
           )
           SELECT page.*, c.hash AS checkpoint_hash FROM page
             LEFT JOIN audit_log_checkpoints c ON c.workspace_id = $1 AND c.seq = page.seq
           ORDER BY page.seq`,
          [workspaceId, cursor, lastSeq, VERIFY_PAGE, scope === 'all'],
        )).map((row) => ({ ...toEntry(row), checkpoint_hash: row.checkpoint_hash }));
        if (rows.length === 0) break;
        for (const row of rows) {
          if (row.seq !== expectedSeq) {
            report.gaps_detected++;
            broken(row, 'gap', row.seq > expectedSeq
              ? `seq ${row.seq} follows ${expectedSeq - 1}: ${row.seq - expectedSeq} entr${row.seq - expectedSeq === 1 ? 'y is' : 'ies are'} missing`
              : `seq ${row.seq} repeats or goes back (expected ${expectedSeq})`);
          }
          if (row.previous_hash !== expectedPrevious) {
            report.links_broken++;
            broken(row, 'previous_hash_mismatch', `previous_hash does not match the hash of seq ${expectedSeq - 1}`);
          }
          if (entryHash(row) !== row.hash) {
            report.hash_mismatches++;
            broken(row, 'hash_mismatch', 'the stored hash does not match the entry’s content: the entry was changed after it was written');
          }
          if (row.checkpoint_hash !== null && row.checkpoint_hash !== row.hash) {
            report.hash_mismatches++;
            broken(row, 'checkpoint_mismatch', 'the hash differs from the one recorded when this entry was archived');
          }
          hasher.add(row.hash);
          report.logs_checked++;
          report.first_seq ??= row.seq;
          report.last_seq = row.seq;
          report.last_hash = row.hash;
          expectedSeq = row.seq + 1;
          expectedPrevious = row.hash;
        }
        cursor = rows[rows.length - 1]!.seq;
        pages++;
        await options.afterPage?.({ pages, logs_checked: report.logs_checked, last_seq: cursor });
        await nextTurn();
      }
    }
    // Archived entries deleted from the end of the archive leave no row to trip over: the
    // checkpoint (as the walk began) says how far the archive must reach.
    if (start.latest && start.latest.seq > (report.last_seq ?? 0)) {
      report.gaps_detected++;
      broken({ id: null, seq: start.latest.seq }, 'gap', `the archive checkpoint reaches seq ${start.latest.seq} but the log ends at ${report.last_seq ?? 0}`);
    }
    report.chain_valid = report.gaps_detected === 0 && report.links_broken === 0 && report.hash_mismatches === 0;
    report.verified = report.chain_valid;
    report.verification_hash = hasher.digest();
    report.verified_at = new Date().toISOString();
    return report;
  }

  /** A short read-only transaction whose statements all see one snapshot. */
  private snapshot<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
      return fn(tx);
    });
  }

  /** The first or last seq of the range (by occurred_at, when a bound is given). Index scans only. */
  private async boundary(q: Queryable, workspaceId: string, scope: VerifyScope, end: 'first' | 'last', at: Date | null): Promise<number | null> {
    const direction = end === 'first' ? 'ASC' : 'DESC';
    const sql = at === null
      ? (table: string) => `SELECT seq FROM ${table} WHERE workspace_id = $1 ORDER BY seq ${direction} LIMIT 1`
      : (table: string) => `SELECT seq FROM ${table} WHERE workspace_id = $1 AND occurred_at ${end === 'first' ? '>=' : '<='} $2
                            ORDER BY occurred_at ${direction}, seq ${direction} LIMIT 1`;
    const tables = scope === 'all' ? ['audit_log', 'audit_log_archive'] : ['audit_log'];
    const found: number[] = [];
    for (const table of tables) {
      const [row] = await q.query<{ seq: number | string }>(sql(table), at === null ? [workspaceId] : [workspaceId, at.toISOString()]);
      if (row) found.push(Number(row.seq));
    }
    if (found.length === 0) return null;
    return end === 'first' ? Math.min(...found) : Math.max(...found);
  }

  /**
   * What the entry with `seq` must link to: the closest earlier entry, live or archived, or an
   * archive checkpoint (preferred on a tie: it was recorded independently), else genesis.
   */
  private async predecessor(q: Queryable, workspaceId: string, seq: number): Promise<{ seq: number; hash: string }> {
    const [row] = await q.query<{ seq: number | string; hash: string }>(
      `SELECT seq, hash FROM (
         (SELECT seq, hash, 0 AS preference FROM audit_log WHERE workspace_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT 1)
         UNION ALL
         (SELECT seq, hash, 0 AS preference FROM audit_log_archive WHERE workspace_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT 1)
         UNION ALL
         (SELECT seq, hash, 1 AS preference FROM audit_log_checkpoints WHERE workspace_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT 1)
       ) AS candidates ORDER BY seq DESC, preference DESC LIMIT 1`,
      [workspaceId, seq],
    );
    return row ? { seq: Number(row.seq), hash: row.hash } : { seq: 0, hash: GENESIS_HASH };
  }
}
