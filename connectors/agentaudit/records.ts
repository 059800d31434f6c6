/**
 * The normalised records the AgentAudit source produces, one JSON Schema (draft 2020-12) per
 * dataset, in the hub's snake_case. The seed (003) documents the fields a client sends with
 * an audit log — action, prompt, response, agentId, traceId, parentSpanId, metadata — and
 * shows neither a stored log nor an alert: `id`, `createdAt` and the alert fields (severity,
 * rule, resolved…) are read under their camelCase names with snake_case fallbacks, and are
 * null when AgentAudit does not send them.
 */
import type { JsonValue } from '../types.js';

const text = { type: ['string', 'null'] } as const;
const timestamp = { type: ['string', 'null'], format: 'date-time' } as const;

export const ALERT_SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;

export const agentauditDatasets = {
  'agentaudit.alerts': {
    description: 'Unresolved AgentAudit alerts: compliance-rule violations raised on agent audit logs (GET /api/v1/alerts?resolved=false).',
    record_schema: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'severity', 'rule_id', 'rule_name', 'message', 'audit_log_id', 'agent_id', 'trace_id', 'resolved', 'resolved_at', 'created_at'],
      properties: {
        id: { type: 'string' },
        severity: { ...text, description: `Lower case, e.g. ${ALERT_SEVERITIES.join(', ')}; null when AgentAudit gives none.` },
        rule_id: text,
        rule_name: { ...text, description: 'The compliance rule that fired, e.g. pii_detection.' },
        message: text,
        audit_log_id: { ...text, description: 'The audit log the rule fired on.' },
        agent_id: text,
        trace_id: text,
        resolved: { type: 'boolean' },
        resolved_at: timestamp,
        created_at: timestamp,
      },
    },
  },
  'agentaudit.audit_logs': {
    description:
      'The most recent AgentAudit audit logs (LLM calls, tool use, guardrail checks…), newest first, up to max_audit_logs; prompt and response only when include_content is on.',
    record_schema: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'action', 'agent_id', 'trace_id', 'parent_span_id', 'prompt', 'response', 'metadata', 'created_at'],
      properties: {
        id: { type: 'string' },
        action: { type: 'string', description: 'Event type, e.g. llm_call, tool_use, guardrail_block.' },
        agent_id: text,
        trace_id: { ...text, description: 'Groups the logs of one agent run.' },
        parent_span_id: { ...text, description: 'The id of the parent log entry.' },
        prompt: { ...text, description: 'Input sent to the model or tool; null unless include_content is on.' },
        response: { ...text, description: 'Output of the model or tool; null unless include_content is on.' },
        metadata: { type: ['object', 'null'] },
        created_at: timestamp,
      },
    },
  },
} as const satisfies Record<string, { description: string; record_schema: Record<string, unknown> }>;

type Fields = Record<string, unknown>;

/** The first of `names` that holds a string. */
function stringField(item: Fields, ...names: string[]): string | null {
  for (const name of names) if (typeof item[name] === 'string') return item[name] as string;
  return null;
}

export function alertRecord(alert: Fields): JsonValue {
  const severity = stringField(alert, 'severity', 'level', 'priority');
  return {
    id: String(alert.id ?? alert._id ?? ''),
    severity: severity?.toLowerCase() ?? null,
    rule_id: stringField(alert, 'ruleId', 'rule_id', 'complianceRuleId'),
    rule_name: stringField(alert, 'ruleName', 'rule_name', 'rule'),
    message: stringField(alert, 'message', 'description', 'title'),
    audit_log_id: stringField(alert, 'auditLogId', 'audit_log_id', 'logId'),
    agent_id: stringField(alert, 'agentId', 'agent_id'),
    trace_id: stringField(alert, 'traceId', 'trace_id'),
    resolved: alert.resolved === true,
    resolved_at: stringField(alert, 'resolvedAt', 'resolved_at'),
    created_at: stringField(alert, 'createdAt', 'created_at', 'timestamp'),
  };
}

export function auditLogRecord(log: Fields, includeContent: boolean): JsonValue {
  const metadata = log.metadata && typeof log.metadata === 'object' && !Array.isArray(log.metadata) ? (log.metadata as JsonValue) : null;
  return {
    id: String(log.id ?? log._id ?? ''),
    action: stringField(log, 'action') ?? '',
    agent_id: stringField(log, 'agentId', 'agent_id'),
    trace_id: stringField(log, 'traceId', 'trace_id'),
    parent_span_id: stringField(log, 'parentSpanId', 'parent_span_id'),
    // Prompts and responses are what AgentAudit screens for PII: not copied into evidence unless asked for.
    prompt: includeContent ? stringField(log, 'prompt') : null,
    response: includeContent ? stringField(log, 'response') : null,
    metadata,
    created_at: stringField(log, 'createdAt', 'created_at', 'timestamp'),
  };
}
