import type { Db, Queryable } from './db.js';
import {
  AUDIT_ACTOR_TYPES,
  GENESIS_HASH,
  VerificationHasher,
  entryHash,
  sanitizeChanges,
  storableText,
  type AuditActor,
  type ChainedFields,
} from '../lib/audit-chain.js';
import { HubError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { encodeCursor, type Page, type PageRequest } from './pagination.js';
import { ADVISORY_LOCKS } from './advisory-locks.js';

export type { AuditActor } from '../lib/audit-chain.js';

/** Who did it and how it reached the hub: the same for every entry one request writes. */
export interface AuditContext {
  actor: AuditActor;
  ip?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
}

/** What a caller hands to `append`; seq, time and hashes are the log's business. */
export interface NewAuditEntry extends AuditContext {
  workspaceId: string;
  /** `<resource>.<verb>`, e.g. `connection.created`, `evidence.delivered`. */
  action: string;
  resourceType: string;
  resourceId?: string | null;
  /** Free-form JSON of what changed; secret-looking fields are replaced by "[REDACTED]". */
  changes?: unknown;
}

export interface AuditLogEntry extends ChainedFields {
  hash: string;
  /** Moved to the archive by retention (still part of the chain). */
  archived: boolean;
}

export type VerifyScope = 'live' | 'all';

export interface VerifyOptions {
  from?: Date;
  to?: Date;
  /** `live` (default): the live log, anchored on the last archive checkpoint; `all`: archive and live log from genesis. */
  scope?: VerifyScope;
  /** Called after each page, outside any transaction (a progress report; tests archive in the middle of a walk). */
  afterPage?: (progress: { pages: number; logs_checked: number; last_seq: number }) => Promise<void> | void;
}

export type BreakReason = 'gap' | 'previous_hash_mismatch' | 'hash_mismatch' | 'checkpoint_mismatch';

export interface VerifyReport {
  verified: boolean;
  logs_checked: number;
  chain_valid: boolean;
  hash_mismatches: number;
  gaps_detected: number;
  links_broken: number;
  verification_hash: string;
  verified_at: string;
  scope: VerifyScope;
  first_seq: number | null;
  last_seq: number | null;
  last_hash: string | null;
  first_broken?: { id: string | null; seq: number; reason: BreakReason; detail: string };
}

export interface AuditFilter {
  /** The actor's id (an API key id, for API calls). */
  actor?: string;
  actorType?: string;
  /** Exact, or a prefix ending in `.*` (`connection.*`). */
  action?: string;
  resourceType?: string;
  resourceId?: string;
  from?: Date;
  to?: Date;
  /** Case-insensitive text in the action, resource, actor name or changes. */
  q?: string;
  includeArchived?: boolean;
  order?: 'asc' | 'desc';
}

export interface AuditStatistics {
  period: { from: string | null; to: string | null };
  total_events: number;
  events_by_action: Record<string, number>;
  events_by_resource_type: Record<string, number>;
  events_by_actor_type: Record<string, number>;
  events_by_actor: { type: string; id: string; name: string | null; event_count: number }[];
}

export interface ArchiveResult {
  workspace_id: string;
  archived: number;
  cutoff: string;
  /** The last archived entry: the live log's first entry links to this hash. */
  checkpoint: { seq: number; hash: string } | null;
}

export interface Retention {
  days: number | null;
  updated_at: Date | null;
  archived_through: { seq: number; hash: string; archived_at: Date } | null;
}

export const SYSTEM_ACTOR: AuditActor = { type: 'system', id: 'evidence-hub', name: 'Evidence Hub' };

const COLUMNS = 'id, workspace_id, seq, occurred_at, actor, action, resource_type, resource_id, changes, ip, user_agent, request_id, previous_hash, hash';
// Advisory locks with two int keys live apart from the single-bigint ones (migrations, bootstrap).
const CHAIN_LOCK_CLASS = ADVISORY_LOCKS.auditChain;
// Rows per verify page and per archive batch: each is one short transaction, and on PGlite
// one stretch of the event loop (roughly 0.2 ms a row), so both stay small.
const VERIFY_PAGE = 250;
const ARCHIVE_BATCH = 1_000;
const DAY_MS = 86_400_000;
const TOP_ACTORS = 100;

interface EntryRow extends Omit<AuditLogEntry, 'seq'> {
  seq: number | string;
}

/** Lets timers and I/O run before the next page (PGlite queries otherwise chain as microtasks). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function toEntry(row: EntryRow): AuditLogEntry {
  // node-postgres returns bigint as a string, PGlite as a number.
  return { ...row, seq: Number(row.seq), occurred_at: new Date(row.occurred_at) };
}

function text(value: string | null | undefined, max: number): string | null {
  if (value === null || value === undefined || value === '') return null;
  return storableText(value.slice(0, max));
}

/** A malformed entry is the calling code's bug: it fails loudly instead of writing a bad record. */
function required(value: unknown, name: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) throw new Error(`audit log: ${name} must be a string of 1..${max} characters`);
  return storableText(value);
}

