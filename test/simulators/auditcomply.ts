// A simulator of the AuditComply API (1.0.0), written from its API document
// (shared/seeds/002_b0da3d7eabf85c8c.txt): JWT authentication
// (api-token-auth, api-token-refresh, `Authorization: JWT <token>`) and the
// audits, nonconformances and tasks list/retrieve endpoints with DRF
// page-number pagination and the seed's filter parameters.
//
// The seed names operations (audits_list, audits_retrieve, …), not URLs.
// They are drf-spectacular operation ids, which are the path with the
// common prefix removed, so the routes are `/audits/`, `/audits/{id}/`, … under
// a prefix the seed does not give: `basePath` (default none).

import { STATUS_CODES } from 'node:http';
import { seedToInt } from './common/random.js';
import { retryAfterSeconds, type RateLimitOptions } from './common/rate-limit.js';
import { jsonResponse, startSimulatorServer, textResponse, type SimRequest, type SimResponse, type SimulatorServer } from './common/server.js';
import { DAY_MS, iso, referenceTime } from './common/time.js';
import { AuditComplyAuth, type AuditComplyApiUser } from './auditcomply/auth.js';
import { applyFilters, drfDetail, paginate, type FilterSet, type PageSettings } from './auditcomply/drf.js';
import {
  ACTION_STATUSES,
  AUDIT_STATES,
  generateDataset,
  type ActionStatus,
  type AuditComplyCounts,
  type AuditComplyDataset,
  type AuditRecord,
  type AuditState,
  type NonconformanceRecord,
  type TaskRecord,
} from './auditcomply/records.js';

export type { AuditComplyApiUser } from './auditcomply/auth.js';
export type { AuditComplyCounts, AuditRecord, NonconformanceRecord, TaskRecord } from './auditcomply/records.js';

export interface AuditComplySimulatorOptions {
  /** Seed of all generated data (default 1). */
  seed?: number | string;
  /** The data's "now" (default: start of the current UTC day). */
  now?: Date | number;
  /** Records to generate (default 30 audits, 45 nonconformances, 40 tasks). */
  counts?: AuditComplyCounts;
  /** API users (default one: `api-user` / `api-password`). */
  users?: readonly AuditComplyApiUser[];
  /** Token lifetime, drf-jwt's JWT_EXPIRATION_DELTA (default 300 s, the library's default). */
  tokenTtlSeconds?: number;
  /** How long after the first token a chain may be refreshed, JWT_REFRESH_EXPIRATION_DELTA (default 7 days). */
  refreshWindowSeconds?: number;
  /** DRF PAGE_SIZE (default 25) and the paginator's max_page_size (default 100). */
  pageSize?: number;
  maxPageSize?: number;
  /** Prefix of every route, e.g. `/api/v1` (default none). */
  basePath?: string;
  /** Enforced rate limit (default none); 429s are DRF throttling responses with Retry-After. */
  rateLimit?: RateLimitOptions;
  port?: number;
  clock?: () => number;
}

interface ActionTruth {
  total: number;
  byStatus: Record<ActionStatus, number>;
  /** Not CLOSED. */
  open: number;
  /** The record's own `overdue` flag. */
  overdue: number;
}

/** Normalised facts a connector's output can be checked against. */
export interface AuditComplyTruth {
  now: string;
  /** nonCompliant: completed audits (completed_at set) whose `compliant` is false. */
  audits: { total: number; byState: Record<AuditState, number>; nonCompliant: number };
  nonconformances: ActionTruth;
  tasks: ActionTruth;
}

export interface AuditComplySimulator extends SimulatorServer {
  /** `url` + `basePath`: where the routes start. */
  readonly apiBaseUrl: string;
  readonly username: string;
  readonly password: string;
  /** Tokens issued by api-token-auth and api-token-refresh. */
  readonly tokensIssued: number;
  readonly state: { readonly data: AuditComplyDataset; readonly auth: AuditComplyAuth };
  truth(): AuditComplyTruth;
}

