import { CheckStore, type CheckContext } from './checks.js';
import { atomically, defineProcedure, runAtomically, type Queryable } from './db.js';
import { EventStore } from './events.js';
import { rowsAsJson } from './json-rows.js';
import { appendAuditEntries, SYSTEM_ACTOR } from './audit-log/index.js';
import { toPage, type Page, type PageRequest } from './pagination.js';

export type DeliveryStatus = 'pending' | 'delivered' | 'rejected' | 'ambiguous' | 'failed';

export interface Evidence {
  id: string;
  workspace_id: string;
  run_id: string | null;
  job_id: string | null;
  rule_id: string | null;
  dataset: string | null;
  control_ref: string;
  question_match: string | null;
  question_id: string | null;
  title: string;
  source: string;
  result: 'pass' | 'fail' | 'info' | 'error';
  payload: Record<string, unknown>;
  payload_sha256: string;
  collected_at: Date;
  /** When the data the item describes was observed (its collection); collected_at for pushed items. */
  observed_at: Date | null;
  allow_multiple: boolean;
  destination_id: string | null;
  target: Record<string, unknown> | null;
  status: DeliveryStatus;
  destination_evidence_ids: string[] | null;
  candidates: unknown[] | null;
  error: string | null;
  attempts: number;
  delivered_at: Date | null;
  identity: string;
  created_at: Date;
  updated_at: Date;
}

export type NewEvidence = Omit<Evidence, 'workspace_id' | 'status' | 'destination_evidence_ids' | 'candidates' | 'error' | 'attempts' | 'delivered_at' | 'created_at' | 'updated_at' | 'observed_at'> & {
  workspaceId: string; status?: DeliveryStatus; error?: string | null; observed_at?: Date | null;
  /** For an item of a job's run: it becomes its check's latest result (store/checks.ts). */
  check?: CheckContext;
};

/**
 * The columns an item is inserted with: each one's name, its type in the table (the batched
 * insert casts its array to it) and its value, side by side so that they cannot drift apart.
 * The payload is `json`, not `jsonb`: kept as the source wrote it (key order, NUL bytes).
 */
const INSERTED: readonly { name: string; type: string; value: (e: NewEvidence) => unknown }[] = [
  { name: 'id', type: 'text', value: (e) => e.id },
  { name: 'workspace_id', type: 'text', value: (e) => e.workspaceId },
  { name: 'run_id', type: 'text', value: (e) => e.run_id },
  { name: 'job_id', type: 'text', value: (e) => e.job_id },
  { name: 'rule_id', type: 'text', value: (e) => e.rule_id },
  { name: 'dataset', type: 'text', value: (e) => e.dataset },
  { name: 'control_ref', type: 'text', value: (e) => e.control_ref },
  { name: 'question_match', type: 'text', value: (e) => e.question_match },
  { name: 'question_id', type: 'text', value: (e) => e.question_id },
  { name: 'title', type: 'text', value: (e) => e.title },
  { name: 'source', type: 'text', value: (e) => e.source },
  { name: 'result', type: 'text', value: (e) => e.result },
  { name: 'payload', type: 'json', value: (e) => JSON.stringify(e.payload) },
  { name: 'payload_sha256', type: 'text', value: (e) => e.payload_sha256 },
  { name: 'collected_at', type: 'timestamptz', value: (e) => iso(e.collected_at) },
  { name: 'observed_at', type: 'timestamptz', value: (e) => iso(e.observed_at ?? e.collected_at) },
  { name: 'allow_multiple', type: 'boolean', value: (e) => e.allow_multiple },
  { name: 'destination_id', type: 'text', value: (e) => e.destination_id },
  { name: 'target', type: 'jsonb', value: (e) => (e.target ? JSON.stringify(e.target) : null) },
  { name: 'status', type: 'text', value: (e) => e.status ?? 'pending' },
  { name: 'error', type: 'text', value: (e) => e.error ?? null },
  { name: 'identity', type: 'text', value: (e) => e.identity },
];
const COLUMNS = INSERTED.map((c) => c.name);

