// AgentAudit's audit logs, "The core primitive". The fields a client sends
// are the seed's table for `POST /api/v1/audit-logs`: `action` (string,
// required), `prompt`, `response`, `agentId`, `traceId`, `parentSpanId`
// (strings, optional; parentSpanId is the "ID of a parent log entry (for
// nested spans)") and `metadata` ("Any JSON", an object). Anything else a
// client sends is not part of the documented record and is not stored. The
// stored log adds `id` (the seed's ids look like "log_abc123"),
// `organizationId` and `createdAt` (as on the seed's agent record); the seed
// does not show a stored log, so that shape is inferred.

import { randomBytes } from 'node:crypto';
import { Rng } from '../common/random.js';
import { DAY_MS, iso } from '../common/time.js';
import { ORGANIZATION_ID } from './auth.js';

export interface AgentAuditLog {
  id: string;
  organizationId: string;
  action: string;
  prompt: string | null;
  response: string | null;
  agentId: string | null;
  traceId: string | null;
  parentSpanId: string | null;
  metadata: Record<string, unknown> | null;
  createdAt: string;
}

/** What a client may send: the seed's field table. */
export type AuditLogInput = Pick<AgentAuditLog, 'action'> & Partial<Pick<AgentAuditLog, 'prompt' | 'response' | 'agentId' | 'traceId' | 'parentSpanId' | 'metadata'>>;

const OPTIONAL_STRINGS = ['prompt', 'response', 'agentId', 'traceId', 'parentSpanId'] as const;

/** The documented fields of one entry, or why it is a "Validation error". */
export function validateEntry(value: unknown): { entry: AuditLogInput } | { error: string } {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { error: 'each log entry must be a JSON object' };
  const body = value as Record<string, unknown>;
  if (typeof body.action !== 'string' || body.action.trim() === '') return { error: 'action is required (a string such as llm_call, tool_use, guardrail_block)' };
  const entry: AuditLogInput = { action: body.action };
  for (const field of OPTIONAL_STRINGS) {
    const given = body[field];
    if (given === undefined || given === null) continue;
    if (typeof given !== 'string') return { error: `${field} must be a string` };
    entry[field] = given;
  }
  if (body.metadata !== undefined && body.metadata !== null) {
    if (typeof body.metadata !== 'object' || Array.isArray(body.metadata)) return { error: 'metadata must be a JSON object' };
    entry.metadata = body.metadata as Record<string, unknown>;
  }
  return { entry };
}

export function newLogId(): string {
  return `log_${randomBytes(6).toString('hex')}`;
}

export class AuditLogStore {
  /** Every log in creation order (live). */
  readonly logs: AgentAuditLog[] = [];
  private readonly byId = new Map<string, AgentAuditLog>();

  add(input: AuditLogInput, createdAtMs: number, id = newLogId()): AgentAuditLog {
    const log: AgentAuditLog = {
      id,
      organizationId: ORGANIZATION_ID,
      action: input.action,
      prompt: input.prompt ?? null,
      response: input.response ?? null,
      agentId: input.agentId ?? null,
      traceId: input.traceId ?? null,
      parentSpanId: input.parentSpanId ?? null,
      metadata: input.metadata ? structuredClone(input.metadata) : null,
      createdAt: iso(createdAtMs),
    };
    this.logs.push(log);
    this.byId.set(log.id, log);
    return log;
  }

  get(id: string): AgentAuditLog | undefined {
    return this.byId.get(id);
  }

  /** "Supports query params: limit, offset, agentId, action, traceId": the filtered logs, newest first (as the dashboard's "Recent Audit Logs"; inferred). */
  filtered(filters: { agentId?: string | null; action?: string | null; traceId?: string | null }): AgentAuditLog[] {
    const out: AgentAuditLog[] = [];
    for (let i = this.logs.length - 1; i >= 0; i--) {
      const log = this.logs[i] as AgentAuditLog;
      if (filters.agentId && log.agentId !== filters.agentId) continue;
      if (filters.action && log.action !== filters.action) continue;
      if (filters.traceId && log.traceId !== filters.traceId) continue;
      out.push(log);
    }
    // Stable on equal timestamps: creation order decides, newest first.
    return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  /** "GET /api/v1/audit-logs/trace/:traceId — Returns all logs with this traceId", in creation order. */
  trace(traceId: string): AgentAuditLog[] {
    return this.logs.filter((log) => log.traceId === traceId);
  }

  /** "GET /api/v1/audit-logs/:id/chain — Walk parentSpanId chain upwards": the log, its parent, …, the root. */
  chain(id: string): AgentAuditLog[] | undefined {
    const start = this.byId.get(id);
    if (!start) return undefined;
    const chain = [start];
    const seen = new Set([start.id]);
    for (let log = start; log.parentSpanId; ) {
      const parent = this.byId.get(log.parentSpanId);
      if (!parent || seen.has(parent.id)) break;
      chain.push(parent);
      seen.add(parent.id);
      log = parent;
    }
    return chain;
  }
}

const AGENTS = ['writer-agent-1', 'support-bot', 'research-agent'] as const;
const STREAM_LOG = 60;

/**
 * Seeded history: `count` logs over the week before `nowMs`, in runs of three (an llm_call,
 * a tool_use under it, a guardrail_check under that) sharing a traceId, as the seed's
 * tracing section describes.
 */
export function seedLogs(store: AuditLogStore, seed: number, count: number, nowMs: number): void {
  const stepMs = Math.floor((7 * DAY_MS) / Math.max(1, count));
  let parent: AgentAuditLog | undefined;
  let traceId = '';
  for (let n = 0; n < count; n++) {
    const rng = Rng.forRecord(seed, STREAM_LOG, n);
    const createdAtMs = nowMs - 7 * DAY_MS + n * stepMs;
    const step = n % 3;
    if (step === 0) traceId = `run-${createdAtMs}`;
    const agentId = AGENTS[Math.floor(n / 3) % AGENTS.length] as string;
    const input: AuditLogInput =
      step === 0
        ? { action: 'llm_call', agentId, traceId, prompt: 'Summarise the latest sales report', response: 'Q1 revenue was $2.4M...', metadata: { model: 'gpt-4o', tokens: rng.int(100, 900) } }
        : step === 1
          ? { action: 'tool_use', agentId, traceId, metadata: { tool: rng.pick(['code_interpreter', 'web_search', 'sql_query']) } }
          : { action: 'guardrail_check', agentId, traceId, response: 'PASSED', metadata: { rule: 'pii_detection', latency_ms: rng.int(5, 80) } };
    if (parent && step > 0) input.parentSpanId = parent.id;
    parent = store.add(input, createdAtMs, `log_${rng.hex(12)}`);
  }
}
