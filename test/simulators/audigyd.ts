// A simulator of AUDIGYD, a destination of the hub, written from its API
// page (shared/seeds/000_531b233947c252e3.txt): scoped API keys in
// `X-API-Key`, the two "Inbound evidence write endpoints" (push/match by
// control_ref + question_match, and direct write of a file or JSON payload to
// a question), the reads a connector needs around them (the overview the
// seed's first example fetches, and the question list the seed points to:
// "find via GET /v1/assessments/:id/questions"), the seed's rate limits and
// its 429. Webhooks, MCP and the other read endpoints are not simulated.
//
// Routes are under /api/v1, as in the seed's URLs
// ("https://audigyd.com/api/v1/overview").

import type { RateLimitOptions } from './common/rate-limit.js';
import { mediaType, startSimulatorServer, type SimRequest, type SimResponse, type SimulatorServer } from './common/server.js';
import { AudigydApiKeys, missingScope, WRITE_SCOPE, type AudigydApiKey, type AuthenticatedKey } from './audigyd/api-keys.js';
import {
  AUDIGYD_DEFAULT_ASSESSMENTS,
  AudigydAssessments,
  DEFAULT_TENANT,
  type AudigydAssessment,
  type AudigydAssessmentFixture,
  type AudigydAssessmentStatus,
} from './audigyd/assessments.js';
import { AudigydEvidenceStore, type AudigydEvidenceItem } from './audigyd/evidence.js';
import { discardUnread } from './audigyd/request-body.js';
import { audigydData, audigydError, audigydErrorForStatus, rateLimitHeaders, tooManyRequests } from './audigyd/responses.js';
import { UploadRateLimit } from './audigyd/upload-limit.js';
import { pushEvidence, writeEvidence, type WriteSettings } from './audigyd/writes.js';

export { AUDIGYD_DEFAULT_ASSESSMENTS } from './audigyd/assessments.js';
export type { AudigydApiKey } from './audigyd/api-keys.js';
export type { AudigydAssessment, AudigydAssessmentFixture, AudigydAssessmentStatus, AudigydQuestion, AudigydSectionFixture, AudigydQuestionFixture } from './audigyd/assessments.js';
export type { AudigydEvidenceItem, EvidenceResult } from './audigyd/evidence.js';
export type { UploadedFile } from './audigyd/multipart.js';

export interface AudigydSimulatorOptions {
  /** The assessments (default `AUDIGYD_DEFAULT_ASSESSMENTS`). */
  assessments?: readonly AudigydAssessmentFixture[];
  /** Assessments that start finalized or archived: writes to them answer 409. */
  finalizedAssessments?: readonly string[];
  archivedAssessments?: readonly string[];
  /** The default key: the default tenant's `api-user`, with assessments:read and assessments:write (default `sim-audigyd-key`). */
  apiKey?: string;
  /** Further keys: other scopes, tenants or users. */
  apiKeys?: readonly AudigydApiKey[];
  /**
   * "Global baseline: 300 requests / minute, scoped per IP" (the default);
   * reported on every response in RateLimit-*. `false` turns it and the
   * headers off. Every client of the simulator is on 127.0.0.1: one bucket.
   */
  rateLimit?: RateLimitOptions | false;
  /** "File uploads: 30 requests / minute per user" (the default; multipart direct writes); `false` turns it off. */
  uploadRateLimit?: RateLimitOptions | false;
  /** "a structured JSON payload (up to 1MB)": the JSON body limit (default 1 MiB). */
  maxJsonBytes?: number;
  /** "Attach a file (multipart, up to 100MB)" (default 100 MiB). */
  maxFileBytes?: number;
  /** Uploaded files up to this size keep their bytes in `state.evidence` (default 1 MiB); all are hashed. */
  retainFileBytes?: number;
  port?: number;
  clock?: () => number;
}

export interface AudigydSimulator extends SimulatorServer {
  /** The default key, for `X-API-Key`. */
  readonly apiKey: string;
  readonly state: {
    readonly assessments: AudigydAssessments;
    /** Every stored evidence item, in arrival order (live). */
    readonly evidence: readonly AudigydEvidenceItem[];
    /** Requests the push and direct-write endpoints handled (any answer; not those the global limiter or a fault answered), and those answered with an existing item (live). */
    readonly received: Readonly<AudigydEvidenceStore['received']>;
  };
  /** Finalizes or archives an assessment mid-run (or reopens it). */
  setAssessmentStatus(id: string, status: AudigydAssessmentStatus): void;
}

const MIB = 1024 * 1024;
const GLOBAL_RATE_LIMIT: RateLimitOptions = { limit: 300, windowMs: 60_000 };
const UPLOAD_RATE_LIMIT: RateLimitOptions = { limit: 30, windowMs: 60_000 };

type Route =
  | { kind: 'overview' }
  | { kind: 'questions'; assessmentId: string }
  | { kind: 'push'; assessmentId: string }
  | { kind: 'direct-write'; assessmentId: string; questionId: string };

function routeOf(req: SimRequest): Route | undefined {
  const { method, path } = req;
  if (method === 'GET' && path === '/api/v1/overview') return { kind: 'overview' };
  let match = /^\/api\/v1\/assessments\/([^/]+)\/questions$/.exec(path);
  if (method === 'GET' && match) return { kind: 'questions', assessmentId: decode(match[1]) };
  match = /^\/api\/v1\/assessments\/([^/]+)\/evidence\/push$/.exec(path);
  if (method === 'POST' && match) return { kind: 'push', assessmentId: decode(match[1]) };
  match = /^\/api\/v1\/assessments\/([^/]+)\/questions\/([^/]+)\/evidence$/.exec(path);
  if (method === 'POST' && match) return { kind: 'direct-write', assessmentId: decode(match[1]), questionId: decode(match[2]) };
  return undefined;
}