/** Every column but the payload, for listings. */
const LISTED_COLUMNS = [...COLUMNS.filter((c) => c !== 'payload'), 'destination_evidence_ids', 'candidates', 'attempts', 'delivered_at', 'created_at', 'updated_at'].join(', ');

export interface SettleOutcome {
  status: Exclude<DeliveryStatus, 'pending'>;
  destinationIds?: string[];
  candidates?: unknown[];
  error?: string | null;
}

export interface EvidenceFilter {
  runId?: string;
  jobId?: string;
  controlRef?: string;
  result?: string;
  status?: string;
  /** Items whose data was collected at or after this time. */
  collectedFrom?: Date;
  /** Items whose data was collected before this time. */
  collectedTo?: Date;
}

export class EvidenceStore {
  constructor(private readonly db: Queryable) {}

  /**
   * Records items once per identity (run + rule, or push): a retried activity gets the same rows
   * back. A new item whose result is `fail` emits control.failed in the same transaction.
   */
  async recordMany(items: NewEvidence[]): Promise<Evidence[]> {
    if (!items.length) return [];
    return atomically(this.db, async (tx) => {
      // One statement for the new rows whatever their number (a run's items were one insert,
      // one check read and three check writes each); the first of an identity given twice wins.
      const seen = new Set<string>();
      const fresh = items.filter((e) => !seen.has(e.identity) && Boolean(seen.add(e.identity)));
      const inserted = await tx.query<Evidence>(
        `INSERT INTO evidence (${COLUMNS.join(', ')})
         SELECT * FROM unnest(${INSERTED.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ')})
         ON CONFLICT (identity) DO NOTHING RETURNING *`,
        INSERTED.map((c) => fresh.map(c.value)),
      );
      const byIdentity = new Map(inserted.map((row) => [row.identity, row]));
      // In input order: the events, checks and audit entries follow the items as given.
      const insertedInOrder = fresh.flatMap((e) => (byIdentity.has(e.identity) ? [{ row: byIdentity.get(e.identity)!, item: e }] : []));
      const known = fresh.filter((e) => !byIdentity.has(e.identity)).map((e) => e.identity);
      // Identities recorded before (a retried activity): their rows as they are.
      if (known.length) for (const row of await tx.query<Evidence>('SELECT * FROM evidence WHERE identity = ANY($1)', [known])) byIdentity.set(row.identity, row);
      const out = items.map((e) => byIdentity.get(e.identity)!);
      for (const workspaceId of new Set(insertedInOrder.map(({ row }) => row.workspace_id))) {
        await new EventStore(tx).recordAll(insertedInOrder.filter(({ row }) => row.workspace_id === workspaceId && row.result === 'fail')
          .map(({ row }) => ({ workspaceId, type: 'control.failed' as const, data: evidenceEventData(row) })));
      }
      await CheckStore.recordLatestMany(tx, insertedInOrder.flatMap(({ row, item }) => (item.check ? [{ evidence: row, context: item.check }] : [])));
      const failedAtOnce = insertedInOrder.map(({ row }) => row).filter((row) => row.status === 'failed');
      // Items that could not be evaluated are recorded as failed without a delivery: that
      // outcome is audited too, last in the transaction (the audit chain's lock is taken last).
      for (const workspaceId of new Set(failedAtOnce.map((e) => e.workspace_id))) {
        await appendAuditEntries(tx, failedAtOnce.filter((e) => e.workspace_id === workspaceId).map((e) => ({
          workspaceId, actor: SYSTEM_ACTOR, action: 'evidence.failed', resourceType: 'evidence', resourceId: e.id,
          changes: { status: e.status, run_id: e.run_id, destination_id: e.destination_id, error: e.error, attempts: 0 },
        })));
      }
      return out;
    });
  }

