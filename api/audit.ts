import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { REDACTED, redactUrl } from '../lib/redact.js';
import type { AuditContext, AuditLogStore } from '../store/audit-log/index.js';
import type { Db, Queryable } from '../store/db.js';
import { principalOf } from './auth.js';

/** Who is calling and from where, ready to spread into `AuditLogStore.append`. */
export function auditContextOf(req: Request, res: Response): AuditContext {
  const principal = principalOf(res);
  return {
    actor: { type: 'api_key', id: principal.keyId, name: principal.keyName, ...(principal.homeWorkspaceId ? { workspace_id: principal.homeWorkspaceId } : {}) },
    ip: req.ip ?? null,
    userAgent: req.get('user-agent') ?? null,
    requestId: (res.locals.requestId as string | undefined) ?? null,
  };
}

/** What a route needs to record its changes in the audit log. */
export interface AuditDeps {
  db: Db;
  auditLog: AuditLogStore;
}

/** What one change records; who did it and from where come from the request. */
export interface AuditRecord {
  /** `<resource>.<verb>`, e.g. `connection.created`. */
  action: string;
  resourceType: string;
  resourceId?: string | null;
  /** What changed. Never secret values: name secrets with `secretNames`. */
  changes?: unknown;
  /** The chain the entry joins: the caller's workspace unless the change is in another one. */
  workspaceId?: string;
}

/**
 * Runs `change` in one transaction and appends the audit entry `describe` makes of its result
 * in that same transaction, as its last statement: the change and its entry commit or roll
 * back together, and the per-workspace chain lock is held only for the moment before commit
 * (so it never waits behind a row lock the change takes). `describe` returns null when the
 * change turned out to change nothing (a repeated push, a cancel of a finished run).
 *
 * Inside `change` every query must go through `tx` (stores built over it, or methods taking
 * it): on PGlite the transaction holds the only connection. Calls to Temporal stay outside.
 */
export function audited<T>(
  deps: AuditDeps,
  req: Request,
  res: Response,
  change: (tx: Queryable) => Promise<T>,
  describe: (result: T) => AuditRecord | null,
): Promise<T> {
  const context = auditContextOf(req, res);
  const callerWorkspace = principalOf(res).workspaceId;
  return deps.db.transaction(async (tx) => {
    const result = await change(tx);
    const record = describe(result);
    if (record) {
      const { workspaceId, ...entry } = record;
      await deps.auditLog.append(tx, { ...context, ...entry, workspaceId: workspaceId ?? callerWorkspace });
    }
    return result;
  });
}

/**
 * Which secrets a change set (`[REDACTED]`) or removed (null), by name only: the values never
 * reach the audit log, not even to be redacted there.
 */
export function secretNames(secrets: Record<string, unknown> | undefined): Record<string, string | null> | undefined {
  if (!secrets || Object.keys(secrets).length === 0) return undefined;
  return Object.fromEntries(Object.entries(secrets).map(([name, value]) => [name, value === null ? null : REDACTED]));
}

/**
 * A webhook URL as the audit log keeps it: its origin, and a hash of its path and query.
 * Receivers such as Slack or Teams put the secret in the path, and the log is readable with
 * audit:read alone; the hash still shows whether two entries name the same URL.
 */
export function auditUrl(url: string | undefined): { origin: string; path_sha256: string } | string | undefined {
  if (url === undefined) return undefined;
  try {
    const parsed = new URL(url);
    return { origin: parsed.origin, path_sha256: createHash('sha256').update(parsed.pathname + parsed.search).digest('hex') };
  } catch {
    return redactUrl(url);
  }
}
