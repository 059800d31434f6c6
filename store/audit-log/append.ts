import {
  AUDIT_ACTOR_TYPES,
  GENESIS_HASH,
  entryHash,
  sanitizeChanges,
  storableText,
  type AuditActor,
  type ChainedFields,
} from '../../lib/audit-chain.js';
import { newId } from '../../lib/ids.js';
import type { Db, Queryable } from '../db.js';
import { COLUMNS, lockChainHead, type AuditLogEntry, type NewAuditEntry } from './model.js';


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
  const clean: AuditActor = { type: actor.type, id: required(actor.id, 'actor.id', 200), name: text(actor.name, 200) };
  if (actor.workspace_id) clean.workspace_id = required(actor.workspace_id, 'actor.workspace_id', 200);
  return clean;
}


/**
 * Appends entries (all of one workspace) in the caller's transaction `tx`, which must be a
 * transaction in READ COMMITTED, PostgreSQL's default. Two statements whatever their number:
 * a per-workspace advisory lock held until `tx` ends and a read of the chain head after it
 * (lockChainHead), one insert. The head is read AFTER the lock, in a snapshot of its own, so
 * that it includes the previous holder's commit; the unique (workspace_id, seq) constraint turns any misuse
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
  const head = await lockChainHead(tx, workspaceId);
  let seq = head?.seq === null || head?.seq === undefined ? 0 : Number(head.seq);
  let previous = head?.hash ?? GENESIS_HASH;
  const appended: AuditLogEntry[] = prepared.map((fields) => {
    const chained: ChainedFields = { ...fields, seq: ++seq, occurred_at: new Date(head!.now), previous_hash: previous };
    const hash = entryHash(chained);
    previous = hash;
    return { ...chained, hash, archived: false };
  });
  // One JSON document of the rows (serialised natively, not escaped into 14 array literals).
  await tx.query(
    `INSERT INTO audit_log (${COLUMNS})
     SELECT ${COLUMNS} FROM json_to_recordset($1::json) AS x(id text, workspace_id text, seq bigint, occurred_at timestamptz, actor jsonb, action text,
       resource_type text, resource_id text, changes jsonb, ip text, user_agent text, request_id text, previous_hash text, hash text)`,
    [JSON.stringify(appended.map((e) => ({
      id: e.id, workspace_id: e.workspace_id, seq: e.seq, occurred_at: e.occurred_at.toISOString(), actor: e.actor, action: e.action, resource_type: e.resource_type,
      resource_id: e.resource_id, changes: e.changes, ip: e.ip, user_agent: e.user_agent, request_id: e.request_id, previous_hash: e.previous_hash, hash: e.hash,
    })))],
  );
  return appended;
}

/** One entry in the caller's transaction `tx` (see appendAuditEntries). */
export async function appendAuditEntry(tx: Queryable, entry: NewAuditEntry): Promise<AuditLogEntry> {
  const [appended] = await appendAuditEntries(tx, [entry]);
  return appended!;
}

/** For callers without a transaction of their own (a background job, a one-off event). */
export function appendInOwnTransaction(db: Db, entry: NewAuditEntry): Promise<AuditLogEntry> {
  return db.transaction((tx) => appendAuditEntry(tx, entry));
}