  async get(workspaceId: string, id: string): Promise<Evidence | null> {
    const [row] = await this.db.query<Evidence>('SELECT * FROM evidence WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
    return row ?? null;
  }

  async getById(id: string): Promise<Evidence | null> {
    const [row] = await this.db.query<Evidence>('SELECT * FROM evidence WHERE id = $1', [id]);
    return row ?? null;
  }

  /** A page of items without their payloads: a listing never reads them (the item and packages do). */
  async list(workspaceId: string, page: PageRequest, f: EvidenceFilter): Promise<Page<Omit<Evidence, 'payload'>>> {
    const rows = await this.db.query<Omit<Evidence, 'payload'>>(
      `SELECT ${LISTED_COLUMNS} FROM evidence WHERE workspace_id = $1 AND ($2::text IS NULL OR id > $2) AND ($3::text IS NULL OR run_id = $3) AND ($4::text IS NULL OR job_id = $4)
       AND ($5::text IS NULL OR control_ref = $5) AND ($6::text IS NULL OR result = $6) AND ($7::text IS NULL OR status = $7)
       AND ($9::timestamptz IS NULL OR collected_at >= $9) AND ($10::timestamptz IS NULL OR collected_at < $10) ORDER BY id LIMIT $8`,
      [workspaceId, page.after, f.runId ?? null, f.jobId ?? null, f.controlRef ?? null, f.result ?? null, f.status ?? null, page.limit + 1, f.collectedFrom ?? null, f.collectedTo ?? null],
    );
    return toPage(rows, page.limit);
  }

  /**
   * Counts one more delivery attempt for each still-pending item and returns them, in one round
   * trip, with what their delivery and its settle use (not their outcome columns or the times
   * of the ledger row, all parsed for nothing).
   */
  async beginAttempts(ids: string[]): Promise<DeliveryClaim[]> {
    const claimed = await rowsAsJson<DeliveryClaim>(this.db,
      `UPDATE evidence SET attempts = attempts + 1, updated_at = now() WHERE id = ANY($1) AND status = 'pending' RETURNING ${DELIVERY_CLAIM_COLUMNS.join(', ')}`,
      [ids], 'r.id');
    return claimed.map((e) => ({ ...e, collected_at: new Date(e.collected_at) }));
  }

  /** Records the final outcome once, with its event and audit entry; later calls (a retried activity) change nothing. */
  /**
   * Puts an item whose delivery never started (settled `failed` with `reason`) back to pending,
   * for a push of the same item to start it again; false when it is in any other state.
   */
  async rearm(id: string, reason: string): Promise<boolean> {
    const rows = await this.db.query(`UPDATE evidence SET status = 'pending', error = NULL, updated_at = now() WHERE id = $1 AND status = 'failed' AND error = $2 RETURNING id`, [id, reason]);
    return rows.length === 1;
  }

  async settle(id: string, outcome: SettleOutcome): Promise<void> {
    await this.settleMany([{ id, ...outcome }]);
  }

  /**
   * Records the final outcomes of several items in one transaction (settleOutcomes), next to
   * the database: the delivery path settles a few outcomes at a time, often.
   */
  async settleMany(outcomes: SettledOutcome[]): Promise<void> {
    if (!outcomes.length) return;
    await runAtomically(this.db, settleOutcomes, outcomes);
  }

  /**
   * The first `limit` items of a run in id order, as a run's view lists them: the few columns
   * it shows, read for every poll of a run's status, so no more than those.
   */
  async runItems(workspaceId: string, runId: string, limit: number): Promise<RunItem[]> {
    return rowsAsJson<RunItem>(this.db, `SELECT ${RUN_ITEM_COLUMNS.join(', ')} FROM evidence WHERE workspace_id = $1 AND run_id = $2 ORDER BY id LIMIT $3`, [workspaceId, runId, limit], 'r.id');
  }

  /** A run's items in id order, without payloads (traces and summaries). */
  async listForRun(runId: string): Promise<Omit<Evidence, 'payload'>[]> {
    return this.db.query(`SELECT ${LISTED_COLUMNS} FROM evidence WHERE run_id = $1 ORDER BY id`, [runId]);
  }

  async countsForRun(runId: string): Promise<Record<string, number>> {
    const rows = await this.db.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM evidence WHERE run_id = $1 GROUP BY status', [runId]);
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }
}

/**
 * The final outcomes of several items, in a few statements whatever their number: the ledger
 * rows (those still pending: a retried activity changes nothing), their events, and their
 * audit entries, the audit chain's lock taken last. The events and entries are made of the
 * item as its delivery claimed it (`claimed`, the columns that never change after it was
 * recorded) and the outcome; the ledger gives back only what may have moved since (attempts),
 * because every column read back is parsed on the database's thread, the busiest part of a
 * delivery. Outcomes without a claimed item have it read in one more statement.
 */
export const settleOutcomes = defineProcedure(import.meta.url, 'settleOutcomes', async (tx, given: SettledOutcome[]): Promise<void> => {
  // An item settled twice in one group (two attempts at it answered together) counts once, the
  // first outcome: the ledger row, its event and its audit entry must say the same.
  const seen = new Set<string>();
  const outcomes = given.filter((o) => !seen.has(o.id) && Boolean(seen.add(o.id)));
  const updated = await tx.query<{ id: string; attempts: number }>(SETTLE_LEDGER, [outcomes.map((o) => o.id), outcomes.map((o) => o.status),
    outcomes.map((o) => (o.destinationIds ? JSON.stringify(o.destinationIds) : null)), outcomes.map((o) => (o.candidates ? JSON.stringify(o.candidates) : null)),
    outcomes.map((o) => o.error ?? null)]);
  if (!updated.length) return;
  const attempts = new Map(updated.map((u) => [u.id, Number(u.attempts)]));
  const unclaimed = outcomes.filter((o) => !o.claimed && attempts.has(o.id)).map((o) => o.id);
  const read = new Map(unclaimed.length
    ? (await tx.query<ClaimedItem>(`SELECT ${CLAIMED_COLUMNS.join(', ')} FROM evidence WHERE id = ANY($1)`, [unclaimed])).map((row) => [row.id, row])
    : []);
  // As the ledger now holds them (a JSON value as the jsonb column gives it back).
  const settled: EventRow[] = outcomes.filter((o) => attempts.has(o.id)).map((o) => ({
    ...(o.claimed ?? read.get(o.id)!), id: o.id, status: o.status, attempts: attempts.get(o.id)!, error: o.error ?? null,
    destination_evidence_ids: o.destinationIds ? asStoredJson(o.destinationIds) : null, candidates: o.candidates ? asStoredJson(o.candidates) : null,
  }));
  for (const workspaceId of new Set(settled.map((e) => e.workspace_id))) {
    const rows = settled.filter((e) => e.workspace_id === workspaceId).sort((a, b) => a.id.localeCompare(b.id));
    await new EventStore(tx).recordAll(rows.flatMap((e) => {
      const event = settledEvidenceEvent(e);
      return event ? [{ workspaceId, ...event }] : [];
    }));
    // Every delivery outcome is on the audit trail, in the transaction that records it.
    await appendAuditEntries(tx, rows.map((e) => ({
      workspaceId, actor: SYSTEM_ACTOR, action: `evidence.${e.status}`, resourceType: 'evidence', resourceId: e.id,
      changes: { status: e.status, run_id: e.run_id, destination_id: e.destination_id, destination_evidence_ids: e.destination_evidence_ids, error: e.error, attempts: e.attempts },
    })));
  }
});

/**
 * The ledger half of a settle. Its outcomes are arrays (unnest), not a JSON document: the
 * planner takes a parameter array for a few rows and joins through the primary key, where
 * json_to_recordset's fixed estimate of 100 rows makes it hash-join a scan of the whole ledger.
 */
export const SETTLE_LEDGER = `UPDATE evidence e SET status = o.status, destination_evidence_ids = o.destination_ids, candidates = o.candidates, error = o.error,
       delivered_at = CASE WHEN o.status = 'delivered' THEN now() ELSE NULL END, updated_at = now()
     FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::jsonb[], $5::text[]) AS o(id, status, destination_ids, candidates, error)
     WHERE e.id = o.id AND e.status = 'pending' RETURNING e.id, e.attempts`;

const asStoredJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const RUN_ITEM_COLUMNS = ['id', 'rule_id', 'control_ref', 'question_match', 'result', 'status', 'destination_evidence_ids', 'candidates', 'error', 'attempts'] as const;
/** An item as a run's view lists it. */
export type RunItem = Pick<Evidence, (typeof RUN_ITEM_COLUMNS)[number]>;

/** The columns an item keeps from its recording on: what a delivery's claim already holds, and its settle uses. */
const CLAIMED_COLUMNS = ['id', 'workspace_id', 'run_id', 'job_id', 'rule_id', 'destination_id', 'control_ref', 'question_match', 'title', 'source', 'result',
  'collected_at', 'payload_sha256'] as const;
export type ClaimedItem = Pick<Evidence, (typeof CLAIMED_COLUMNS)[number]>;
/** What an item's events are made of (evidenceEventData), and the settle's audit entry besides: the claimed columns and the outcome. */
type EventRow = ClaimedItem & Pick<Evidence, 'status' | 'destination_evidence_ids' | 'candidates' | 'error' | 'attempts'>;
/** An outcome to record, with the item as its delivery claimed it when the caller has it. */
export type SettledOutcome = SettleOutcome & { id: string; claimed?: ClaimedItem };

/** What a delivery of an item reads of it: the item as sent, where to, and the attempt it is. */
const DELIVERY_CLAIM_COLUMNS = [...CLAIMED_COLUMNS, 'question_id', 'payload', 'allow_multiple', 'target', 'identity', 'attempts'] as const;
export type DeliveryClaim = Pick<Evidence, (typeof DELIVERY_CLAIM_COLUMNS)[number]>;

/** The columns of a claimed item that its settle uses (a copy small enough to hand to the database's thread). */
export function claimedItem(e: ClaimedItem): ClaimedItem {
  return {
    id: e.id, workspace_id: e.workspace_id, run_id: e.run_id, job_id: e.job_id, rule_id: e.rule_id, destination_id: e.destination_id, control_ref: e.control_ref,
    question_match: e.question_match, title: e.title, source: e.source, result: e.result, collected_at: e.collected_at, payload_sha256: e.payload_sha256,
  } satisfies Record<(typeof CLAIMED_COLUMNS)[number], unknown>;
}

/** The `data` of an evidence item's events (schemas in event-catalog.ts). */
const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

export function evidenceEventData(e: EventRow): Record<string, unknown> {
  return {
    evidence_id: e.id, run_id: e.run_id, job_id: e.job_id, rule_id: e.rule_id, destination_id: e.destination_id,
    control_ref: e.control_ref, question_match: e.question_match, title: e.title, source: e.source, result: e.result,
    collected_at: iso(e.collected_at), payload_sha256: e.payload_sha256, status: e.status,
  };
}

/** The event a settled ledger item emits, if any. */
export function settledEvidenceEvent(e: EventRow): { type: 'evidence.added' | 'evidence.rejected' | 'evidence.ambiguous'; data: Record<string, unknown> } | null {
  if (e.status === 'delivered') return { type: 'evidence.added', data: { ...evidenceEventData(e), destination_evidence_ids: e.destination_evidence_ids ?? [] } };
  if (e.status === 'rejected' || e.status === 'failed') return { type: 'evidence.rejected', data: { ...evidenceEventData(e), error: e.error ?? 'rejected' } };
  if (e.status === 'ambiguous') return { type: 'evidence.ambiguous', data: { ...evidenceEventData(e), candidates: e.candidates ?? [], error: e.error } };
  return null;
}
