// A simulator of AgentAudit, written from its API reference
// (shared/seeds/003_cf906323f6b98b91.txt): `X-API-Key` and JWT
// authentication (`POST /api/v1/auth/login`), audit-log ingest ("Log a
// single event", "Batch Logging" of "up to 50 log entries in a single
// request"), the reads ("Retrieve logs" with limit/offset/agentId/action/
// traceId, a log, a trace, a parent chain), and alerts (list with
// `?resolved=false`, one alert, resolve), with compliance rules raising
// alerts on incoming logs. Agents, policies, compliance-rule management,
// reports and billing are not simulated. Errors are the seed's `{"error",
// "status"}`.
//
// Routes are under /api/v1 ("Base URL: /api/v1 (same origin) — or
// https://your-domain.com/api/v1").

import { seedToInt } from './common/random.js';
import type { RateLimitOptions } from './common/rate-limit.js';
import { jsonResponse, mediaType, startSimulatorServer, type SimRequest, type SimResponse, type SimulatorServer } from './common/server.js';
import { iso, referenceTime } from './common/time.js';
import { AlertStore, seedAlerts, SEVERITIES, type AgentAuditAlert, type AlertCounts, type Severity } from './agentaudit/alerts.js';
import { AgentAuditAuth, type AcceptedAuth, type AgentAuditAccount } from './agentaudit/auth.js';
import { AuditLogStore, seedLogs, validateEntry, type AgentAuditLog, type AuditLogInput } from './agentaudit/logs.js';
import { aaError, aaErrorForStatus, aaRateLimited } from './agentaudit/responses.js';

export type { AgentAuditAlert, AlertCounts, Severity } from './agentaudit/alerts.js';
export type { AgentAuditAccount } from './agentaudit/auth.js';
export type { AgentAuditLog, AuditLogInput } from './agentaudit/logs.js';

/** "Submit up to 50 log entries in a single request." */
export const AGENTAUDIT_MAX_BATCH = 50;

export interface AgentAuditSimulatorOptions {
  /** Seed of all generated data (default 1). */
  seed?: number | string;
  /** The data's "now" (default: start of the current UTC day). */
  now?: Date | number;
  /** Seeded audit logs (default 30), in traces of three. */
  logs?: number;
  /** Seeded alerts: unresolved per severity and resolved ones (default 0 critical, 1 high, 2 medium, 3 low, 5 resolved). */
  alerts?: AlertCounts;
  /** The default API key ("Your key starts with aa_"; default `aa_sim_key`). */
  apiKey?: string;
  /** Dashboard accounts for POST /auth/login (default `admin@example.com` / `sim-password`). */
  accounts?: readonly AgentAuditAccount[];
  /** JWT lifetime (default 3600 s; the seed gives none). */
  jwtTtlSeconds?: number;
  /**
   * The credentials the alert endpoints take. The seed marks audit-log reads "Auth: JWT or
   * API Key" and says nothing for alerts: `api-key-or-jwt` (default) or `jwt` (dashboard only).
   */
  alertsAuth?: Exclude<AcceptedAuth, 'api-key'>;
  /** Largest `limit` of GET /audit-logs (default 100) and the default (50); the seed gives neither. */
  maxListLimit?: number;
  defaultListLimit?: number;
  /** Enforced rate limit (default none); the 429 carries no header, as the seed names none. */
  rateLimit?: RateLimitOptions;
  port?: number;
  clock?: () => number;
}

/** A log created through the ingest endpoints, with the entry exactly as the client sent it. */
export interface ReceivedLog {
  id: string;
  via: 'single' | 'batch';
  /** Ordinal of the write request (single or batch) it came in, from 1. */
  request: number;
  /** The JSON entry as sent, including any field the seed does not document. */
  body: Record<string, unknown>;
}

/** Every batch request handled: accepted (201) or refused (400). */
export interface BatchRecord {
  request: number;
  size: number;
  status: number;
  ids: string[];
}

export interface AgentAuditTruth {
  now: string;
  logs: { total: number; byAction: Record<string, number> };
  alerts: { total: number; unresolved: number; unresolvedBySeverity: Record<Severity, number>; unresolvedCriticalOrHighIds: string[] };
}

export interface AgentAuditSimulator extends SimulatorServer {
  /** `url` + `/api/v1`: the seed's base URL. */
  readonly apiBaseUrl: string;
  readonly apiKey: string;
  readonly email: string;
  readonly password: string;
  readonly tokensIssued: number;
  /** Logs created through POST /audit-logs and /audit-logs/batch, in order (live). */
  readonly received: readonly ReceivedLog[];
  readonly state: { readonly logs: AuditLogStore; readonly alerts: AlertStore; readonly batches: readonly BatchRecord[] };
  /** Raises an alert as a compliance rule would (for tests that need one now). */
  raiseAlert(severity: Severity, message?: string): AgentAuditAlert;
  truth(): AgentAuditTruth;
}

type Route =
  | { kind: 'login' }
  | { kind: 'create' }
  | { kind: 'batch' }
  | { kind: 'list' }
  | { kind: 'trace'; traceId: string }
  | { kind: 'chain'; id: string }
  | { kind: 'log'; id: string }
  | { kind: 'alerts' }
  | { kind: 'alert'; id: string }
  | { kind: 'resolve'; id: string };

