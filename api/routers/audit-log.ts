import type { RouteSpec, JsonSchema } from '../route.js';
import { AUDIT_ACTOR_TYPES } from '../../lib/audit-chain.js';
import { HubError } from '../../lib/errors.js';
import type { AuditLogEntry, AuditLogStore, Retention } from '../../store/audit-log/index.js';
import { principalOf } from '../auth.js';
import { auditContextOf } from '../audit.js';
import { exact, listOf, nullableTimestamp, pageQuery, pageRequest, timestamp } from '../schemas.js';

export interface AuditLogDeps {
  auditLog: AuditLogStore;
}

const MAX_DAYS = 36_500;
const hash: JsonSchema = { type: 'string', pattern: '^[0-9a-f]{64}$' };
const HASH_RECIPE =
  '`hash` is the SHA-256 (hex) of the RFC 8785 canonical JSON of the entry’s fields except `hash` and `archived`: id, workspace_id, seq, ' +
  'occurred_at (ISO 8601 with milliseconds), actor, action, resource_type, resource_id, changes, ip, user_agent, request_id, previous_hash. ' +
  '`previous_hash` is the hash of the entry with seq − 1 (64 zeros for seq 1).';

const entryView: JsonSchema = exact({
  id: { type: 'string' }, workspace_id: { type: 'string' }, seq: { type: 'integer', minimum: 1 }, occurred_at: timestamp,
  actor: { type: 'object', required: ['type', 'id'], properties: { type: { enum: [...AUDIT_ACTOR_TYPES] }, id: { type: 'string' }, name: { type: ['string', 'null'] } } },
  action: { type: 'string' }, resource_type: { type: 'string' }, resource_id: { type: ['string', 'null'] },
  changes: { description: 'What changed, with secret values replaced by "[REDACTED]".' },
  ip: { type: ['string', 'null'] }, user_agent: { type: ['string', 'null'] }, request_id: { type: ['string', 'null'] },
  previous_hash: hash, hash, archived: { type: 'boolean', description: 'Moved to the archive by retention; still part of the chain.' },
});

const verifyReport: JsonSchema = {
  type: 'object',
  required: ['verified', 'logs_checked', 'chain_valid', 'hash_mismatches', 'gaps_detected', 'links_broken', 'verification_hash', 'verified_at', 'scope', 'first_seq', 'last_seq', 'last_hash'],
  properties: {
    verified: { type: 'boolean', description: 'Every check passed.' },
    logs_checked: { type: 'integer' },
    chain_valid: { type: 'boolean', description: 'No gap, no broken link, no hash mismatch.' },
    hash_mismatches: { type: 'integer', description: 'Entries whose content no longer gives their stored hash (or that differ from their archive checkpoint).' },
    gaps_detected: { type: 'integer', description: 'Places where seq does not follow on: entries are missing.' },
    links_broken: { type: 'integer', description: 'Entries whose previous_hash is not the hash of the entry before them.' },
    verification_hash: { ...hash, description: 'SHA-256 (hex) over the stored hash of every checked entry in seq order, each followed by "\\n".' },
    verified_at: timestamp,
    scope: { enum: ['live', 'all'] },
    first_seq: { type: ['integer', 'null'] }, last_seq: { type: ['integer', 'null'] }, last_hash: { type: ['string', 'null'] },
    first_broken: {
      type: 'object', required: ['id', 'seq', 'reason', 'detail'], description: 'The first place the chain breaks, when it does.',
      properties: { id: { type: ['string', 'null'] }, seq: { type: 'integer' }, reason: { enum: ['gap', 'previous_hash_mismatch', 'hash_mismatch', 'checkpoint_mismatch'] }, detail: { type: 'string' } },
    },
  },
};

const counts: JsonSchema = { type: 'object', additionalProperties: { type: 'integer' } };
const statisticsView: JsonSchema = exact({
  period: exact({ from: nullableTimestamp, to: nullableTimestamp }),
  total_events: { type: 'integer', minimum: 0 }, events_by_action: counts, events_by_resource_type: counts, events_by_actor_type: counts,
  events_by_actor: {
    type: 'array',
    items: exact({ type: { type: 'string' }, id: { type: 'string' }, name: { type: ['string', 'null'] }, event_count: { type: 'integer', minimum: 0 } }),
  },
});