function cleanActor(actor: AuditActor): AuditActor {
  if (!actor || !AUDIT_ACTOR_TYPES.includes(actor.type)) throw new Error(`audit log: actor.type must be one of ${AUDIT_ACTOR_TYPES.join(', ')}`);
  return { type: actor.type, id: required(actor.id, 'actor.id', 200), name: text(actor.name, 200) };
}

/** Serialises appends per workspace until the caller's transaction ends. */
async function lockChain(tx: Queryable, workspaceId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [CHAIN_LOCK_CLASS, workspaceId]);
}

/** `live` reads audit_log; `all` reads the archive too. Both branches share the same WHERE and parameters. */
function source(scope: VerifyScope, where: string, tail = ''): string {
  const live = `SELECT ${COLUMNS}, false AS archived FROM audit_log WHERE ${where} ${tail}`;
  if (scope === 'live') return `(${live})`;
  return `(${live}) UNION ALL (SELECT ${COLUMNS}, true AS archived FROM audit_log_archive WHERE ${where} ${tail})`;
}

function likePattern(value: string): string {
  return value.replace(/[\\%_]/g, '\\$&');
}

function seqCursor(after: string | null): number | null {
  if (after === null) return null;
  if (!/^\d{1,15}$/.test(after)) {
    throw HubError.badRequest('The cursor is not one this API issued; use next_cursor from a list response.', [{ pointer: '/query/cursor', message: 'invalid cursor' }]);
  }
  return Number(after);
}

/**
 * Appends entries (all of one workspace) in the caller's transaction `tx`, which must be a
 * transaction in READ COMMITTED, PostgreSQL's default. Three statements whatever their number:
 * a per-workspace advisory lock held until `tx` ends, a read of the chain head, one insert.
 * The head is read in a statement of its own AFTER the lock, so that its snapshot includes
 * the previous holder's commit; the unique (workspace_id, seq) constraint turns any misuse
 * (no transaction, a stale snapshot) into an error rather than a fork. Stores that record a
 * change (a delivery outcome) call this directly inside their own transaction.
 */
export async function appendAuditEntries(tx: Queryable, entries: NewAuditEntry[]): Promise<AuditLogEntry[]> {
  if (!entries.length) return [];
  const workspaceId = required(entries[0]!.workspaceId, 'workspaceId', 200);
  const prepared = entries.map((entry) => {
    if (entry.workspaceId !== workspaceId) throw new Error('audit log: one append call writes to one workspace chain');
    return {
      id: newId('aud'),
      workspace_id: workspaceId,
      actor: cleanActor(entry.actor),
      action: required(entry.action, 'action', 200),
      resource_type: required(entry.resourceType, 'resourceType', 100),
      resource_id: text(entry.resourceId, 200),
      changes: entry.changes === undefined ? null : sanitizeChanges(entry.changes),
      ip: text(entry.ip, 100),
      user_agent: text(entry.userAgent, 500),
      request_id: text(entry.requestId, 100),
    };
  });
  await lockChain(tx, workspaceId);
  // The head is the last live entry or, when retention archived them all, the last checkpoint.
  // The database clock, read under the lock, keeps occurred_at in seq order across processes.
  const [head] = await tx.query<{ now: Date; seq: number | string | null; hash: string | null }>(
    `SELECT date_trunc('milliseconds', clock_timestamp()) AS now, head.seq, head.hash
     FROM (SELECT 1) AS one LEFT JOIN LATERAL (
       (SELECT seq, hash FROM audit_log WHERE workspace_id = $1 ORDER BY seq DESC LIMIT 1)
       UNION ALL
       (SELECT seq, hash FROM audit_log_checkpoints WHERE workspace_id = $1 ORDER BY seq DESC LIMIT 1)
       ORDER BY seq DESC LIMIT 1
     ) AS head ON true`,
    [workspaceId],
  );
  let seq = head?.seq === null || head?.seq === undefined ? 0 : Number(head.seq);
  let previous = head?.hash ?? GENESIS_HASH;
  const appended: AuditLogEntry[] = prepared.map((fields) => {
    const chained: ChainedFields = { ...fields, seq: ++seq, occurred_at: new Date(head!.now), previous_hash: previous };
    const hash = entryHash(chained);
    previous = hash;
    return { ...chained, hash, archived: false };
  });
  const column = <T>(pick: (e: AuditLogEntry) => T) => appended.map(pick);
  await tx.query(
    `INSERT INTO audit_log (${COLUMNS})
     SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::jsonb[], $6::text[], $7::text[], $8::text[], $9::jsonb[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])`,
    [column((e) => e.id), column((e) => e.workspace_id), column((e) => e.seq), column((e) => e.occurred_at.toISOString()), column((e) => JSON.stringify(e.actor)),
      column((e) => e.action), column((e) => e.resource_type), column((e) => e.resource_id), column((e) => (e.changes === null ? null : JSON.stringify(e.changes))),
      column((e) => e.ip), column((e) => e.user_agent), column((e) => e.request_id), column((e) => e.previous_hash), column((e) => e.hash)],
  );
  return appended;
}

