// A simulator of ComplianceAgent's Audit API, written from its API page
// (shared/seeds/004_39e7a9b172719bec.txt): "Get Audit Logs" (`GET
// /api/v1/audit/logs` with the seed's filters and page/limit pagination),
// "Get Single Log Entry" (with `hash` and `previous_hash`), "Verify Audit Log
// Integrity" (`POST /api/v1/audit/verify`, a real SHA-256 chain over the
// seeded entries, see complianceagent/chain.ts) and "Get Audit Statistics".
// Evidence export, compliance history, search, retention and the
// framework-specific evidence endpoints are not simulated.
//
// The seed says nothing about authentication, errors or rate limits. This
// simulator asks for `Authorization: Bearer <api key>`, answers errors in the
// seed's envelope with `"success": false`, and, when `rateLimit` is set,
// 429s with Retry-After: all inferred, and named so in the README.

import { seedToInt } from './common/random.js';
import type { RateLimitOptions } from './common/rate-limit.js';
import { authorizationOf, startSimulatorServer, type SimRequest, type SimResponse, type SimulatorServer } from './common/server.js';
import { iso, referenceTime } from './common/time.js';
import { AuditChain, type ChainedEntry, type VerifyResult, type VerifyScope } from './complianceagent/chain.js';
import { dateParam, filterEntries, listView, pageOf, singleView, statistics, type PageSettings } from './complianceagent/queries.js';
import { generateEntries, generateEntry, generateUsers, type LogContent } from './complianceagent/records.js';
import { caData, caError, caErrorForStatus, caRateLimited } from './complianceagent/responses.js';

export { EVENT_TYPES, REPOSITORIES } from './complianceagent/records.js';
export type { EventType, LogContent, Actor, Repository } from './complianceagent/records.js';
export type { ChainedEntry, VerifyResult } from './complianceagent/chain.js';

export interface ComplianceAgentSimulatorOptions {
  /** Seed of all generated data (default 1). */
  seed?: number | string;
  /** The data's "now" (default: start of the current UTC day); entries end an hour before it. */
  now?: Date | number;
  /** Audit log entries to generate (default 120). */
  logs?: number;
  /** Days the entries spread over (default 14). */
  spanDays?: number;
  /** The key expected as `Authorization: Bearer <key>` (default `sim-complianceagent-key`). */
  apiKey?: string;
  /** Page size without `limit` (default 50, the seed's sample) and the largest accepted (default 100). */
  defaultLimit?: number;
  maxLimit?: number;
  /** Enforced rate limit (default none). */
  rateLimit?: RateLimitOptions;
  port?: number;
  clock?: () => number;
}

export interface ComplianceAgentTruth {
  now: string;
  total: number;
  byType: Record<string, number>;
  byActorType: Record<string, number>;
  /** By repository name. */
  byRepository: Record<string, number>;
  /** Verification of the whole log as it is now (after any tampering). */
  chain: Omit<VerifyResult, 'verified_at'>;
}

export interface ComplianceAgentSimulator extends SimulatorServer {
  readonly apiKey: string;
  readonly state: { readonly chain: AuditChain };
  /** Appends one generated entry stamped with the simulator's clock (a new event after a collection). */
  append(overrides?: Partial<Omit<LogContent, 'id'>>): ChainedEntry;
  /** Edits an entry in place; see AuditChain.tamper. */
  tamper(id: string, edit: (entry: LogContent) => void, options?: { rehash?: boolean }): ChainedEntry;
  /** Deletes an entry, leaving a gap in the chain. */
  remove(id: string): void;
  truth(): ComplianceAgentTruth;
}

const LOGS_ROUTE = /^\/api\/v1\/audit\/logs(?:\/([^/]+))?$/;

