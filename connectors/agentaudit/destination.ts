import { asJson, bodyJson, classifyDeliveryResponse } from '../destination-http.js';
import { connectionContext, maxResponseMbProperty, type DeliveryItem, type DeliveryOutcome, type DestinationConnector, type JsonValue } from '../types.js';
import { AgentAuditClient, SYSTEM, type AgentAuditConfig } from './client.js';
import type { AgentAuditEntry } from './run-trace.js';
import { sendRunTrace } from './send-trace.js';

/** The action of an evidence item delivered to AgentAudit (the seed's event types are snake_case: llm_call, tool_use…). */
export const EVIDENCE_ACTION = 'compliance_evidence';

/**
 * One evidence item as an audit-log entry (seed 003, "Log a single event"): the title as the
 * prompt, the result as the response, and the item's identity and payload as `metadata`
 * ("Any JSON"). The seed names no idempotency key; the hub's is kept in the metadata so that
 * a duplicate left by a retry can be recognised.
 */
export function evidenceEntry(item: DeliveryItem, agentId: string | undefined): AgentAuditEntry {
  const entry: AgentAuditEntry = {
    action: EVIDENCE_ACTION,
    prompt: item.title,
    response: item.result,
    metadata: {
      source: 'evidence-hub',
      evidenceId: item.evidence_id,
      ruleId: item.rule_id,
      controlRef: item.control_ref,
      questionMatch: item.question_match,
      questionId: item.question_id,
      evidenceSource: item.source,
      result: item.result,
      collectedAt: item.collected_at,
      payloadSha256: item.payload_sha256,
      idempotencyKey: item.idempotency_key,
      payload: asJson(item.payload),
    },
  };
  if (agentId) entry.agentId = agentId;
  return entry;
}

/**
 * AgentAudit as a destination: each evidence item becomes one audit log, `POST
 * /api/v1/audit-logs` with the API key ("Auth: API Key"). A 429 or 5xx is thrown as a
 * retryable ConnectorError for Temporal to retry; other 4xx are rejections. Whole runs are
 * logged as traces with sendRunTrace, on a session this connector opens.
 */
export const agentauditDestination: DestinationConnector<AgentAuditClient> = {
  type: 'agentaudit',
  name: 'AgentAudit',
  description: 'Evidence items logged as AgentAudit audit logs (X-API-Key); a run can be logged as a trace of spans with sendRunTrace.',
  configSchema: {
    type: 'object', additionalProperties: false, required: ['base_url'],
    properties: {
      base_url: { type: 'string', format: 'uri', description: 'e.g. https://your-domain.com/api/v1 (/api/v1 is added when missing).' },
      agent_id: { type: 'string', minLength: 1, maxLength: 200, description: 'A registered agent’s id, sent as agentId so the hub’s logs can be filtered and governed by policy.' },
      ...maxResponseMbProperty,
    },
  },
  secretsSchema: { type: 'object', additionalProperties: false, required: ['api_key'], properties: { api_key: { type: 'string', minLength: 1, description: 'An AgentAudit API key (aa_…).' } } },
  targetSchema: {
    type: 'object', additionalProperties: false,
    properties: { agent_id: { type: 'string', minLength: 1, maxLength: 200, description: 'Overrides the destination’s agent_id for this job.' } },
  },
  urlFields: ['base_url'],
  // Only the API key is used: a destination never signs in to the dashboard.
  open: (ctx) => new AgentAuditClient(connectionContext(ctx), { ...(ctx.config as unknown as AgentAuditConfig), email: undefined }),

  async test(client) {
    // "GET /api/v1/audit-logs Auth: JWT or API Key": a read that proves the key without logging anything.
    await client.get('/audit-logs?limit=1', 'reading one audit log');
  },

  async deliver(client, item, target): Promise<DeliveryOutcome> {
    const agentId = typeof target.agent_id === 'string' ? target.agent_id : client.config.agent_id;
    const what = `logging evidence "${item.title}"`;
    const response = await client.postOnce('/audit-logs', what, evidenceEntry(item, agentId));
    if (response.status < 200 || response.status >= 300) return classifyDeliveryResponse(SYSTEM, response, what);
    const body = bodyJson(response);
    const log = (body?.data ?? body ?? {}) as { id?: unknown; createdAt?: unknown };
    // The created log echoes the payload back: keep only what identifies it.
    const detail: JsonValue = { id: typeof log.id === 'string' ? log.id : null, created_at: typeof log.createdAt === 'string' ? log.createdAt : null };
    return { status: 'delivered', destination_ids: typeof log.id === 'string' ? [log.id] : [], detail };
  },

  async exportRunTrace(client, trace) {
    await sendRunTrace(client, trace);
  },
};