/**
 * The hub's tamper-evident audit log: per workspace, one hash chain with seq 1..n and no gaps
 * (see lib/audit-chain.ts for the hash). Writers append inside the transaction of the change
 * they record, so the change and its audit entry commit or vanish together.
 */
export class AuditLogStore {
  constructor(private readonly db: Db) {}

  /**
   * Appends one entry in the caller's transaction `tx` (which must be a transaction in READ
   * COMMITTED, PostgreSQL's default). Three statements: a per-workspace advisory lock held
   * until `tx` ends, a read of the chain head, the insert. The head is read in a statement of
   * its own AFTER the lock, so that its snapshot includes the previous holder's commit; the
   * unique (workspace_id, seq) constraint turns any misuse (no transaction, a stale snapshot)
   * into an error rather than a fork.
   */
  async append(tx: Queryable, entry: NewAuditEntry): Promise<AuditLogEntry> {
    const [appended] = await appendAuditEntries(tx, [entry]);
    return appended!;
  }

  /** For callers without a transaction of their own (a background job, a one-off event). */
  appendOwnTx(entry: NewAuditEntry): Promise<AuditLogEntry> {
    return this.db.transaction((tx) => this.append(tx, entry));
  }

  /** One entry, live or archived. */
  async get(workspaceId: string, id: string): Promise<AuditLogEntry | null> {
    const [row] = await this.db.query<EntryRow>(`SELECT * FROM (${source('all', 'workspace_id = $1 AND id = $2')}) AS e LIMIT 1`, [workspaceId, id]);
    return row ? toEntry(row) : null;
  }

  /** A page in seq order (ascending by default); the cursor is the last seq of the previous page. */
  async list(workspaceId: string, page: PageRequest, f: AuditFilter = {}): Promise<Page<AuditLogEntry>> {
    const params: unknown[] = [workspaceId];
    const where = ['workspace_id = $1'];
    const add = (condition: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(condition(`$${params.length}`));
    };
    const descending = f.order === 'desc';
    const after = seqCursor(page.after);
    if (after !== null) add((p) => (descending ? `seq < ${p}` : `seq > ${p}`), after);
    if (f.actor) add((p) => `actor->>'id' = ${p}`, f.actor);
    if (f.actorType) add((p) => `actor->>'type' = ${p}`, f.actorType);
    if (f.action?.endsWith('.*')) add((p) => `action LIKE ${p}`, `${likePattern(f.action.slice(0, -1))}%`);
    else if (f.action) add((p) => `action = ${p}`, f.action);
    if (f.resourceType) add((p) => `resource_type = ${p}`, f.resourceType);
    if (f.resourceId) add((p) => `resource_id = ${p}`, f.resourceId);
    if (f.from) add((p) => `occurred_at >= ${p}`, f.from.toISOString());
    if (f.to) add((p) => `occurred_at <= ${p}`, f.to.toISOString());
    if (f.q) {
      add((p) => `(action ILIKE ${p} OR resource_type ILIKE ${p} OR resource_id ILIKE ${p} OR actor->>'name' ILIKE ${p} OR changes::text ILIKE ${p})`, `%${likePattern(f.q)}%`);
    }
    params.push(page.limit + 1);
    const order = `ORDER BY seq ${descending ? 'DESC' : 'ASC'} LIMIT $${params.length}`;
    const rows = (await this.db.query<EntryRow>(
      `SELECT * FROM (${source(f.includeArchived ? 'all' : 'live', where.join(' AND '), order)}) AS e ${order}`,
      params,
    )).map(toEntry);
    const hasMore = rows.length > page.limit;
    const data = hasMore ? rows.slice(0, page.limit) : rows;
    const last = data[data.length - 1];
    return { data, next_cursor: hasMore && last ? encodeCursor(String(last.seq)) : null };
  }

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
      const latest = scope === 'all' && !options.to ? await this.latestCheckpoint(q, workspaceId) : null;
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