const retentionView: JsonSchema = exact({
  days: { type: ['integer', 'null'], description: 'Entries older than this many days move to the archive; null keeps every entry live.' },
  updated_at: nullableTimestamp,
  archived_through: {
    type: ['object', 'null'], description: 'The last archived entry: the first live entry links to this hash.',
    required: ['seq', 'hash', 'archived_at'], properties: { seq: { type: 'integer' }, hash, archived_at: timestamp },
  },
});

const archiveView: JsonSchema = exact({
  archived: { type: 'integer', minimum: 0 }, cutoff: timestamp,
  checkpoint: { type: ['object', 'null'], required: ['seq', 'hash'], properties: { seq: { type: 'integer' }, hash } },
});

const period = {
  from: { ...timestamp, description: 'Entries that occurred at or after this time.' },
  to: { ...timestamp, description: 'Entries that occurred at or before this time.' },
};

function presentEntry(e: AuditLogEntry) {
  return { ...e, occurred_at: e.occurred_at.toISOString() };
}

function presentRetention(r: Retention) {
  return { ...r, updated_at: r.updated_at?.toISOString() ?? null };
}

/** from/to as dates; `prefix` is where they sit in the request (`/query` or the body). */
function periodOf(input: { from?: string; to?: string }, prefix: string): { from?: Date; to?: Date } {
  const parse = (name: 'from' | 'to') => {
    const value = input[name];
    if (value === undefined) return undefined;
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) throw HubError.validation([{ pointer: `${prefix}/${name}`, message: 'is not a date-time this hub can use' }]);
    return date;
  };
  const from = parse('from');
  const to = parse('to');
  if (from && to && from > to) throw HubError.validation([{ pointer: `${prefix}/to`, message: 'must not be before from' }]);
  return { from, to };
}

