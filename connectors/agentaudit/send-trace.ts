import { ConnectorError } from '../errors.js';
import type { HttpResponse } from '../http-client.js';
import { listIn, SYSTEM, type AgentAuditClient } from './client.js';
import { planBatches, runTraceEntries, type AgentAuditEntry, type RunTrace, type TraceSpan } from './run-trace.js';

/** "Submit up to 50 log entries in a single request." */
export const AGENTAUDIT_MAX_BATCH = 50;

export interface RunTraceReceipt {
  trace_id: string;
  /** Spans in the trace. */
  spans: number;
  /** Spans logged by this call. */
  sent: number;
  /** Spans a previous call had already logged (found by their span id), not sent again. */
  already_logged: number;
  /** Batch requests made. */
  requests: number;
  /** Span id → AgentAudit log id, for every span of the trace. */
  log_ids: Record<string, string>;
}

/**
 * The spans of this run AgentAudit already holds, by span id → log id, read with "GET
 * /api/v1/audit-logs/trace/:traceId — Returns all logs with this traceId". A trace it does
 * not know may answer 404: nothing logged yet.
 */
async function loggedSpans(client: AgentAuditClient, traceId: string): Promise<Map<string, string>> {
  const what = `reading the trace of run ${traceId}`;
  let response: HttpResponse;
  try {
    response = await client.get(`/audit-logs/trace/${encodeURIComponent(traceId)}`, what);
  } catch (err) {
    if (err instanceof ConnectorError && err.kind === 'not_found') return new Map();
    throw err;
  }
  const logged = new Map<string, string>();
  for (const log of listIn<{ id?: unknown; metadata?: { spanId?: unknown } | null }>(response.json(), what)) {
    const spanId = log.metadata?.spanId;
    if (typeof spanId === 'string' && typeof log.id === 'string') logged.set(spanId, log.id);
  }
  return logged;
}

/** "The batch endpoint returns an array of created log IDs in the same order as the input"; null when the answer has no such list. */
function createdIds(response: HttpResponse, expected: number): string[] | null {
  let body: unknown;
  try {
    body = response.json();
  } catch {
    return null;
  }
  const list = Array.isArray(body) ? body : body && typeof body === 'object' ? ((body as Record<string, unknown>).ids ?? (body as Record<string, unknown>).data ?? (body as Record<string, unknown>).logs) : null;
  if (!Array.isArray(list) || list.length !== expected) return null;
  const ids = list.map((item: unknown) => (typeof item === 'string' ? item : item && typeof item === 'object' ? (item as { id?: unknown }).id : undefined));
  return ids.every((id): id is string => typeof id === 'string') ? ids : null;
}

/** A span's entry with the top-level parentSpanId: its parent's log id (or, should that be unknown, its span id). */
function entryOf(span: TraceSpan, logIds: ReadonlyMap<string, string>): AgentAuditEntry {
  if (span.parent_span_id === null) return span.entry;
  return { ...span.entry, parentSpanId: logIds.get(span.parent_span_id) ?? span.parent_span_id };
}

/**
 * Logs a run's steps to AgentAudit as one trace (traceId = run id) with
 * `POST /api/v1/audit-logs/batch`, at most 50 entries per request, each child after its
 * parent's batch so that `parentSpanId` can carry the parent's log id.
 *
 * Safe to call again after a failure (or twice): spans are found by their deterministic span
 * id in what AgentAudit already holds for the trace and are not logged twice. Throws the
 * ConnectorError of the shared request loop: 429s are waited out in place a few times, then
 * `rate_limited`; 5xx `unavailable` (both retryable); a refused batch (4xx) is not retryable.
 */
export async function sendRunTrace(client: AgentAuditClient, trace: RunTrace): Promise<RunTraceReceipt> {
  const spans = runTraceEntries(trace, { agentId: client.config.agent_id });
  let logIds = await loggedSpans(client, trace.run_id);
  const alreadyLogged = spans.filter((span) => logIds.has(span.span_id)).length;
  const batches = planBatches(spans.filter((span) => !logIds.has(span.span_id)), AGENTAUDIT_MAX_BATCH);

  for (const [index, batch] of batches.entries()) {
    const what = `logging the trace of run ${trace.run_id} (batch ${index + 1} of ${batches.length})`;
    const response = await client.post('/audit-logs/batch', what, batch.map((span) => entryOf(span, logIds)));
    const ids = createdIds(response, batch.length);
    if (ids) batch.forEach((span, n) => logIds.set(span.span_id, ids[n] as string));
    else {
      // An answer without the ids: read them back from the trace, so children still link to log ids.
      client.ctx.log.warn({ run_id: trace.run_id }, `${SYSTEM} answered a batch without the created log ids; reading them from the trace`);
      logIds = await loggedSpans(client, trace.run_id);
    }
  }

  return {
    trace_id: trace.run_id,
    spans: spans.length,
    sent: spans.length - alreadyLogged,
    already_logged: alreadyLogged,
    requests: batches.length,
    log_ids: Object.fromEntries(spans.flatMap((span) => {
      const id = logIds.get(span.span_id);
      return id ? [[span.span_id, id]] : [];
    })),
  };
}