  /** Counts over a period (live and archived entries alike; retention does not change history). */
  async statistics(workspaceId: string, period: { from?: Date; to?: Date } = {}): Promise<AuditStatistics> {
    const rows = await this.db.query<{
      by_action: number; by_resource: number; by_actor: number; action: string | null; resource_type: string | null;
      actor_type: string | null; actor_id: string | null; actor_name: string | null; n: number | string;
    }>(
      `WITH entries AS (
         SELECT seq, action, resource_type, actor FROM audit_log
          WHERE workspace_id = $1 AND ($2::timestamptz IS NULL OR occurred_at >= $2) AND ($3::timestamptz IS NULL OR occurred_at <= $3)
         UNION ALL
         SELECT seq, action, resource_type, actor FROM audit_log_archive
          WHERE workspace_id = $1 AND ($2::timestamptz IS NULL OR occurred_at >= $2) AND ($3::timestamptz IS NULL OR occurred_at <= $3)
       ), e AS (SELECT seq, action, resource_type, actor->>'type' AS actor_type, actor->>'id' AS actor_id, actor->>'name' AS actor_name FROM entries)
       SELECT GROUPING(action) AS by_action, GROUPING(resource_type) AS by_resource, GROUPING(actor_type, actor_id) AS by_actor,
              action, resource_type, actor_type, actor_id, (array_agg(actor_name ORDER BY seq DESC))[1] AS actor_name, count(*) AS n
         FROM e GROUP BY GROUPING SETS ((action), (resource_type), (actor_type, actor_id), ())`,
      [workspaceId, period.from?.toISOString() ?? null, period.to?.toISOString() ?? null],
    );
    const stats: AuditStatistics = {
      period: { from: period.from?.toISOString() ?? null, to: period.to?.toISOString() ?? null },
      total_events: 0, events_by_action: {}, events_by_resource_type: {}, events_by_actor_type: {}, events_by_actor: [],
    };
    // GROUPING() is 0 for the columns a row is grouped by.
    for (const r of rows) {
      const n = Number(r.n);
      if (Number(r.by_action) === 0) stats.events_by_action[r.action!] = n;
      else if (Number(r.by_resource) === 0) stats.events_by_resource_type[r.resource_type!] = n;
      else if (Number(r.by_actor) === 0) {
        stats.events_by_actor.push({ type: r.actor_type!, id: r.actor_id!, name: r.actor_name, event_count: n });
        stats.events_by_actor_type[r.actor_type!] = (stats.events_by_actor_type[r.actor_type!] ?? 0) + n;
      } else stats.total_events = n;
    }
    stats.events_by_actor.sort((a, b) => b.event_count - a.event_count || a.id.localeCompare(b.id));
    stats.events_by_actor = stats.events_by_actor.slice(0, TOP_ACTORS);
    return stats;
  }

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
      await this.appendOwnTx({
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
    const latest = await this.latestCheckpoint(this.db, workspaceId);
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
      await this.append(tx, {
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

  private async latestCheckpoint(q: Queryable, workspaceId: string): Promise<{ seq: number; hash: string; created_at: Date } | null> {
    const [row] = await q.query<{ seq: number | string; hash: string; created_at: Date }>(
      'SELECT seq, hash, created_at FROM audit_log_checkpoints WHERE workspace_id = $1 ORDER BY seq DESC LIMIT 1',
      [workspaceId],
    );
    return row ? { seq: Number(row.seq), hash: row.hash, created_at: row.created_at } : null;
  }
}