function routeOf(method: string, path: string): Route | undefined {
  const p = path.replace(/\/+$/, '');
  if (method === 'POST' && p === '/api/v1/auth/login') return { kind: 'login' };
  if (p === '/api/v1/audit-logs') return method === 'POST' ? { kind: 'create' } : method === 'GET' ? { kind: 'list' } : undefined;
  if (method === 'POST' && p === '/api/v1/audit-logs/batch') return { kind: 'batch' };
  let match = /^\/api\/v1\/audit-logs\/trace\/([^/]+)$/.exec(p);
  if (method === 'GET' && match) return { kind: 'trace', traceId: decode(match[1]) };
  match = /^\/api\/v1\/audit-logs\/([^/]+)\/chain$/.exec(p);
  if (method === 'GET' && match) return { kind: 'chain', id: decode(match[1]) };
  match = /^\/api\/v1\/audit-logs\/([^/]+)$/.exec(p);
  if (method === 'GET' && match && match[1] !== 'export') return { kind: 'log', id: decode(match[1]) };
  if (method === 'GET' && p === '/api/v1/alerts') return { kind: 'alerts' };
  match = /^\/api\/v1\/alerts\/([^/]+)$/.exec(p);
  if (method === 'GET' && match) return { kind: 'alert', id: decode(match[1]) };
  match = /^\/api\/v1\/alerts\/([^/]+)\/resolve$/.exec(p);
  if (method === 'PATCH' && match) return { kind: 'resolve', id: decode(match[1]) };
  return undefined;
}

function decode(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? '');
  } catch {
    return segment ?? '';
  }
}

/** A non-negative integer query parameter; undefined when absent, null when malformed. */
function intParam(query: URLSearchParams, name: string): number | undefined | null {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  return /^\d+$/.test(raw) ? Number(raw) : null;
}

async function readJson(req: SimRequest): Promise<{ value: unknown } | { error: SimResponse }> {
  if (mediaType(req) !== 'application/json') return { error: aaError(400, 'Expected Content-Type: application/json') };
  try {
    return { value: JSON.parse(await req.text()) as unknown };
  } catch {
    return { error: aaError(400, 'Invalid JSON body') };
  }
}

