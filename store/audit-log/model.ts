// The audit log's records and the SQL pieces its parts share (append, query, verify, retention).
import type { Queryable } from '../db.js';
import type { AuditActor, ChainedFields } from '../../lib/audit-chain.js';
import { ADVISORY_LOCKS } from '../advisory-locks.js';

export type { AuditActor } from '../../lib/audit-chain.js';


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


export const COLUMNS = 'id, workspace_id, seq, occurred_at, actor, action, resource_type, resource_id, changes, ip, user_agent, request_id, previous_hash, hash';
// Advisory locks with two int keys live apart from the single-bigint ones (migrations, bootstrap).
const CHAIN_LOCK_CLASS = ADVISORY_LOCKS.auditChain;
// Rows per verify page and per archive batch: each is one short transaction, and on PGlite
// one stretch of the event loop (roughly 0.2 ms a row), so both stay small.
export const VERIFY_PAGE = 250;
export const ARCHIVE_BATCH = 1_000;
export const DAY_MS = 86_400_000;
export const TOP_ACTORS = 100;

export interface EntryRow extends Omit<AuditLogEntry, 'seq'> {
  seq: number | string;
}

/** Lets timers and I/O run before the next page (PGlite queries otherwise chain as microtasks). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function toEntry(row: EntryRow): AuditLogEntry {
  // node-postgres returns bigint as a string, PGlite as a number.
  return { ...row, seq: Number(row.seq), occurred_at: new Date(row.occurred_at) };
}

/**
 * Takes the workspace chain's lock (held until `tx` ends) and reads its head after it, in one
 * call (the audit_chain_head function, migration 17).
 */
export async function lockChainHead(tx: Queryable, workspaceId: string): Promise<{ now: Date; seq: number | string | null; hash: string | null }> {
  const [head] = await tx.query<{ now: Date; seq: number | string | null; hash: string | null }>('SELECT head_now AS now, head_seq AS seq, head_hash AS hash FROM audit_chain_head($1, $2)', [CHAIN_LOCK_CLASS, workspaceId]);
  return head!;
}

/** Serialises appends per workspace until the caller's transaction ends. */
export async function lockChain(tx: Queryable, workspaceId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [CHAIN_LOCK_CLASS, workspaceId]);
}

/** `live` reads audit_log; `all` reads the archive too. Both branches share the same WHERE and parameters. */
export function source(scope: VerifyScope, where: string, tail = ''): string {
  const live = `SELECT ${COLUMNS}, false AS archived FROM audit_log WHERE ${where} ${tail}`;
  if (scope === 'live') return `(${live})`;
  return `(${live}) UNION ALL (SELECT ${COLUMNS}, true AS archived FROM audit_log_archive WHERE ${where} ${tail})`;
}

export async function latestCheckpoint(q: Queryable, workspaceId: string): Promise<{ seq: number; hash: string; created_at: Date } | null> {
  const [row] = await q.query<{ seq: number | string; hash: string; created_at: Date }>(
    'SELECT seq, hash, created_at FROM audit_log_checkpoints WHERE workspace_id = $1 ORDER BY seq DESC LIMIT 1',
    [workspaceId],
  );
  return row ? { seq: Number(row.seq), hash: row.hash, created_at: row.created_at } : null;
}