const AUDIT_FILTERS: FilterSet<AuditRecord> = {
  state: { kind: 'exact', value: (a) => a.state },
  state__in: { kind: 'in', value: (a) => a.state },
  status: { kind: 'exact', value: (a) => a.status },
  status__in: { kind: 'in', value: (a) => a.status },
  name: { kind: 'exact', value: (a) => a.name },
  updated_at_gte: { kind: 'gte', value: (a) => a.updated_at },
  updated_at_lte: { kind: 'lte', value: (a) => a.updated_at },
  completed_at_gte: { kind: 'gte', value: (a) => a.completed_at },
  completed_at_lte: { kind: 'lte', value: (a) => a.completed_at },
};

/** Nonconformances and tasks share their filters; the seed names the updated_at filter `last_updated_*`. */
function actionFilters<T extends NonconformanceRecord | TaskRecord>(id: (record: T) => number): FilterSet<T> {
  return {
    id: { kind: 'exact', value: (r) => String(id(r)) },
    status: { kind: 'exact', value: (r) => r.status },
    status__in: { kind: 'in', value: (r) => r.status },
    created_at_gte: { kind: 'gte', value: (r) => r.created_at },
    created_at_lte: { kind: 'lte', value: (r) => r.created_at },
    last_updated_gte: { kind: 'gte', value: (r) => r.updated_at },
    last_updated_lte: { kind: 'lte', value: (r) => r.updated_at },
  };
}

const RESOURCE_ROUTE = /^\/(audits|nonconformances|tasks)\/(?:(\d+)\/)?$/;

/** The list and retrieve views of one resource. */
interface ResourceViews {
  list(req: SimRequest): SimResponse;
  retrieve(id: string): SimResponse;
}

function resourceViews<T>(records: readonly T[], idOf: (record: T) => number, filters: FilterSet<T>, pages: PageSettings): ResourceViews {
  return {
    list(req) {
      const filtered = applyFilters(records, req.query, filters);
      return 'error' in filtered ? filtered.error : paginate(filtered.records, req, pages);
    },
    retrieve(id) {
      const record = records.find((r) => String(idOf(r)) === id);
      return record ? jsonResponse(200, record) : drfDetail(404, 'Not found.');
    },
  };
}

/** Django's own error page (DEBUG off): what a URL outside the API, or a crash, answers. Not JSON, as in production. */
function djangoErrorPage(status: number, title: string, message: string): SimResponse {
  return textResponse(status, 'text/html', `<!doctype html>\n<html lang="en">\n<head>\n  <title>${title}</title>\n</head>\n<body>\n  <h1>${title}</h1><p>${message}</p>\n</body>\n</html>\n`);
}

/** Django's 500 page, and the reverse proxy's page for the other 5xx. */
function serverErrorPage(status: number): SimResponse {
  if (status === 500) return djangoErrorPage(500, 'Server Error (500)', '');
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  return textResponse(status, 'text/html', `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`);
}

function errorForStatus(status: number): SimResponse {
  if (status >= 500) return serverErrorPage(status);
  if (status === 401) return drfDetail(401, 'Signature has expired.', { 'WWW-Authenticate': 'JWT realm="api"' });
  if (status === 403) return drfDetail(403, 'You do not have permission to perform this action.');
  if (status === 404) return drfDetail(404, 'Not found.');
  return drfDetail(status, 'Bad request.');
}

