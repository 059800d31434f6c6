/**
 * The normalised records the ComplianceAgent connector produces, one JSON Schema (draft
 * 2020-12) per dataset. Audit log entries keep the API's snake_case names (seed 004, "Get
 * Audit Logs") with its nested `actor`, `resource` and `repository` objects flattened into
 * `actor_type`, `resource_id`, `repository_name`…, so that rules filter on plain fields;
 * `details` stays an object (its content depends on the event type). The integrity record
 * is the verify response's `data`, field for field, with the scope that was verified.
 */
import type { JsonValue } from '../types.js';

const text = { type: ['string', 'null'] } as const;
const count = { type: ['integer', 'null'], minimum: 0 } as const;

/** The seed's "Event Types" table. */
export const COMPLIANCEAGENT_EVENT_TYPES = [
  'scan.started', 'scan.completed', 'issue.created', 'issue.updated', 'issue.resolved',
  'fix.generated', 'fix.applied', 'config.changed', 'access.granted', 'access.revoked',
] as const;

export const complianceagentDatasets = {
  'complianceagent.audit_logs': {
    description:
      'ComplianceAgent audit log entries (scans, issues, fixes, configuration and access changes) between the last successful collection and this one; the first collection reaches back initial_days.',
    record_schema: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'event_type', 'timestamp', 'actor_type', 'actor_id', 'actor_email', 'resource_type', 'resource_id', 'resource_name', 'repository_id', 'repository_name', 'details', 'ip_address', 'user_agent'],
      properties: {
        id: { type: 'string', description: 'Log entry id (log_…).' },
        event_type: { type: 'string', description: `One of ${COMPLIANCEAGENT_EVENT_TYPES.join(', ')} (others are kept as sent).` },
        timestamp: { type: 'string', format: 'date-time' },
        actor_type: { ...text, description: 'user or system.' },
        actor_id: text,
        actor_email: text,
        resource_type: { ...text, description: 'e.g. issue, fix, scan, config, user.' },
        resource_id: text,
        resource_name: text,
        repository_id: text,
        repository_name: { ...text, description: 'e.g. acme/web-app.' },
        details: { type: ['object', 'null'], description: 'Event-specific details, as ComplianceAgent sent them.' },
        ip_address: text,
        user_agent: text,
      },
    },
  },
  'complianceagent.integrity': {
    description:
      'One record: the result of ComplianceAgent’s hash-chain verification of its audit log (POST /api/v1/audit/verify) at collection time, with the scope verified.',
    record_schema: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'scope_from', 'scope_to', 'scope_repository_id', 'verified', 'chain_valid', 'logs_checked', 'hash_mismatches', 'gaps_detected', 'verification_hash', 'verified_at'],
      properties: {
        id: { type: 'string', description: '"audit-log", or "audit-log:<repository_id>" when the connection is limited to one repository.' },
        scope_from: { ...text, format: 'date-time', description: 'Start of the verified period; null: from the first entry.' },
        scope_to: { type: 'string', format: 'date-time', description: 'End of the verified period (the collection time).' },
        scope_repository_id: text,
        verified: { type: ['boolean', 'null'] },
        chain_valid: { type: ['boolean', 'null'] },
        logs_checked: count,
        hash_mismatches: { ...count, description: 'Entries whose content no longer matches their hash.' },
        gaps_detected: { ...count, description: 'Breaks in the chain: an entry whose previous_hash is not the hash of the entry before it.' },
        verification_hash: text,
        verified_at: { ...text, format: 'date-time' },
      },
    },
  },
} as const satisfies Record<string, { description: string; record_schema: Record<string, unknown> }>;

/** An entry as the seed's list sample shows it. */
export interface ComplianceAgentLogEntry {
  id: string;
  event_type: string;
  actor?: { type?: string; id?: string; email?: string | null } | null;
  resource?: { type?: string; id?: string; name?: string } | null;
  repository?: { id?: string; name?: string } | null;
  details?: Record<string, unknown> | null;
  ip_address?: string | null;
  user_agent?: string | null;
  /** The single-entry view has these under `metadata`. */
  metadata?: { ip_address?: string | null; user_agent?: string | null } | null;
  timestamp: string;
}

export function auditLogRecord(entry: ComplianceAgentLogEntry): JsonValue {
  return {
    id: String(entry.id),
    event_type: String(entry.event_type),
    timestamp: entry.timestamp,
    actor_type: entry.actor?.type ?? null,
    actor_id: entry.actor?.id ?? null,
    actor_email: entry.actor?.email ?? null,
    resource_type: entry.resource?.type ?? null,
    resource_id: entry.resource?.id ?? null,
    resource_name: entry.resource?.name ?? null,
    repository_id: entry.repository?.id ?? null,
    repository_name: entry.repository?.name ?? null,
    details: (entry.details ?? null) as JsonValue,
    ip_address: entry.ip_address ?? entry.metadata?.ip_address ?? null,
    user_agent: entry.user_agent ?? entry.metadata?.user_agent ?? null,
  };
}

/** The seed's verify response `data`. */
export interface VerifyData {
  verified?: boolean;
  logs_checked?: number;
  chain_valid?: boolean;
  hash_mismatches?: number;
  gaps_detected?: number;
  verification_hash?: string;
  verified_at?: string;
}

/** Missing fields stay null: a verification that does not say "valid" never reads as valid. */
export function integrityRecord(data: VerifyData, scope: { from: string | null; to: string; repositoryId: string | null }): JsonValue {
  const flag = (value: unknown) => (typeof value === 'boolean' ? value : null);
  const number = (value: unknown) => (typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : null);
  return {
    id: scope.repositoryId ? `audit-log:${scope.repositoryId}` : 'audit-log',
    scope_from: scope.from,
    scope_to: scope.to,
    scope_repository_id: scope.repositoryId,
    verified: flag(data.verified),
    chain_valid: flag(data.chain_valid),
    logs_checked: number(data.logs_checked),
    hash_mismatches: number(data.hash_mismatches),
    gaps_detected: number(data.gaps_detected),
    verification_hash: typeof data.verification_hash === 'string' ? data.verification_hash : null,
    verified_at: typeof data.verified_at === 'string' ? data.verified_at : null,
  };
}