function decode(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? '');
  } catch {
    return segment ?? '';
  }
}

export async function startAudigydSimulator(options: AudigydSimulatorOptions = {}): Promise<AudigydSimulator> {
  const clock = options.clock ?? Date.now;
  const apiKey = options.apiKey ?? 'sim-audigyd-key';
  const assessments = new AudigydAssessments(options.assessments ?? AUDIGYD_DEFAULT_ASSESSMENTS, DEFAULT_TENANT);
  for (const id of options.finalizedAssessments ?? []) assessments.setStatus(id, 'finalized');
  for (const id of options.archivedAssessments ?? []) assessments.setStatus(id, 'archived');
  const keys = new AudigydApiKeys([{ key: apiKey }, ...(options.apiKeys ?? [])], DEFAULT_TENANT);
  const store = new AudigydEvidenceStore();
  const settings: WriteSettings = {
    store,
    maxJsonBytes: options.maxJsonBytes ?? MIB,
    upload: { maxFileBytes: options.maxFileBytes ?? 100 * MIB, maxFieldBytes: MIB, retainFileBytes: options.retainFileBytes ?? MIB },
  };
  const uploads = options.uploadRateLimit === false ? undefined : new UploadRateLimit(options.uploadRateLimit ?? UPLOAD_RATE_LIMIT);

  async function write(req: SimRequest, route: Extract<Route, { kind: 'push' | 'direct-write' }>, key: AuthenticatedKey): Promise<SimResponse> {
    const forbidden = missingScope(key, WRITE_SCOPE);
    if (forbidden) return forbidden;
    // The upload limiter is a per-user middleware in front of the route: it counts before the route looks anything up.
    const isUpload = route.kind === 'direct-write' && mediaType(req) === 'multipart/form-data';
    const limited = isUpload ? uploads?.check(key.user, req.receivedAtMs, server.throttling) : undefined;
    if (limited) return limited;
    // "cross-tenant pushes return 404": another tenant's assessment is not found.
    const assessment = assessments.visibleTo(key.tenant, route.assessmentId);
    if (!assessment) return audigydError(404, `Assessment ${route.assessmentId} not found.`);
    if (route.kind === 'push') return closed(assessment) ?? pushEvidence(req, assessment, settings);
    const question = assessment.questions.find((q) => q.id === route.questionId);
    if (!question) return audigydError(404, `Question ${route.questionId} not found in assessment ${assessment.id}.`);
    return closed(assessment) ?? writeEvidence(req, assessment, question, settings);
  }

  async function handle(req: SimRequest): Promise<SimResponse> {
    const route = routeOf(req);
    if (route?.kind === 'push') store.received.push += 1;
    if (route?.kind === 'direct-write') store.received.directWrite += 1;
    if (!route) return audigydError(404, `Cannot ${req.method} ${req.path}.`);
    const authentication = keys.authenticate(req);
    if ('response' in authentication) return authentication.response;
    const { key } = authentication;
    switch (route.kind) {
      case 'overview':
        return audigydData(200, overview(assessments.all().filter((a) => a.tenant === key.tenant)));
      case 'questions': {
        const assessment = assessments.visibleTo(key.tenant, route.assessmentId);
        if (!assessment) return audigydError(404, `Assessment ${route.assessmentId} not found.`);
        return audigydData(200, assessment.questions.map((q) => ({ id: q.id, control_ref: q.controlRef, text: q.text })));
      }
      case 'push':
      case 'direct-write': {
        const response = await write(req, route, key);
        await discardUnread(req);
        return response;
      }
    }
  }

  const server = await startSimulatorServer(
    {
      bucketOf: () => 'ip',
      handle,
      errorResponse: audigydErrorForStatus,
      rateLimitedResponse: (window, req) => tooManyRequests(window, req.receivedAtMs),
      rateLimitHeaders: (window) => rateLimitHeaders(window, clock()),
    },
    { port: options.port, clock, rateLimit: options.rateLimit === false ? undefined : (options.rateLimit ?? GLOBAL_RATE_LIMIT) },
  );

  return {
    ...server,
    apiKey,
    state: { assessments, evidence: store.items, received: store.received },
    setAssessmentStatus: (id, status) => assessments.setStatus(id, status),
  };
}

/** "Pushes to finalized/archived assessments are rejected with 409". */
function closed(assessment: AudigydAssessment): SimResponse | undefined {
  return assessment.status === 'open' ? undefined : audigydError(409, `Assessment ${assessment.id} is ${assessment.status}: it no longer accepts evidence.`);
}

/** "Compliance Overview: Assessment counts, finding breakdowns, report totals", read as the seed's example reads it. */
function overview(visible: readonly AudigydAssessment[]) {
  const byStatus: Record<AudigydAssessmentStatus, number> = { open: 0, finalized: 0, archived: 0 };
  for (const assessment of visible) byStatus[assessment.status] += 1;
  return {
    assessments: { total: visible.length, by_status: byStatus },
    // Findings and reports are not simulated: the breakdowns the seed's example reads are all zero.
    findings: { total: 0, by_status: { open: 0, resolved: 0 }, by_severity: { critical: 0, high: 0, medium: 0, low: 0 } },
    reports: { total: 0 },
  };
}