export async function startAuditComplySimulator(options: AuditComplySimulatorOptions = {}): Promise<AuditComplySimulator> {
  const clock = options.clock ?? Date.now;
  const nowMs = referenceTime(options.now);
  const users = options.users ?? [{ username: 'api-user', password: 'api-password', email: 'api-user@example.com' }];
  const firstUser = users[0];
  if (!firstUser) throw new RangeError('at least one API user is needed');
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');
  const data = generateDataset(seedToInt(options.seed ?? 1), { audits: 30, nonconformances: 45, tasks: 40, ...options.counts }, nowMs);
  const auth = new AuditComplyAuth(users, options.tokenTtlSeconds ?? 300, options.refreshWindowSeconds ?? (7 * DAY_MS) / 1000, clock);
  const pages: PageSettings = { pageSize: options.pageSize ?? 25, maxPageSize: options.maxPageSize ?? 100 };

  const resources: Record<string, ResourceViews> = {
    audits: resourceViews(data.audits, (a) => a.id, AUDIT_FILTERS, pages),
    nonconformances: resourceViews(data.nonconformances, (n) => n.nonconformance_id, actionFilters((n: NonconformanceRecord) => n.nonconformance_id), pages),
    tasks: resourceViews(data.tasks, (t) => t.task_id, actionFilters((t: TaskRecord) => t.task_id), pages),
  };

  const isRoute = (route: string) => route === '/api-token-auth/' || route === '/api-token-refresh/' || RESOURCE_ROUTE.test(route);

  async function handle(req: SimRequest): Promise<SimResponse> {
    const route = req.path.startsWith(`${basePath}/`) ? req.path.slice(basePath.length) : undefined;
    if (route === undefined || !isRoute(route)) {
      // Django's APPEND_SLASH: a path that only lacks its trailing slash is redirected to it.
      if (route !== undefined && isRoute(`${route}/`)) {
        const query = req.query.toString();
        return textResponse(301, 'text/html', '', { Location: `${req.origin}${req.path}/${query ? `?${query}` : ''}` });
      }
      return djangoErrorPage(404, 'Not Found', 'The requested resource was not found on this server.');
    }
    if (route === '/api-token-auth/') return req.method === 'POST' ? auth.obtain(req) : methodNotAllowed(req);
    if (route === '/api-token-refresh/') return req.method === 'POST' ? auth.refresh(req) : methodNotAllowed(req);

    const authentication = auth.authenticate(req);
    if ('response' in authentication) return authentication.response;
    if (req.method !== 'GET') return methodNotAllowed(req);
    const [, resource = '', id] = RESOURCE_ROUTE.exec(route) ?? [];
    const views = resources[resource];
    if (!views) return djangoErrorPage(404, 'Not Found', 'The requested resource was not found on this server.');
    return id === undefined ? views.list(req) : views.retrieve(id);
  }

  const server = await startSimulatorServer(
    {
      bucketOf: () => 'api',
      handle,
      errorResponse: errorForStatus,
      rateLimitedResponse: (window, req) => {
        // DRF's Throttled exception: "Request was throttled. Expected available in N seconds." + Retry-After.
        const wait = retryAfterSeconds(window.resetAtMs, req.receivedAtMs);
        return drfDetail(429, `Request was throttled. Expected available in ${wait} seconds.`, { 'Retry-After': String(wait) });
      },
    },
    { port: options.port, clock, rateLimit: options.rateLimit },
  );

  let truth: AuditComplyTruth | undefined;
  return {
    ...server,
    apiBaseUrl: `${server.url}${basePath}`,
    username: firstUser.username,
    password: firstUser.password,
    get tokensIssued() {
      return auth.tokensIssued;
    },
    state: { data, auth },
    truth: () => (truth ??= computeTruth(data, nowMs)),
  };
}

function methodNotAllowed(req: SimRequest): SimResponse {
  return drfDetail(405, `Method "${req.method}" not allowed.`);
}

function actionTruth(records: readonly (NonconformanceRecord | TaskRecord)[]): ActionTruth {
  const byStatus = Object.fromEntries(ACTION_STATUSES.map((status) => [status, 0])) as Record<ActionStatus, number>;
  for (const record of records) byStatus[record.status] += 1;
  return { total: records.length, byStatus, open: records.length - byStatus.CLOSED, overdue: records.filter((r) => r.overdue).length };
}

function computeTruth(data: AuditComplyDataset, nowMs: number): AuditComplyTruth {
  const byState = Object.fromEntries(AUDIT_STATES.map((state) => [state, 0])) as Record<AuditState, number>;
  for (const audit of data.audits) byState[audit.state] += 1;
  return {
    now: iso(nowMs),
    audits: { total: data.audits.length, byState, nonCompliant: data.audits.filter((a) => !a.compliant && a.completed_at !== null).length },
    nonconformances: actionTruth(data.nonconformances),
    tasks: actionTruth(data.tasks),
  };
}
