/**
 * A hub run as an AgentAudit trace: pure functions, no I/O (see send-trace.ts for the sending).
 *
 * The seed (003, "Distributed Tracing"): "Link every log in an agent run with a shared
 * traceId. Use parentSpanId to express parent–child relationships between spans." The run id
 * is the traceId; the spans form this tree:
 *
 *   run ─┬─ collect:<dataset>   (one per dataset collected)
 *        ├─ evaluate ── evidence:<evidence_id>   (one per evidence item)
 *        └─ finish
 *
 * Every span has a span id derived from the run id and the step name (the first 16 hex digits
 * of a SHA-256, the size of a W3C trace-context span id), so the same run always yields the
 * same ids and a retry can tell what is already logged. The seed's audit-log fields have no
 * span id of their own — `parentSpanId` is the "ID of a parent log entry", assigned by
 * AgentAudit — so the span id and the parent's span id travel in `metadata` ("Any JSON"), and
 * the sender fills the top-level `parentSpanId` with the parent's AgentAudit log id.
 */
import { createHash } from 'node:crypto';
import type { JsonValue, RunTrace } from '../types.js';

export type { RunTrace, RunTraceDataset, RunTraceDeliveryStatus, RunTraceEvidence, RunTraceStatus } from '../types.js';

/** One audit-log entry as the seed's "Log a single event" table defines it. */
export interface AgentAuditEntry {
  action: string;
  prompt?: string;
  response?: string;
  agentId?: string;
  traceId?: string;
  parentSpanId?: string;
  metadata?: Record<string, JsonValue>;
}

/** One span of a run's trace: its entry (without the top-level parentSpanId, known only once the parent is logged). */
export interface TraceSpan {
  span_id: string;
  parent_span_id: string | null;
  step: string;
  entry: AgentAuditEntry;
}

/** The action names of the hub's entries, in AgentAudit's snake_case event-type style (llm_call, tool_use…). */
export const TRACE_ACTIONS = {
  run: 'evidence_run',
  collect: 'evidence_collect',
  evaluate: 'evidence_evaluate',
  item: 'evidence_item',
  finish: 'evidence_run_finish',
} as const;

/** The span id of a step of a run: the same on every call, different for every (run, step). */
export function spanIdOf(runId: string, step: string): string {
  return createHash('sha256').update(`${runId}\u0000${step}`).digest('hex').slice(0, 16);
}

function isoOrNull(value: string | Date | null): string | null {
  if (value === null) return null;
  return value instanceof Date ? value.toISOString() : value;
}

function tally<T extends string>(values: readonly T[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

function summary(counts: Record<string, number>): string {
  const parts = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)).map(([key, n]) => `${n} ${key}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/**
 * The run's spans, parents before children, in the order they should be logged: the run, its
 * collections, the evaluation, each evidence item, and the finish.
 */
export function runTraceEntries(trace: RunTrace, options: { agentId?: string } = {}): TraceSpan[] {
  const spans: TraceSpan[] = [];
  const steps = new Set<string>();
  const results = tally(trace.evidence.map((item) => item.result));
  const deliveries = tally(trace.evidence.map((item) => item.delivery_status));

  const add = (wanted: string, parent: TraceSpan | null, action: string, text: { prompt?: string; response?: string }, details: Record<string, JsonValue>): TraceSpan => {
    // Two steps of one run must not share a span id, even if a dataset or item were listed twice.
    let step = wanted;
    for (let n = 2; steps.has(step); n++) step = `${wanted}#${n}`;
    steps.add(step);
    const spanId = spanIdOf(trace.run_id, step);
    const metadata: Record<string, JsonValue> = { spanId, parentSpanId: parent?.span_id ?? null, step, runId: trace.run_id, jobId: trace.job_id, source: 'evidence-hub', ...details };
    const entry: AgentAuditEntry = { action, traceId: trace.run_id, ...text, metadata };
    if (options.agentId) entry.agentId = options.agentId;
    const span: TraceSpan = { span_id: spanId, parent_span_id: parent?.span_id ?? null, step, entry };
    spans.push(span);
    return span;
  };

  const startedAt = isoOrNull(trace.started_at);
  const endedAt = isoOrNull(trace.ended_at);
  const root = add('run', null, TRACE_ACTIONS.run, {
    prompt: `Evidence Hub run ${trace.run_id}${trace.job_id ? ` of job ${trace.job_id}` : ''}`,
    response: trace.status,
  }, { status: trace.status, startedAt, endedAt, datasets: trace.datasets.length, evidence: trace.evidence.length });

  for (const collected of trace.datasets) {
    add(`collect:${collected.dataset}`, root, TRACE_ACTIONS.collect, { prompt: `collect ${collected.dataset}`, response: `${collected.record_count} records` }, {
      dataset: collected.dataset, recordCount: collected.record_count, snapshotId: collected.snapshot_id ?? null,
    });
  }

  const evaluate = add('evaluate', root, TRACE_ACTIONS.evaluate, { prompt: 'evaluate mapping rules', response: `${trace.evidence.length} evidence items: ${summary(results)}` }, { results });

  for (const item of trace.evidence) {
    add(`evidence:${item.evidence_id}`, evaluate, TRACE_ACTIONS.item, {
      prompt: item.title ?? `${item.rule_id ?? 'rule'} → ${item.control_ref}`,
      response: `${item.result}; delivery ${item.delivery_status}`,
    }, {
      evidenceId: item.evidence_id, ruleId: item.rule_id, controlRef: item.control_ref, result: item.result,
      deliveryStatus: item.delivery_status, ...(item.error ? { error: item.error } : {}),
    });
  }

  add('finish', root, TRACE_ACTIONS.finish, { prompt: 'finish run', response: `${trace.status}; deliveries: ${summary(deliveries)}` }, {
    status: trace.status, endedAt, deliveries, ...(trace.error ? { error: trace.error } : {}),
  });
  return spans;
}

/**
 * Splits spans into batch requests of at most `maxSize`, keeping each span's order and never
 * putting a span in the same batch as its parent: a child's `parentSpanId` is the parent's
 * log id, which AgentAudit returns only once the parent's batch is created ("Use these IDs as
 * parentSpanId values in subsequent requests to build a nested trace").
 */
export function planBatches(spans: readonly TraceSpan[], maxSize: number): TraceSpan[][] {
  if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`maxSize must be a positive integer, got ${maxSize}`);
  const batches: TraceSpan[][] = [];
  let current: TraceSpan[] = [];
  let inCurrent = new Set<string>();
  for (const span of spans) {
    if (current.length >= maxSize || (span.parent_span_id !== null && inCurrent.has(span.parent_span_id))) {
      batches.push(current);
      current = [];
      inCurrent = new Set();
    }
    current.push(span);
    inCurrent.add(span.span_id);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