export function auditLogRoutes(deps: AuditLogDeps): RouteSpec[] {
  // Fixed paths first: Express would otherwise take "statistics" for an :id.
  return [
    {
      method: 'get', path: '/api/v1/audit-log', operationId: 'listAuditLog', tag: 'audit-log', auth: 'audit:read',
      summary: 'The workspace’s tamper-evident audit log, in seq order.',
      description: HASH_RECIPE,
      query: {
        type: 'object', additionalProperties: false,
        properties: {
          ...(pageQuery.properties as object),
          actor: { type: 'string', maxLength: 200, description: 'The actor’s id (an API key id for API calls).' },
          actor_type: { enum: [...AUDIT_ACTOR_TYPES] },
          action: { type: 'string', maxLength: 200, description: 'An action (`connection.created`) or a prefix ending in `.*` (`connection.*`).' },
          resource_type: { type: 'string', maxLength: 100 },
          resource_id: { type: 'string', maxLength: 200 },
          ...period,
          q: { type: 'string', minLength: 1, maxLength: 200, description: 'Case-insensitive text in the action, resource, actor name or changes.' },
          include_archived: { type: 'boolean', default: false, description: 'Also list entries retention moved to the archive.' },
          order: { enum: ['asc', 'desc'], default: 'asc', description: 'By seq: oldest first (asc) or newest first (desc).' },
        },
      },
      responses: { 200: { description: 'A page of entries.', schema: listOf(entryView) } },
      handler: async (_req, res) => {
        const q = res.locals.query as {
          actor?: string; actor_type?: string; action?: string; resource_type?: string; resource_id?: string;
          from?: string; to?: string; q?: string; include_archived?: boolean; order?: 'asc' | 'desc';
        };
        const page = await deps.auditLog.list(principalOf(res).workspaceId, pageRequest(res), {
          actor: q.actor, actorType: q.actor_type, action: q.action, resourceType: q.resource_type, resourceId: q.resource_id,
          ...periodOf(q, '/query'), q: q.q, includeArchived: q.include_archived, order: q.order,
        });
        res.json({ data: page.data.map(presentEntry), next_cursor: page.next_cursor });
      },
    },
    {
      method: 'get', path: '/api/v1/audit-log/statistics', operationId: 'auditLogStatistics', tag: 'audit-log', auth: 'audit:read',
      summary: 'Events by action, resource type and actor over a period (all time without from/to).',
      query: { type: 'object', additionalProperties: false, properties: period },
      responses: { 200: { description: 'Counts.', schema: statisticsView } },
      handler: async (_req, res) => {
        res.json(await deps.auditLog.statistics(principalOf(res).workspaceId, periodOf(res.locals.query as { from?: string; to?: string }, '/query')));
      },
    },
    {
      method: 'post', path: '/api/v1/audit-log/verify', operationId: 'verifyAuditLog', tag: 'audit-log', auth: 'audit:read', bodyOptional: true,
      summary: 'Recompute the hash chain and report whether the log is intact.',
      description:
        `${HASH_RECIPE} With from/to, the entries that occurred in the period are checked and the first of them is checked against the entry before it. ` +
        'scope `live` (default) checks the live log, anchored on the last archive checkpoint; `all` checks the archive and the live log from the first entry.',
      body: {
        type: 'object', additionalProperties: false,
        properties: { ...period, scope: { enum: ['live', 'all'], default: 'live' } },
      },
      responses: { 200: { description: 'The verification report.', schema: verifyReport } },
      handler: async (req, res) => {
        const body = req.body as { from?: string; to?: string; scope?: 'live' | 'all' };
        res.json(await deps.auditLog.verify(principalOf(res).workspaceId, { ...periodOf(body, ''), scope: body.scope }));
      },
    },
    {
      method: 'get', path: '/api/v1/audit-log/retention', operationId: 'getAuditLogRetention', tag: 'audit-log', auth: 'audit:read',
      summary: 'How long entries stay live before they move to the archive.',
      responses: { 200: { description: 'The retention setting.', schema: retentionView } },
      handler: async (_req, res) => {
        res.json(presentRetention(await deps.auditLog.retention(principalOf(res).workspaceId)));
      },
    },
    {
      method: 'put', path: '/api/v1/audit-log/retention', operationId: 'setAuditLogRetention', tag: 'audit-log', auth: 'admin',
      summary: 'Set how many days entries stay live (null: forever). Archived entries are kept, never deleted.',
      body: {
        type: 'object', additionalProperties: false, required: ['days'],
        properties: { days: { type: ['integer', 'null'], minimum: 1, maximum: MAX_DAYS } },
      },
      responses: { 200: { description: 'The new setting.', schema: retentionView } },
      handler: async (req, res) => {
        const { days } = req.body as { days: number | null };
        res.json(presentRetention(await deps.auditLog.setRetention(principalOf(res).workspaceId, days, auditContextOf(req, res))));
      },
    },
    {
      method: 'post', path: '/api/v1/audit-log/archive', operationId: 'archiveAuditLog', tag: 'audit-log', auth: 'admin', bodyOptional: true, idempotent: true,
      summary: 'Move entries older than the retention period (or older_than_days) to the archive now.',
      description: 'Records a checkpoint (last archived seq and hash) so the live log and the archive both stay verifiable.',
      body: {
        type: 'object', additionalProperties: false,
        properties: { older_than_days: { type: 'integer', minimum: 0, maximum: MAX_DAYS, description: 'Defaults to the workspace’s retention days.' } },
      },
      responses: { 200: { description: 'What was archived.', schema: archiveView } },
      handler: async (req, res) => {
        const { workspaceId } = principalOf(res);
        const days = (req.body as { older_than_days?: number }).older_than_days ?? (await deps.auditLog.retention(workspaceId)).days;
        if (days === null) {
          throw HubError.validation([{ pointer: '/older_than_days', message: 'is required while the workspace has no retention period (PUT /api/v1/audit-log/retention)' }]);
        }
        const { workspace_id: _ws, ...result } = await deps.auditLog.archive(workspaceId, days, { actor: auditContextOf(req, res).actor });
        res.json(result);
      },
    },
    {
      method: 'get', path: '/api/v1/audit-log/:id', operationId: 'getAuditLogEntry', tag: 'audit-log', auth: 'audit:read',
      summary: 'One entry (live or archived) with its hash and previous_hash.',
      description: HASH_RECIPE,
      responses: { 200: { description: 'The entry.', schema: entryView } },
      handler: async (req, res) => {
        const entry = await deps.auditLog.get(principalOf(res).workspaceId, String(req.params.id));
        if (!entry) throw HubError.notFound('No audit log entry with this id in this workspace.');
        res.json(presentEntry(entry));
      },
    },
  ];
}
