// A simulator of AUDITDEX, a destination of the hub, written from its REST
// API document (shared/seeds/001_d8437ee18a427308.txt): OAuth 2.0 client
// credentials at /oauth/token, and under the base URL /v1 ("The base URL for
// all endpoints is: https://api.augixsys.com/v1") the engagement list,
// multipart evidence submission returning the file's SHA-256, and control
// status with its linked evidence. RFC 7807 errors, X-RateLimit-* headers on
// every response. Webhooks and reports are not simulated.

import type { RateLimitOptions, RateWindow } from './common/rate-limit.js';
import { jsonResponse, startSimulatorServer, type SimRequest, type SimResponse, type SimulatorServer } from './common/server.js';
import { AUDITDEX_DEFAULT_ENGAGEMENTS, AuditdexEngagements, type AuditdexEngagementFixture, type AuditdexEngagementStatus } from './auditdex/engagements.js';
import { AuditdexEvidenceStore, evidenceJson, submitEvidence, type AuditdexEvidenceItem } from './auditdex/evidence.js';
import { AuditdexTokenIssuer, TOKEN_PATH, type AuditdexClient } from './auditdex/oauth.js';
import { API_BASE_PATH, PROBLEMS, problem, problemForStatus, validationProblem } from './auditdex/problem.js';
import { discardUnread } from './audigyd/request-body.js';

export { AUDITDEX_DEFAULT_ENGAGEMENTS } from './auditdex/engagements.js';
export { AUDITDEX_SCOPES } from './auditdex/oauth.js';
export type { AuditdexClient } from './auditdex/oauth.js';
export type { AuditdexControlFixture, AuditdexEngagement, AuditdexEngagementFixture, AuditdexEngagementStatus } from './auditdex/engagements.js';
export type { AuditdexEvidenceItem } from './auditdex/evidence.js';

/** The seed's plans: "Standard | 60 | 100", "Enterprise | 600 | 1000" (requests/minute | burst); "Unlimited" is `rateLimit: false`. */
export const AUDITDEX_PLANS = {
  standard: { limit: 60, windowMs: 60_000 },
  enterprise: { limit: 600, windowMs: 60_000 },
} as const satisfies Record<string, RateLimitOptions>;

export interface AuditdexSimulatorOptions {
  /** The engagements (default `AUDITDEX_DEFAULT_ENGAGEMENTS`). */
  engagements?: readonly AuditdexEngagementFixture[];
  /** OAuth clients (default one: `sim-auditdex-client` / `sim-auditdex-secret`, all scopes). */
  clients?: readonly AuditdexClient[];
  /** "Tokens expire after 60 minutes" (default 3600); short values test a token expiring mid-run. */
  tokenTtlSeconds?: number;
  /**
   * The plan's requests per minute (default `AUDITDEX_PLANS.standard`), for
   * the whole account; `false` is the Unlimited plan (no limit, no headers).
   * The burst column is not simulated: the fixed window allows exactly
   * `limit` requests per minute, which a client that obeys the headers meets.
   */
  rateLimit?: RateLimitOptions | false;
  /** Uploaded files up to this size keep their bytes in `state.evidence` (default 1 MiB); all are hashed. */
  retainFileBytes?: number;
  port?: number;
  clock?: () => number;
}

export interface AuditdexSimulator extends SimulatorServer {
  /** `url` + `/v1`, the seed's "base URL for all endpoints". */
  readonly apiBaseUrl: string;
  /** `url` + `/oauth/token`. */
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly tokensIssued: number;
  readonly state: {
    readonly engagements: AuditdexEngagements;
    /** Every submission, in arrival order (live). */
    readonly evidence: readonly AuditdexEvidenceItem[];
    readonly oauth: AuditdexTokenIssuer;
  };
  /** The next `times` submissions (default 1) answer a wrong SHA-256. */
  reportWrongHash(times?: number): void;
  /**
   * The next `times` submissions (default 1) are stored, and their answers lost: held until
   * the simulator closes, as if the response had gone missing on its way back (the client
   * sees its own timeout, or dies waiting). For testing a client that must not upload twice.
   */
  loseAnswers(times?: number): void;
  /** Completes an engagement mid-run (or reopens it). */
  setEngagementStatus(id: string, status: AuditdexEngagementStatus): void;
}