export async function startComplianceAgentSimulator(options: ComplianceAgentSimulatorOptions = {}): Promise<ComplianceAgentSimulator> {
  const clock = options.clock ?? Date.now;
  const seed = seedToInt(options.seed ?? 1);
  const nowMs = referenceTime(options.now);
  const apiKey = options.apiKey ?? 'sim-complianceagent-key';
  const pages: PageSettings = { defaultLimit: options.defaultLimit ?? 50, maxLimit: options.maxLimit ?? 100 };
  const users = generateUsers(seed);
  const chain = new AuditChain();
  for (const content of generateEntries(seed, options.logs ?? 120, options.spanDays ?? 14, nowMs, users)) chain.append(content);
  let appended = 0;

  function authenticate(req: SimRequest): SimResponse | undefined {
    const auth = authorizationOf(req);
    if (!auth || auth.scheme.toLowerCase() !== 'bearer' || auth.credentials !== apiKey) {
      return caError(401, 'unauthorized', 'Missing or invalid API key: send it as Authorization: Bearer <key>.', { 'WWW-Authenticate': 'Bearer' });
    }
    return undefined;
  }

  function listLogs(req: SimRequest): SimResponse {
    const selected = filterEntries(chain.all, req.query);
    if ('error' in selected) return selected.error;
    const page = pageOf(selected, req.query, pages);
    if ('error' in page) return page.error;
    return caData(page.items.map(listView), { pagination: page.pagination });
  }

  async function verify(req: SimRequest): Promise<SimResponse> {
    const text = await req.text();
    let body: Record<string, unknown> = {};
    if (text.trim() !== '') {
      try {
        const parsed = JSON.parse(text) as unknown;
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return caError(400, 'invalid_body', 'The body must be a JSON object.');
        body = parsed as Record<string, unknown>;
      } catch {
        return caError(400, 'invalid_body', 'The body is not valid JSON.');
      }
    }
    // The seed's request body: {"from", "to", "repository_id"}, read here as optional filters.
    const query = new URLSearchParams();
    for (const name of ['from', 'to'] as const) if (body[name] !== undefined) query.set(name, String(body[name]));
    const scope: VerifyScope = {};
    for (const name of ['from', 'to'] as const) {
      const ms = dateParam(query, name);
      if (typeof ms === 'object') return ms.error;
      if (ms !== undefined) scope[name === 'from' ? 'fromMs' : 'toMs'] = ms;
    }
    if (body.repository_id !== undefined) scope.repositoryId = String(body.repository_id);
    return caData(chain.verify(scope, clock()));
  }

  function stats(req: SimRequest): SimResponse {
    const from = dateParam(req.query, 'from');
    if (typeof from === 'object') return from.error;
    const to = dateParam(req.query, 'to');
    if (typeof to === 'object') return to.error;
    const first = chain.all[0];
    return caData(statistics(chain.all, from ?? (first ? Date.parse(first.timestamp) : 0), to ?? clock()));
  }

  async function handle(req: SimRequest): Promise<SimResponse> {
    const logs = LOGS_ROUTE.exec(req.path);
    const known = logs || req.path === '/api/v1/audit/verify' || req.path === '/api/v1/audit/statistics';
    if (!known) return caError(404, 'not_found', `Cannot ${req.method} ${req.path}.`);
    const unauthorized = authenticate(req);
    if (unauthorized) return unauthorized;
    if (logs && req.method === 'GET') {
      if (logs[1] === undefined) return listLogs(req);
      const entry = chain.find(decodeURIComponent(logs[1]));
      return entry ? caData(singleView(entry)) : caError(404, 'not_found', `Audit log entry ${logs[1]} not found.`);
    }
    if (req.path === '/api/v1/audit/verify' && req.method === 'POST') return verify(req);
    if (req.path === '/api/v1/audit/statistics' && req.method === 'GET') return stats(req);
    return caError(405, 'method_not_allowed', `${req.method} is not allowed on ${req.path}.`);
  }

  const server = await startSimulatorServer(
    {
      bucketOf: () => 'api',
      handle,
      errorResponse: caErrorForStatus,
      rateLimitedResponse: (window, req) => caRateLimited(window, req.receivedAtMs),
    },
    { port: options.port, clock, rateLimit: options.rateLimit },
  );

  return {
    ...server,
    apiKey,
    state: { chain },
    append(overrides = {}) {
      appended += 1;
      const generated = generateEntry(seed, appended, clock(), users, true);
      return chain.append({ ...generated, ...overrides, id: generated.id });
    },
    tamper: (id, edit, tamperOptions) => chain.tamper(id, edit, tamperOptions),
    remove: (id) => chain.remove(id),
    truth: () => computeTruth(chain, nowMs, clock()),
  };
}

function computeTruth(chain: AuditChain, nowMs: number, clockMs: number): ComplianceAgentTruth {
  const byType: Record<string, number> = {};
  const byActorType: Record<string, number> = { user: 0, system: 0 };
  const byRepository: Record<string, number> = {};
  for (const entry of chain.all) {
    byType[entry.event_type] = (byType[entry.event_type] ?? 0) + 1;
    byActorType[entry.actor.type] = (byActorType[entry.actor.type] ?? 0) + 1;
    byRepository[entry.repository.name] = (byRepository[entry.repository.name] ?? 0) + 1;
  }
  const { verified_at: _at, ...verification } = chain.verify({}, clockMs);
  return { now: iso(nowMs), total: chain.size, byType, byActorType, byRepository, chain: verification };
}
