import { appendAuditEntries, SYSTEM_ACTOR, type AuditContext } from './audit-log/index.js';
import { atomically, type Queryable } from './db.js';
import { EventStore } from './events.js';
import { toPage, type Page, type PageRequest } from './pagination.js';

export const EXCEPTION_STATUSES = ['active', 'expired', 'revoked'] as const;
export type ExceptionStatus = (typeof EXCEPTION_STATUSES)[number];

/** A finding accepted until an expiry: a whole check, or some of its records. */
export interface RiskException {
  id: string;
  workspace_id: string;
  check_id: string;
  job_id: string;
  rule_id: string;
  /** null: the whole check. */
  record_ids: string[] | null;
  reason: string;
  owner: string;
  expires_at: Date;
  status: ExceptionStatus;
  workflow_id: string;
  created_by: string | null;
  created_at: Date;
  ended_at: Date | null;
}

export type NewException = Pick<RiskException, 'id' | 'workspace_id' | 'check_id' | 'job_id' | 'rule_id' | 'record_ids' | 'reason' | 'owner' | 'expires_at' | 'workflow_id' | 'created_by'>;

/** The `data` of exception.* events. */
function eventData(e: RiskException): Record<string, unknown> {
  return {
    exception_id: e.id, check_id: e.check_id, job_id: e.job_id, rule_id: e.rule_id, record_ids: e.record_ids, reason: e.reason, owner: e.owner,
    expires_at: new Date(e.expires_at).toISOString(), status: e.status,
  };
}

export class ExceptionStore {
  constructor(private readonly db: Queryable) {}

  /** Records a new exception with its audit entry, in `tx`. */
  async create(tx: Queryable, e: NewException, context: AuditContext): Promise<RiskException> {
    const [row] = await tx.query<RiskException>(
      `INSERT INTO exceptions (id, workspace_id, check_id, job_id, rule_id, record_ids, reason, owner, expires_at, status, workflow_id, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $11) RETURNING *`,
      [e.id, e.workspace_id, e.check_id, e.job_id, e.rule_id, e.record_ids, e.reason, e.owner, e.expires_at.toISOString(), e.workflow_id, e.created_by],
    );
    await appendAuditEntries(tx, [{
      ...context, workspaceId: e.workspace_id, action: 'exception.created', resourceType: 'exception', resourceId: e.id,
      changes: { check_id: e.check_id, record_ids: e.record_ids, reason: e.reason, owner: e.owner, expires_at: e.expires_at.toISOString() },
    }]);
    return row!;
  }

  async get(workspaceId: string, id: string): Promise<RiskException | null> {
    const [row] = await this.db.query<RiskException>('SELECT * FROM exceptions WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
    return row ?? null;
  }

  async list(workspaceId: string, page: PageRequest, filter: { status?: ExceptionStatus; checkId?: string } = {}): Promise<Page<RiskException>> {
    const rows = await this.db.query<RiskException>(
      `SELECT * FROM exceptions WHERE workspace_id = $1 AND ($2::text IS NULL OR id > $2) AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR check_id = $4)
       ORDER BY id LIMIT $5`,
      [workspaceId, page.after, filter.status ?? null, filter.checkId ?? null, page.limit + 1],
    );
    return toPage(rows, page.limit);
  }

  /** The active exceptions of a job's checks (what an evaluation applies), by rule id. */
  async activeForJob(workspaceId: string, jobId: string, now = new Date()): Promise<Map<string, RiskException[]>> {
    const rows = await this.db.query<RiskException>(
      `SELECT * FROM exceptions WHERE workspace_id = $1 AND job_id = $2 AND status = 'active' AND expires_at > $3 ORDER BY id`,
      [workspaceId, jobId, now.toISOString()],
    );
    const byRule = new Map<string, RiskException[]>();
    for (const row of rows) byRule.set(row.rule_id, [...(byRule.get(row.rule_id) ?? []), row]);
    return byRule;
  }

  /**
   * Ends an active exception (expired by its timer, or revoked), with its event and audit
   * entry; null when it had already ended (a repeated call changes nothing).
   */
  async end(id: string, status: 'expired' | 'revoked', context?: AuditContext): Promise<RiskException | null> {
    return atomically(this.db, async (tx) => {
      const [row] = await tx.query<RiskException>(
        `UPDATE exceptions SET status = $2, ended_at = now() WHERE id = $1 AND status = 'active' RETURNING *`,
        [id, status],
      );
      if (!row) return null;
      if (status === 'expired') await new EventStore(tx).record({ workspaceId: row.workspace_id, type: 'exception.expired', data: eventData(row) });
      await appendAuditEntries(tx, [{
        ...(context ?? { actor: SYSTEM_ACTOR }), workspaceId: row.workspace_id, action: `exception.${status}`, resourceType: 'exception', resourceId: row.id,
        changes: { check_id: row.check_id, expires_at: new Date(row.expires_at).toISOString() },
      }]);
      return row;
    });
  }

  /** Emits exception.expiring for an active exception (its workflow calls this once, 7 days ahead). */
  async announceExpiring(id: string): Promise<void> {
    await atomically(this.db, async (tx) => {
      const [row] = await tx.query<RiskException>(`SELECT * FROM exceptions WHERE id = $1 AND status = 'active'`, [id]);
      if (row) await new EventStore(tx).record({ workspaceId: row.workspace_id, type: 'exception.expiring', data: eventData(row) });
    });
  }
}