export async function startAgentAuditSimulator(options: AgentAuditSimulatorOptions = {}): Promise<AgentAuditSimulator> {
  const clock = options.clock ?? Date.now;
  const seed = seedToInt(options.seed ?? 1);
  const nowMs = referenceTime(options.now);
  const apiKey = options.apiKey ?? 'aa_sim_key';
  const accounts = options.accounts ?? [{ email: 'admin@example.com', password: 'sim-password' }];
  const firstAccount = accounts[0];
  if (!firstAccount) throw new RangeError('at least one account is needed');
  const auth = new AgentAuditAuth(new Set([apiKey]), accounts, options.jwtTtlSeconds ?? 3600, clock);
  const alertsAuth = options.alertsAuth ?? 'api-key-or-jwt';
  const maxLimit = options.maxListLimit ?? 100;
  const defaultLimit = options.defaultListLimit ?? 50;

  const logs = new AuditLogStore();
  seedLogs(logs, seed, options.logs ?? 30, nowMs);
  const alerts = new AlertStore();
  seedAlerts(alerts, seed, { critical: 0, high: 1, medium: 2, low: 3, resolved: 5, ...options.alerts }, logs.logs, nowMs);
  const received: ReceivedLog[] = [];
  const batches: BatchRecord[] = [];
  let writeRequests = 0;

  function ingest(body: Record<string, unknown>, entry: AuditLogInput, via: ReceivedLog['via'], request: number): AgentAuditLog {
    const log = logs.add(entry, clock());
    received.push({ id: log.id, via, request, body: structuredClone(body) });
    // "Rules are evaluated automatically against every incoming log."
    alerts.evaluate(log, clock());
    return log;
  }

  async function create(req: SimRequest): Promise<SimResponse> {
    const request = ++writeRequests;
    const json = await readJson(req);
    if ('error' in json) return json.error;
    const checked = validateEntry(json.value);
    if ('error' in checked) return aaError(400, checked.error);
    return jsonResponse(201, ingest(json.value as Record<string, unknown>, checked.entry, 'single', request));
  }

  async function batch(req: SimRequest): Promise<SimResponse> {
    const request = ++writeRequests;
    const json = await readJson(req);
    if ('error' in json) return json.error;
    const refuse = (size: number, message: string) => {
      batches.push({ request, size, status: 400, ids: [] });
      return aaError(400, message);
    };
    // The seed's example body is a bare JSON array of entries.
    if (!Array.isArray(json.value)) return refuse(0, 'The batch body must be a JSON array of log entries');
    const items = json.value as unknown[];
    if (items.length === 0) return refuse(0, 'The batch is empty: send between 1 and 50 log entries');
    if (items.length > AGENTAUDIT_MAX_BATCH) return refuse(items.length, `A batch holds at most ${AGENTAUDIT_MAX_BATCH} log entries; got ${items.length}`);
    // All or nothing: one invalid entry refuses the batch, so that the returned ids match the input one for one.
    const entries: AuditLogInput[] = [];
    for (const [index, item] of items.entries()) {
      const checked = validateEntry(item);
      if ('error' in checked) return refuse(items.length, `Entry ${index}: ${checked.error}`);
      entries.push(checked.entry);
    }
    // "The batch endpoint returns an array of created log IDs in the same order as the input."
    const ids = entries.map((entry, index) => ingest(items[index] as Record<string, unknown>, entry, 'batch', request).id);
    batches.push({ request, size: items.length, status: 201, ids });
    return jsonResponse(201, ids);
  }

  function list(req: SimRequest): SimResponse {
    const limit = intParam(req.query, 'limit');
    const offset = intParam(req.query, 'offset');
    if (limit === null || limit === 0) return aaError(400, 'limit must be a positive integer');
    if (offset === null) return aaError(400, 'offset must be a non-negative integer');
    const selected = logs.filtered({ agentId: req.query.get('agentId'), action: req.query.get('action'), traceId: req.query.get('traceId') });
    const size = Math.min(limit ?? defaultLimit, maxLimit);
    const start = offset ?? 0;
    return jsonResponse(200, { logs: selected.slice(start, start + size), total: selected.length, limit: size, offset: start });
  }

  function listAlerts(req: SimRequest): SimResponse {
    const resolved = req.query.get('resolved');
    if (resolved !== null && resolved !== 'true' && resolved !== 'false') return aaError(400, 'resolved must be true or false');
    const selected = alerts.list(resolved === null ? undefined : resolved === 'true');
    return jsonResponse(200, { alerts: selected, total: selected.length });
  }

  async function handle(req: SimRequest): Promise<SimResponse> {
    const route = routeOf(req.method, req.path);
    if (!route) return aaError(404, 'Resource not found');
    if (route.kind === 'login') return auth.login(req);
    const accepted: AcceptedAuth = route.kind === 'create' || route.kind === 'batch' ? 'api-key' : route.kind === 'alerts' || route.kind === 'alert' || route.kind === 'resolve' ? alertsAuth : 'api-key-or-jwt';
    const unauthorized = auth.check(req, accepted);
    if (unauthorized) return unauthorized;
    switch (route.kind) {
      case 'create':
        return create(req);
      case 'batch':
        return batch(req);
      case 'list':
        return list(req);
      case 'trace':
        return jsonResponse(200, { traceId: route.traceId, logs: logs.trace(route.traceId) });
      case 'chain': {
        const chain = logs.chain(route.id);
        return chain ? jsonResponse(200, { chain }) : aaError(404, `Audit log ${route.id} not found`);
      }
      case 'log': {
        const log = logs.get(route.id);
        return log ? jsonResponse(200, log) : aaError(404, `Audit log ${route.id} not found`);
      }
      case 'alerts':
        return listAlerts(req);
      case 'alert': {
        const alert = alerts.get(route.id);
        return alert ? jsonResponse(200, alert) : aaError(404, `Alert ${route.id} not found`);
      }
      case 'resolve': {
        const alert = alerts.resolve(route.id, clock());
        return alert ? jsonResponse(200, alert) : aaError(404, `Alert ${route.id} not found`);
      }
    }
  }

  const server = await startSimulatorServer(
    { bucketOf: () => 'org', handle, errorResponse: aaErrorForStatus, rateLimitedResponse: aaRateLimited },
    { port: options.port, clock, rateLimit: options.rateLimit },
  );

  return {
    ...server,
    apiBaseUrl: `${server.url}/api/v1`,
    apiKey,
    email: firstAccount.email,
    password: firstAccount.password,
    get tokensIssued() {
      return auth.tokensIssued;
    },
    received,
    state: { logs, alerts, batches },
    raiseAlert: (severity, message) =>
      alerts.add({ id: `rule_manual_${severity}`, name: `manual_${severity}`, severity }, message ?? `A ${severity} alert raised by the test`, undefined, `alert_manual_${alerts.alerts.length + 1}`, clock()),
    truth: () => computeTruth(logs, alerts, nowMs),
  };
}

function computeTruth(logs: AuditLogStore, alerts: AlertStore, nowMs: number): AgentAuditTruth {
  const byAction: Record<string, number> = {};
  for (const log of logs.logs) byAction[log.action] = (byAction[log.action] ?? 0) + 1;
  const unresolved = alerts.alerts.filter((alert) => !alert.resolved);
  const unresolvedBySeverity = Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as Record<Severity, number>;
  for (const alert of unresolved) unresolvedBySeverity[alert.severity] += 1;
  return {
    now: iso(nowMs),
    logs: { total: logs.logs.length, byAction },
    alerts: {
      total: alerts.alerts.length,
      unresolved: unresolved.length,
      unresolvedBySeverity,
      unresolvedCriticalOrHighIds: unresolved.filter((alert) => alert.severity === 'critical' || alert.severity === 'high').map((alert) => alert.id),
    },
  };
}
