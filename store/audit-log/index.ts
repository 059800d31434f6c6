import type { Db, Queryable } from '../db.js';
import type { PageRequest } from '../pagination.js';
import { appendAuditEntry, appendInOwnTransaction } from './append.js';
import type { ArchiveResult, AuditActor, AuditContext, AuditFilter, NewAuditEntry, VerifyOptions } from './model.js';
import { AuditLogReader } from './query.js';
import { AuditLogRetention } from './retention.js';
import { AuditLogVerifier } from './verify.js';

export * from './model.js';
export { appendAuditEntries } from './append.js';

/**
 * The hub's tamper-evident audit log: per workspace, one hash chain with seq 1..n and no gaps
 * (see lib/audit-chain.ts for the hash). Writers append inside the transaction of the change
 * they record, so the change and its audit entry commit or vanish together.
 */
export class AuditLogStore {
  private readonly reader: AuditLogReader;
  private readonly verifier: AuditLogVerifier;
  private readonly retentionPolicy: AuditLogRetention;

  constructor(private readonly db: Db) {
    this.reader = new AuditLogReader(db);
    this.verifier = new AuditLogVerifier(db);
    this.retentionPolicy = new AuditLogRetention(db);
  }

  /**
   * Appends one entry in the caller's transaction `tx` (which must be a transaction in READ
   * COMMITTED, PostgreSQL's default): see appendAuditEntries.
   */
  append(tx: Queryable, entry: NewAuditEntry) {
    return appendAuditEntry(tx, entry);
  }

  /** For callers without a transaction of their own (a background job, a one-off event). */
  appendOwnTx(entry: NewAuditEntry) {
    return appendInOwnTransaction(this.db, entry);
  }

  get(workspaceId: string, id: string) {
    return this.reader.get(workspaceId, id);
  }

  list(workspaceId: string, page: PageRequest, filter: AuditFilter = {}) {
    return this.reader.list(workspaceId, page, filter);
  }

  statistics(workspaceId: string, period: { from?: Date; to?: Date } = {}) {
    return this.reader.statistics(workspaceId, period);
  }

  verify(workspaceId: string, options: VerifyOptions = {}) {
    return this.verifier.verify(workspaceId, options);
  }

  archive(workspaceId: string, olderThanDays: number, options: { now?: Date; actor?: AuditActor } = {}): Promise<ArchiveResult> {
    return this.retentionPolicy.archive(workspaceId, olderThanDays, options);
  }

  retention(workspaceId: string) {
    return this.retentionPolicy.retention(workspaceId);
  }

  setRetention(workspaceId: string, days: number | null, context: AuditContext) {
    return this.retentionPolicy.setRetention(workspaceId, days, context);
  }

  runRetention(now = new Date()) {
    return this.retentionPolicy.runRetention(now);
  }
}
