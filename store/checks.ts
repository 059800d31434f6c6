import { atomically, type Queryable } from './db.js';
import { EventStore, type NewEvent } from './events.js';
import { encodeCursor, toPage, type Page, type PageRequest } from './pagination.js';

type Result = 'pass' | 'fail' | 'info' | 'error';

/** What a check reads of a recorded item (a row of the evidence ledger). */
export interface RecordedItem {
  id: string;
  workspace_id: string;
  run_id: string | null;
  job_id: string | null;
  rule_id: string | null;
  control_ref: string;
  question_match: string | null;
  title: string;
  result: Result;
  payload: Record<string, unknown>;
  collected_at: Date;
  observed_at: Date | null;
}

/** A check's status: its latest result, or `stale` once that result is past its freshness window. */
export const CHECK_STATUSES = ['pass', 'fail', 'error', 'info', 'stale'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** Results stay fresh this long when neither the rule nor the job says otherwise (unscheduled jobs). */
export const DEFAULT_FRESH_FOR_MS = 7 * 86_400_000;

export interface Check {
  workspace_id: string;
  id: string;
  job_id: string;
  rule_id: string;
  connection_id: string | null;
  control_ref: string;
  question_match: string | null;
  title: string;
  refs: Record<string, string[] | string>;
  result: Result;
  status: CheckStatus;
  evidence_id: string;
  observed_at: Date;
  failing_count: number | null;
  fresh_until: Date;
  changed_at: Date;
  updated_at: Date;
}

/** What recording an item of a job's run tells its check, beyond the item itself. */
export interface CheckContext {
  connectionId: string | null;
  references: Record<string, unknown>;
  freshForMs: number;
}

export interface CheckFilter {
  status?: CheckStatus;
  jobId?: string;
  connectionId?: string;
  framework?: string;
  controlRef?: string;
}

/** A check's id: opaque to clients, stable for a job and a rule. */
export function checkId(jobId: string, ruleId: string): string {
  return `${jobId}.${ruleId}`;
}

const STATUS_SQL = `CASE WHEN c.fresh_until < now() THEN 'stale' ELSE c.result END`;
const CHECK_COLUMNS = `c.workspace_id, c.id, c.job_id, c.rule_id, c.connection_id, c.control_ref, c.question_match, c.title, c.refs, c.result,
  ${STATUS_SQL} AS status, c.evidence_id, c.observed_at, c.failing_count, c.fresh_until, c.changed_at, c.updated_at`;

/** The failing records an item reports (its evaluation's count), when it has one. */
function failingCount(evidence: RecordedItem): number | null {
  const counts = (evidence.payload as { _evaluation?: { counts?: { failing?: unknown } } })._evaluation?.counts;
  return typeof counts?.failing === 'number' ? counts.failing : null;
}

/** Each framework's requirement ids, whether the rule cites one id or a list. */
export function citedRequirements(references: Record<string, unknown>): { framework: string; requirement: string }[] {
  return Object.entries(references).flatMap(([framework, ids]) =>
    (Array.isArray(ids) ? ids : [ids]).filter((r): r is string => typeof r === 'string').map((requirement) => ({ framework, requirement })));
}


/**
 * Posture: each check's latest result, kept as each item is recorded. History is not copied:
 * it is the ledger's items of the same job and rule.
 */
export class CheckStore {
  constructor(private readonly db: Queryable) {}

  /**
   * Makes each item (of a job's run, just recorded in `tx`) its check's latest result, unless a
   * newer one is there already; a check going from fail to pass emits control.recovered in the
   * same transaction. Idempotent: the same item twice changes nothing. A few statements
   * whatever the number of items: the checks are read (and locked, in id order) together, the
   * items applied in their order as one after the other would be, and each check's final
   * state written once.
   */
  static async recordLatestMany(tx: Queryable, entries: { evidence: RecordedItem; context: CheckContext }[]): Promise<void> {
    const ofRuns = entries.filter((e) => e.evidence.job_id && e.evidence.rule_id);
    for (const workspaceId of new Set(ofRuns.map((e) => e.evidence.workspace_id))) {
      const inWorkspace = ofRuns.filter((e) => e.evidence.workspace_id === workspaceId);
      const ids = [...new Set(inWorkspace.map((e) => checkId(e.evidence.job_id!, e.evidence.rule_id!)))].sort();
      const latest = new Map((await tx.query<{ id: string; result: Result; evidence_id: string; observed_at: Date; changed_at: Date }>(
        'SELECT id, result, evidence_id, observed_at, changed_at FROM checks WHERE workspace_id = $1 AND id = ANY($2) ORDER BY id FOR UPDATE',
        [workspaceId, ids],
      )).map((row) => [row.id, row]));
      const written = new Map<string, { evidence: RecordedItem; context: CheckContext; observedAt: Date; changedAt: Date; freshUntil: Date; cited: { framework: string; requirement: string }[] }>();
      const recovered: NewEvent[] = [];
      for (const { evidence, context } of inWorkspace) {
        const id = checkId(evidence.job_id!, evidence.rule_id!);
        const observedAt = new Date(evidence.observed_at ?? evidence.collected_at);
        const previous = latest.get(id);
        if (previous && (previous.evidence_id === evidence.id || new Date(previous.observed_at) > observedAt)) continue;
        const changedAt = previous && previous.result === evidence.result ? new Date(previous.changed_at) : observedAt;
        written.set(id, { evidence, context, observedAt, changedAt, freshUntil: new Date(observedAt.getTime() + context.freshForMs), cited: citedRequirements(context.references) });
        latest.set(id, { id, result: evidence.result as Result, evidence_id: evidence.id, observed_at: observedAt, changed_at: changedAt });
        if (previous?.result === 'fail' && evidence.result === 'pass') {
          recovered.push({
            workspaceId, type: 'control.recovered',
            data: {
              check_id: id, job_id: evidence.job_id, rule_id: evidence.rule_id, control_ref: evidence.control_ref, question_match: evidence.question_match,
              title: evidence.title, evidence_id: evidence.id, run_id: evidence.run_id, previous_result: previous.result, result: evidence.result,
              failing_since: new Date(previous.changed_at).toISOString(), recovered_at: observedAt.toISOString(),
            },
          });
        }
      }
      if (written.size) {
        const rows = [...written.entries()];
        const column = <T>(pick: (w: (typeof rows)[number][1], id: string) => T) => rows.map(([id, w]) => pick(w, id));
        await tx.query(
          `INSERT INTO checks (workspace_id, id, job_id, rule_id, connection_id, control_ref, question_match, title, refs, result, evidence_id, observed_at, failing_count, fresh_until, changed_at, frameworks, updated_at)
           SELECT $1, c.id, c.job_id, c.rule_id, c.connection_id, c.control_ref, c.question_match, c.title, c.refs, c.result, c.evidence_id, c.observed_at, c.failing_count, c.fresh_until, c.changed_at,
             ARRAY(SELECT jsonb_array_elements_text(c.frameworks)), now()
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::jsonb[], $10::text[], $11::text[], $12::timestamptz[], $13::integer[], $14::timestamptz[], $15::timestamptz[], $16::jsonb[])
             AS c(id, job_id, rule_id, connection_id, control_ref, question_match, title, refs, result, evidence_id, observed_at, failing_count, fresh_until, changed_at, frameworks)
           ON CONFLICT (workspace_id, id) DO UPDATE SET connection_id = EXCLUDED.connection_id, control_ref = EXCLUDED.control_ref, question_match = EXCLUDED.question_match,
             title = EXCLUDED.title, refs = EXCLUDED.refs, frameworks = EXCLUDED.frameworks, result = EXCLUDED.result, evidence_id = EXCLUDED.evidence_id, observed_at = EXCLUDED.observed_at,
             failing_count = EXCLUDED.failing_count, fresh_until = EXCLUDED.fresh_until, changed_at = EXCLUDED.changed_at, stale_notified_at = NULL, updated_at = now()`,
          [workspaceId, column((_, id) => id), column((w) => w.evidence.job_id), column((w) => w.evidence.rule_id), column((w) => w.context.connectionId), column((w) => w.evidence.control_ref),
            column((w) => w.evidence.question_match), column((w) => w.evidence.title), column((w) => JSON.stringify(w.context.references)), column((w) => w.evidence.result),
            column((w) => w.evidence.id), column((w) => w.observedAt.toISOString()), column((w) => failingCount(w.evidence)), column((w) => w.freshUntil.toISOString()),
            column((w) => w.changedAt.toISOString()), column((w) => JSON.stringify([...new Set(w.cited.map((c) => c.framework))]))],
        );
        await tx.query('DELETE FROM check_requirements WHERE workspace_id = $1 AND check_id = ANY($2)', [workspaceId, rows.map(([id]) => id)]);
        const requirements = rows.flatMap(([id, w]) => w.cited.map((c) => ({ id, ...c, result: w.evidence.result, freshUntil: w.freshUntil.toISOString() })));
        if (requirements.length) {
          await tx.query(
            `INSERT INTO check_requirements (workspace_id, check_id, framework, requirement, result, fresh_until)
             SELECT $1, r.check_id, r.framework, r.requirement, r.result, r.fresh_until FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[]) AS r(check_id, framework, requirement, result, fresh_until)
             ON CONFLICT DO NOTHING`,
            [workspaceId, requirements.map((r) => r.id), requirements.map((r) => r.framework), requirements.map((r) => r.requirement), requirements.map((r) => r.result), requirements.map((r) => r.freshUntil)],
          );
        }
      }
      await new EventStore(tx).recordAll(recovered);
    }
  }

  async get(workspaceId: string, id: string): Promise<Check | null> {
    const [row] = await this.db.query<Check>(`SELECT ${CHECK_COLUMNS} FROM checks c WHERE c.workspace_id = $1 AND c.id = $2`, [workspaceId, id]);
    return row ?? null;
  }

  /** A page in id order, filtered; `stale` is computed against the database clock. */
  async list(workspaceId: string, page: PageRequest, f: CheckFilter = {}): Promise<Page<Check>> {
    const params: unknown[] = [workspaceId];
    const where = ['c.workspace_id = $1'];
    const add = (condition: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(condition(`$${params.length}`));
    };
    // The cursor was decoded and checked by decodeCursor (store/pagination.ts), as for every listing.
    if (page.after !== null) add((p) => `c.id > ${p}`, page.after);
    if (f.status === 'stale') where.push('c.fresh_until < now()');
    else if (f.status) {
      add((p) => `c.result = ${p}`, f.status);
      where.push('c.fresh_until >= now()');
    }
    if (f.jobId) add((p) => `c.job_id = ${p}`, f.jobId);
    if (f.connectionId) add((p) => `c.connection_id = ${p}`, f.connectionId);
    if (f.controlRef) add((p) => `c.control_ref = ${p}`, f.controlRef);
    if (f.framework) add((p) => `EXISTS (SELECT 1 FROM check_requirements r WHERE r.workspace_id = c.workspace_id AND r.check_id = c.id AND r.framework = ${p})`, f.framework);
    params.push(page.limit + 1);
    const rows = await this.db.query<Check>(`SELECT ${CHECK_COLUMNS} FROM checks c WHERE ${where.join(' AND ')} ORDER BY c.id LIMIT $${params.length}`, params);
    return toPage(rows, page.limit);
  }

  /** Counts per status, and per framework and status. */
  async summary(workspaceId: string): Promise<{ byStatus: Record<string, number>; byFramework: Record<string, Record<string, number>> }> {
    // One pass over the workspace's checks: each counted once overall and once per framework it cites.
    const rows = await this.db.query<{ framework: string | null; status: string; n: number | string }>(
      `SELECT f.framework, s.status, count(*) AS n
         FROM checks c CROSS JOIN LATERAL (SELECT ${STATUS_SQL} AS status) s
         CROSS JOIN LATERAL (SELECT NULL::text AS framework UNION ALL SELECT unnest(c.frameworks)) f
        WHERE c.workspace_id = $1 GROUP BY 1, 2`,
      [workspaceId],
    );
    const byStatus: Record<string, number> = Object.fromEntries(CHECK_STATUSES.map((s) => [s, 0]));
    const byFramework: Record<string, Record<string, number>> = {};
    for (const row of rows) {
      if (row.framework === null) byStatus[row.status] = Number(row.n);
      else (byFramework[row.framework] ??= Object.fromEntries(CHECK_STATUSES.map((s) => [s, 0])))[row.status] = Number(row.n);
    }
    return { byStatus, byFramework };
  }

  /**
   * How many of the given requirements the workspace's checks cite, per framework: one index
   * probe per catalogued requirement (about 1 200), not a pass over every citation.
   */
  async coveredCounts(workspaceId: string, requirements: { framework: string; id: string }[]): Promise<Record<string, number>> {
    const rows = await this.db.query<{ framework: string; n: number | string }>(
      `SELECT t.framework, count(*) AS n FROM unnest($2::text[], $3::text[]) AS t(framework, requirement)
        WHERE EXISTS (SELECT 1 FROM check_requirements r WHERE r.workspace_id = $1 AND r.framework = t.framework AND r.requirement = t.requirement)
        GROUP BY t.framework`,
      [workspaceId, requirements.map((r) => r.framework), requirements.map((r) => r.id)],
    );
    return Object.fromEntries(rows.map((r) => [r.framework, Number(r.n)]));
  }

  /**
   * Per requirement of one framework that the workspace's checks cite: how many checks of each
   * status are behind it, and the first `listed` of them (bounded, however many checks there are).
   */
  async coverage(workspaceId: string, framework: string, listed = 20): Promise<Map<string, { counts: Record<CheckStatus, number>; checks: { id: string; title: string; status: CheckStatus }[] }>> {
    // Counts in one pass; then, per requirement, its first checks through the index (bounded work).
    const counted = await this.db.query<{ requirement: string; status: CheckStatus; n: number | string }>(
      `SELECT requirement, CASE WHEN fresh_until < now() THEN 'stale' ELSE result END AS status, count(*) AS n
         FROM check_requirements WHERE workspace_id = $1 AND framework = $2 GROUP BY 1, 2`,
      [workspaceId, framework],
    );
    const out = new Map<string, { counts: Record<CheckStatus, number>; checks: { id: string; title: string; status: CheckStatus }[] }>();
    for (const row of counted) {
      let entry = out.get(row.requirement);
      if (!entry) out.set(row.requirement, (entry = { counts: Object.fromEntries(CHECK_STATUSES.map((st) => [st, 0])) as Record<CheckStatus, number>, checks: [] }));
      entry.counts[row.status] = Number(row.n);
    }
    if (!out.size) return out;
    const firsts = await this.db.query<{ requirement: string; id: string; title: string; status: CheckStatus }>(
      `SELECT req.requirement, c.id, c.title, ${STATUS_SQL} AS status
         FROM unnest($3::text[]) AS req(requirement)
         CROSS JOIN LATERAL (SELECT check_id FROM check_requirements r WHERE r.workspace_id = $1 AND r.framework = $2 AND r.requirement = req.requirement ORDER BY check_id LIMIT $4) AS first
         JOIN checks c ON c.workspace_id = $1 AND c.id = first.check_id
        ORDER BY req.requirement, c.id`,
      [workspaceId, framework, [...out.keys()], listed],
    );
    for (const row of firsts) out.get(row.requirement)!.checks.push({ id: row.id, title: row.title, status: row.status });
    return out;
  }

  /**
   * Marks the checks whose freshness window has passed with no new result, and emits
   * evidence.stale for each, in the same transaction: once per check and result (a new result
   * re-arms it), however often and from however many workers this runs.
   */
  async markStale(limit = 500): Promise<number> {
    let marked = 0;
    for (;;) {
      const batch = await atomically(this.db, async (tx) => {
        const rows = await tx.query<{ workspace_id: string; id: string; job_id: string; rule_id: string; control_ref: string; question_match: string | null; title: string; result: string; evidence_id: string; observed_at: Date; fresh_until: Date }>(
          `UPDATE checks SET stale_notified_at = now() WHERE (workspace_id, id) IN (
             SELECT workspace_id, id FROM checks WHERE fresh_until < now() AND stale_notified_at IS NULL ORDER BY fresh_until LIMIT $1 FOR UPDATE SKIP LOCKED)
           RETURNING workspace_id, id, job_id, rule_id, control_ref, question_match, title, result, evidence_id, observed_at, fresh_until`,
          [limit],
        );
        const events = new EventStore(tx);
        for (const c of rows) {
          await events.record({
            workspaceId: c.workspace_id, type: 'evidence.stale',
            data: {
              check_id: c.id, job_id: c.job_id, rule_id: c.rule_id, control_ref: c.control_ref, question_match: c.question_match, title: c.title,
              last_result: c.result, evidence_id: c.evidence_id, last_result_at: new Date(c.observed_at).toISOString(), stale_since: new Date(c.fresh_until).toISOString(),
            },
          });
        }
        return rows.length;
      });
      marked += batch;
      if (batch < limit) return marked;
    }
  }

  /**
   * Every result of a check over time, newest first, each with the transition it made from the
   * result before it (null when unchanged or the first). Read from the ledger, a page at a time.
   */
  async history(workspaceId: string, check: Pick<Check, 'job_id' | 'rule_id'>, page: PageRequest): Promise<Page<CheckResult>> {
    const rows = await this.db.query<Omit<CheckResult, 'transition'>>(
      `SELECT id AS evidence_id, run_id, result, title, status AS delivery_status, COALESCE(observed_at, collected_at) AS observed_at, created_at AS recorded_at, delivered_at
         FROM evidence WHERE workspace_id = $1 AND job_id = $2 AND rule_id = $3 AND ($4::text IS NULL OR id < $4)
        ORDER BY id DESC LIMIT $5`,
      [workspaceId, check.job_id, check.rule_id, page.after, page.limit + 2],
    );
    const data = rows.slice(0, page.limit).map((row, i) => {
      const before = rows[i + 1];
      return { ...row, transition: before && before.result !== row.result ? { from: before.result, to: row.result } : null };
    });
    return { data, next_cursor: rows.length > page.limit ? encodeCursor(data[data.length - 1]!.evidence_id) : null };
  }
}

/** One result in a check's history. */
export interface CheckResult {
  evidence_id: string;
  run_id: string | null;
  result: Result;
  title: string;
  delivery_status: string;
  observed_at: Date;
  recorded_at: Date;
  delivered_at: Date | null;
  transition: { from: Result; to: Result } | null;
}
