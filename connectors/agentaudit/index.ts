import { connectionContext, maxResponseMbProperty, type SourceConnector } from '../types.js';
import { AgentAuditClient, listIn, type AgentAuditConfig } from './client.js';
import { agentauditDatasets, alertRecord, auditLogRecord } from './records.js';

export { AgentAuditClient } from './client.js';
export { agentauditDestination, evidenceEntry, EVIDENCE_ACTION } from './destination.js';
export { planBatches, runTraceEntries, spanIdOf, TRACE_ACTIONS } from './run-trace.js';
export type { AgentAuditEntry, RunTrace, RunTraceDataset, RunTraceDeliveryStatus, RunTraceEvidence, RunTraceStatus, TraceSpan } from './run-trace.js';
export { AGENTAUDIT_MAX_BATCH, sendRunTrace } from './send-trace.js';
export type { RunTraceReceipt } from './send-trace.js';

const DEFAULT_MAX_AUDIT_LOGS = 5000;

/**
 * Where a walk of the audit logs stands. AgentAudit lists newest first with limit/offset
 * only (the seed: "Supports query params: limit, offset, agentId, action, traceId"), so logs
 * arriving during the walk push older ones down a page: the next page skips everything up to
 * the last id of the previous one.
 */
type LogCursor = { offset: number; last_id: string | null; collected: number };

/** `limit` and `total` when the list answer carries them (the seed does not show a list answer). */
function listMeta(body: unknown): { limit?: number; total?: number } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return {};
  const { limit, total } = body as { limit?: unknown; total?: unknown };
  return { limit: typeof limit === 'number' ? limit : undefined, total: typeof total === 'number' ? total : undefined };
}

export const agentauditConnector: SourceConnector<AgentAuditClient> = {
  type: 'agentaudit',
  name: 'AgentAudit',
  description: 'Unresolved compliance alerts and recent audit logs of AI agents, from AgentAudit (API key; optionally a dashboard account for reads).',
  configSchema: {
    type: 'object', additionalProperties: false, required: ['base_url'],
    properties: {
      base_url: { type: 'string', format: 'uri', description: 'e.g. https://your-domain.com/api/v1 (/api/v1 is added when missing).' },
      email: { type: 'string', minLength: 3, description: 'A dashboard account: reads use its JWT (POST /auth/login, with the password secret) instead of the API key.' },
      page_size: { type: 'integer', minimum: 1, maximum: 100, default: 100, description: 'Audit logs per request (limit).' },
      max_audit_logs: { type: 'integer', minimum: 1, maximum: 100000, default: DEFAULT_MAX_AUDIT_LOGS, description: 'The most recent audit logs to collect.' },
      agent_id_filter: { type: 'string', minLength: 1, description: 'Only this agent’s audit logs (agentId).' },
      action_filter: { type: 'string', minLength: 1, description: 'Only audit logs with this action, e.g. guardrail_block.' },
      include_content: { type: 'boolean', default: false, description: 'Copy prompts and responses into the snapshot (they may hold the personal data AgentAudit screens for).' },
      ...maxResponseMbProperty,
    },
  },
  secretsSchema: {
    type: 'object', additionalProperties: false, required: ['api_key'],
    properties: { api_key: { type: 'string', minLength: 1, description: 'An AgentAudit API key (aa_…).' }, password: { type: 'string', minLength: 1, description: 'The dashboard account’s password, when email is set.' } },
  },
  urlFields: ['base_url'],
  open: (ctx) => new AgentAuditClient(connectionContext(ctx), ctx.config as unknown as AgentAuditConfig),
  async test(client) {
    await client.get('/alerts?resolved=false', 'listing unresolved alerts');
  },
  datasets: {
    'agentaudit.alerts': {
      ...agentauditDatasets['agentaudit.alerts'],
      async *pages(client) {
        const what = 'listing unresolved alerts';
        // The seed: "GET /api/v1/alerts List alerts — supports ?resolved=false"; it documents no paging.
        const alerts = listIn<Record<string, unknown>>((await client.get('/alerts?resolved=false', what)).json(), what);
        // Resolved ones are dropped here too, should a server ignore the filter.
        yield { records: alerts.filter((alert) => alert.resolved !== true).map(alertRecord), next: null };
      },
    },
    'agentaudit.audit_logs': {
      ...agentauditDatasets['agentaudit.audit_logs'],
      async *pages(client, cursor) {
        const size = client.config.page_size ?? 100;
        const max = client.config.max_audit_logs ?? DEFAULT_MAX_AUDIT_LOGS;
        const includeContent = client.config.include_content === true;
        for (let position = (cursor as LogCursor | null) ?? { offset: 0, last_id: null, collected: 0 }; ; ) {
          const query = new URLSearchParams({ limit: String(size), offset: String(position.offset) });
          if (client.config.agent_id_filter) query.set('agentId', client.config.agent_id_filter);
          if (client.config.action_filter) query.set('action', client.config.action_filter);
          const what = `listing audit logs (offset ${position.offset})`;
          const body = (await client.get(`/audit-logs?${query}`, what)).json();
          const logs = listIn<Record<string, unknown>>(body, what);
          const meta = listMeta(body);
          const seenUpTo = position.last_id === null ? -1 : logs.findIndex((log) => log.id === position.last_id);
          const fresh = logs.slice(seenUpTo + 1, seenUpTo + 1 + (max - position.collected));
          const collected = position.collected + fresh.length;
          // The server may cap `limit`; its answer says what it used.
          const served = meta.limit ?? size;
          const reachedEnd = logs.length < served || (meta.total !== undefined && position.offset + logs.length >= meta.total);
          const last = logs.at(-1)?.id;
          const next: LogCursor | null = reachedEnd || collected >= max ? null : { offset: position.offset + logs.length, last_id: typeof last === 'string' ? last : null, collected };
          yield { records: fresh.map((log) => auditLogRecord(log, includeContent)), next };
          if (!next) return;
          position = next;
        }
      },
    },
  },
};