const MIB = 1024 * 1024;
const DEFAULT_PAGE_SIZE = 25;
const MAX_PAGE_SIZE = 100;

/**
 * "Rate limit headers are included in every response:
 * X-RateLimit-Limit: 600, X-RateLimit-Remaining: 597, X-RateLimit-Reset: 1745140800"
 * (the reset in epoch seconds).
 */
function rateLimitHeaders(window: RateWindow): Record<string, string> {
  return {
    'X-RateLimit-Limit': String(window.limit),
    'X-RateLimit-Remaining': String(window.remaining),
    'X-RateLimit-Reset': String(Math.ceil(window.resetAtMs / 1000)),
  };
}

/** "429 (rate limited)" as a problem, with the X-RateLimit-* headers; the seed names no Retry-After. */
function rateLimited(window: RateWindow, req: SimRequest): SimResponse {
  const detail = `Rate limit of ${window.limit} requests per minute exceeded; it resets at ${new Date(window.resetAtMs).toISOString()}.`;
  return problem(PROBLEMS.rateLimited, detail, req, {}, rateLimitHeaders({ ...window, remaining: 0 }));
}

export async function startAuditdexSimulator(options: AuditdexSimulatorOptions = {}): Promise<AuditdexSimulator> {
  const clock = options.clock ?? Date.now;
  const clients = options.clients ?? [{ clientId: 'sim-auditdex-client', clientSecret: 'sim-auditdex-secret' }];
  const firstClient = clients[0];
  if (!firstClient) throw new RangeError('at least one OAuth client is needed');
  const engagements = new AuditdexEngagements(options.engagements ?? AUDITDEX_DEFAULT_ENGAGEMENTS);
  const oauth = new AuditdexTokenIssuer(clients, options.tokenTtlSeconds ?? 3600, clock);
  const store = new AuditdexEvidenceStore();
  const uploadLimits = { maxFileBytes: Number.POSITIVE_INFINITY, maxFieldBytes: MIB, retainFileBytes: options.retainFileBytes ?? MIB };
  let answersToLose = 0;
  const lost: (() => void)[] = [];

  /** GET /v1/engagements?page=&per_page= — "Returns paginated list of engagements accessible to the authenticated client." */
  function listEngagements(req: SimRequest, clientId: string): SimResponse {
    const page = req.query.get('page') ?? '1';
    const perPage = req.query.get('per_page') ?? String(DEFAULT_PAGE_SIZE);
    const invalid: { name: string; reason: string }[] = [];
    if (!/^[1-9]\d*$/.test(page)) invalid.push({ name: 'page', reason: 'must be a positive integer' });
    if (!/^[1-9]\d*$/.test(perPage) || Number(perPage) > MAX_PAGE_SIZE) invalid.push({ name: 'per_page', reason: `must be an integer from 1 to ${MAX_PAGE_SIZE}` });
    if (invalid.length > 0) return validationProblem(req, invalid);
    const visible = engagements.accessibleTo(clientId);
    const start = (Number(page) - 1) * Number(perPage);
    const data = visible.slice(start, start + Number(perPage)).map((e) => ({ id: e.id, name: e.name, status: e.status }));
    return jsonResponse(200, { data, page: Number(page), per_page: Number(perPage), total: visible.length });
  }

  /** GET /v1/engagements/{id}/controls/{control_id} — "Returns current testing status, findings, and linked evidence for a control." */
  function controlStatus(req: SimRequest, clientId: string, engagementId: string, controlId: string): SimResponse {
    const control = engagements.find(clientId, engagementId)?.controls.find((c) => c.id === controlId);
    if (!control) return problem(PROBLEMS.notFound, `Control ${controlId} not found in engagement ${engagementId}`, req);
    return jsonResponse(200, {
      engagement_id: engagementId,
      control_id: control.id,
      name: control.name,
      testing_status: control.testingStatus ?? 'not_tested',
      // Findings are not simulated.
      findings: [],
      evidence: store.linkedTo(engagementId, control.id).map(evidenceJson),
    });
  }

  async function handle(req: SimRequest): Promise<SimResponse> {
    if (req.path === TOKEN_PATH && req.method === 'POST') return oauth.token(req);
    const route = routeOf(req);
    if (!route) return problem(PROBLEMS.notFound, `No ${req.method} ${req.path} in this API.`, req);
    const authentication = oauth.authenticate(req, route.scope);
    if ('response' in authentication) return authentication.response;
    const { clientId } = authentication.token;
    switch (route.kind) {
      case 'engagements':
        return listEngagements(req, clientId);
      case 'control':
        return controlStatus(req, clientId, route.engagementId, route.controlId);
      case 'evidence': {
        const response = await submit(req, route.engagementId, clientId);
        await discardUnread(req);
        if (response.status === 201 && answersToLose > 0) {
          answersToLose -= 1;
          // Stored; the answer is released only when the server has dropped every connection.
          await new Promise<void>((resolve) => lost.push(resolve));
        }
        return response;
      }
    }
  }

  async function submit(req: SimRequest, engagementId: string, clientId: string): Promise<SimResponse> {
    const engagement = engagements.find(clientId, engagementId);
    // The seed's own example of a 404.
    if (!engagement) return problem(PROBLEMS.notFound, `Engagement ${engagementId} not found or access denied`, req);
    if (engagement.status === 'completed') return problem(PROBLEMS.engagementCompleted, `Engagement ${engagementId} is completed and accepts no more evidence.`, req);
    return submitEvidence(req, engagement, clientId, store, uploadLimits);
  }

  const server = await startSimulatorServer(
    {
      // One account, one plan: the API shares one budget; the token endpoint (outside /v1) counts apart.
      bucketOf: (req) => (req.path === TOKEN_PATH ? 'oauth' : 'api'),
      handle,
      errorResponse: problemForStatus,
      rateLimitedResponse: rateLimited,
      rateLimitHeaders,
    },
    { port: options.port, clock, rateLimit: options.rateLimit === false ? undefined : (options.rateLimit ?? AUDITDEX_PLANS.standard) },
  );

  return {
    ...server,
    async close() {
      const closing = server.close(); // drops the connections at once, so no held answer is sent
      for (const release of lost.splice(0)) release();
      await closing;
    },
    apiBaseUrl: `${server.url}${API_BASE_PATH}`,
    tokenUrl: `${server.url}${TOKEN_PATH}`,
    clientId: firstClient.clientId,
    clientSecret: firstClient.clientSecret,
    get tokensIssued() {
      return oauth.tokensIssued;
    },
    state: { engagements, evidence: store.items, oauth },
    reportWrongHash: (times = 1) => store.reportWrongHash(times),
    loseAnswers: (times = 1) => {
      if (!Number.isInteger(times) || times < 1) throw new RangeError(`times must be a positive integer, got ${times}`);
      answersToLose += times;
    },
    setEngagementStatus: (id, status) => engagements.setStatus(id, status),
  };
}

type Route =
  | { kind: 'engagements'; scope?: undefined }
  | { kind: 'evidence'; scope: 'evidence:write'; engagementId: string }
  | { kind: 'control'; scope: 'controls:read'; engagementId: string; controlId: string };

/** The API's routes and the scope each needs ("403 (insufficient scope)"); listing engagements names none. */
function routeOf(req: SimRequest): Route | undefined {
  if (!req.path.startsWith(`${API_BASE_PATH}/`)) return undefined;
  const path = req.path.slice(API_BASE_PATH.length);
  if (req.method === 'GET' && path === '/engagements') return { kind: 'engagements' };
  let match = /^\/engagements\/([^/]+)\/evidence$/.exec(path);
  if (req.method === 'POST' && match) return { kind: 'evidence', scope: 'evidence:write', engagementId: decode(match[1]) };
  match = /^\/engagements\/([^/]+)\/controls\/([^/]+)$/.exec(path);
  if (req.method === 'GET' && match) return { kind: 'control', scope: 'controls:read', engagementId: decode(match[1]), controlId: decode(match[2]) };
  return undefined;
}

function decode(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? '');
  } catch {
    return segment ?? '';
  }
}
