// The Okta Management API's request handling: routes, authentication (SSWS
// API tokens and OAuth service-app Bearer tokens with scopes), the list
// endpoints' Link pagination, and Okta's rate-limit headers and error bodies.

import { authorizationOf, jsonResponse, type SimRequest, type SimResponse, type VendorBehaviour } from '../common/server.js';
import type { RateWindow } from '../common/rate-limit.js';
import { DAY_MS } from '../common/time.js';
import type { OktaDirectory } from './directory.js';
import { OKTA_ERRORS, oktaError, oktaErrorForStatus } from './errors.js';
import { TOKEN_PATH, type OktaAuthorizationServer } from './oauth.js';
import { link, parseEqualityFilter, parseLimit, withParam } from './query.js';
import { factorResource, orgResource, passwordPolicyResource, roleResource, userResource, type OktaPasswordSettings } from './resources.js';
import type { OktaSystemLog } from './system-log.js';

/** Everything the API serves from. */
export interface OktaOrg {
  directory: OktaDirectory;
  systemLog: OktaSystemLog;
  oauth: OktaAuthorizationServer;
  passwordPolicy: OktaPasswordSettings;
  orgName: string;
  orgCreatedMs: number;
  apiToken: string;
  /** Origin of `next` links when they must point off the simulator's host. */
  nextLinkOrigin: string | undefined;
  clock: () => number;
}

const USERS_MAX_LIMIT = 200;
const LOGS_DEFAULT_LIMIT = 100;
const LOGS_MAX_LIMIT = 1000;
const LOGS_DEFAULT_SINCE_MS = 7 * DAY_MS;

/** Who a request authenticated as. */
type Principal = { kind: 'apiToken' } | { kind: 'serviceApp'; scopes: ReadonlySet<string> };

interface Route {
  method: string;
  /** The path template, also the rate-limit bucket (Okta limits each endpoint separately). */
  template: string;
  pattern: RegExp;
  /** The OAuth scope a service app needs; SSWS tokens act as their SUPER_ADMIN and need none. */
  scope: string;
  handle(req: SimRequest, params: string[], principal: Principal): SimResponse | Promise<SimResponse>;
}

export function rateLimitHeaders(window: RateWindow): Record<string, string> {
  return {
    'X-Rate-Limit-Limit': String(window.limit),
    'X-Rate-Limit-Remaining': String(window.remaining),
    'X-Rate-Limit-Reset': String(Math.ceil(window.resetAtMs / 1000)),
  };
}

export function oktaApi(org: OktaOrg): VendorBehaviour {
  const { directory, systemLog, oauth, passwordPolicy, orgName, orgCreatedMs, apiToken, clock } = org;

  function nextOrigin(req: SimRequest): string {
    return org.nextLinkOrigin ?? req.origin;
  }

  function selfLink(req: SimRequest): string {
    const query = req.query.toString();
    return link(`${req.origin}${req.path}${query ? `?${query}` : ''}`, 'self');
  }

  function userNotFound(id: string): SimResponse {
    return oktaError(404, OKTA_ERRORS.notFound, `Resource not found: ${id} (User)`);
  }

  /** GET /api/v1/users — without filter/search Okta lists every user that is not DEPROVISIONED. */
  function listUsers(req: SimRequest): SimResponse {
    const limit = parseLimit(req.query.get('limit'), USERS_MAX_LIMIT, USERS_MAX_LIMIT);
    if (limit === undefined) return oktaError(400, OKTA_ERRORS.validation, 'limit must be a positive integer');
    const expression = req.query.get('filter') ?? req.query.get('search');
    const statuses = expression === null ? undefined : parseEqualityFilter(expression, 'status');
    if (expression !== null && statuses === undefined) return oktaError(400, OKTA_ERRORS.invalidSearch, `the simulator understands only status eq "…" terms joined by or: ${expression}`);
    const listed = (index: number) => (statuses ? statuses.has(directory.statusOf(index)) : directory.statusOf(index) !== 'DEPROVISIONED');

    const after = req.query.get('after');
    let start = 0;
    if (after !== null) {
      const afterIndex = directory.indexOfId(after);
      if (afterIndex === undefined) return oktaError(400, OKTA_ERRORS.validation, `after is not a cursor this list returned: ${after}`);
      start = afterIndex + 1;
    }
    const page: number[] = [];
    let index = start;
    for (; index < directory.size && page.length < limit; index++) if (listed(index)) page.push(index);
    while (index < directory.size && !listed(index)) index++;
    const hasMore = index < directory.size;

    const links = [selfLink(req)];
    const last = page[page.length - 1];
    if (hasMore && last !== undefined) links.push(link(withParam(nextOrigin(req), req.path, req.query, 'after', directory.idOf(last)), 'next'));
    return jsonResponse(
      200,
      page.map((i) => userResource(directory.user(i), req.origin)),
      { Link: links },
    );
  }

  function getUser(req: SimRequest, [id]: string[], principal: Principal): SimResponse {
    if (id === 'me') {
      // A service app's token carries no user, so there is no "me".
      if (principal.kind === 'serviceApp') return userNotFound('me');
      return jsonResponse(200, userResource(directory.user(directory.ownerIndex), req.origin));
    }
    const index = directory.indexOfId(id ?? '');
    return index === undefined ? userNotFound(id ?? '') : jsonResponse(200, userResource(directory.user(index), req.origin));
  }

  function listFactors(req: SimRequest, [id]: string[]): SimResponse {
    const index = directory.indexOfId(id ?? '');
    if (index === undefined) return userNotFound(id ?? '');
    const user = directory.user(index);
    return jsonResponse(200, user.factors.map((factor) => factorResource(factor, user, req.origin)));
  }

  function listRoles(req: SimRequest, [id]: string[]): SimResponse {
    const index = directory.indexOfId(id ?? '');
    if (index === undefined) return userNotFound(id ?? '');
    const user = directory.user(index);
    return jsonResponse(200, user.roles.map((role) => roleResource(role, user, req.origin)));
  }

  /** GET /api/v1/policies?type= — `type` is required; only PASSWORD policies are simulated, other types list empty. */
  function listPolicies(req: SimRequest): SimResponse {
    const type = req.query.get('type');
    if (!type) return oktaError(400, OKTA_ERRORS.validation, 'type: The field cannot be left blank');
    return jsonResponse(200, type === 'PASSWORD' ? [passwordPolicyResource(passwordPolicy, orgCreatedMs, req.origin)] : []);
  }

  /**
   * GET /api/v1/logs. `since` defaults to 7 days before the request and is
   * inclusive, `until` exclusive. As Okta documents for polling, a request
   * without `until` always gets a `next` link, even on an empty page: a
   * client reading a bounded range stops on an empty page or passes `until`.
   */
  function listLogs(req: SimRequest): SimResponse {
    const limit = parseLimit(req.query.get('limit'), LOGS_DEFAULT_LIMIT, LOGS_MAX_LIMIT);
    if (limit === undefined) return oktaError(400, OKTA_ERRORS.validation, 'limit must be a positive integer');
    const sinceRaw = req.query.get('since');
    const untilRaw = req.query.get('until');
    const sinceMs = sinceRaw === null ? clock() - LOGS_DEFAULT_SINCE_MS : Date.parse(sinceRaw);
    const untilMs = untilRaw === null ? undefined : Date.parse(untilRaw);
    if (Number.isNaN(sinceMs) || (untilMs !== undefined && Number.isNaN(untilMs))) return oktaError(400, OKTA_ERRORS.validation, 'since and until must be ISO 8601 timestamps');
    if (untilMs !== undefined && untilMs < sinceMs) return oktaError(400, OKTA_ERRORS.validation, 'until must not be before since');
    const sortOrder = req.query.get('sortOrder') ?? 'ASCENDING';
    if (sortOrder !== 'ASCENDING') return oktaError(400, OKTA_ERRORS.validation, `sortOrder ${sortOrder} is not simulated`);
    const filterRaw = req.query.get('filter');
    const eventTypes = filterRaw === null ? undefined : parseEqualityFilter(filterRaw, 'eventType');
    if (filterRaw !== null && eventTypes === undefined) return oktaError(400, OKTA_ERRORS.invalidSearch, `the simulator understands only eventType eq "…" terms joined by or: ${filterRaw}`);

    const after = req.query.get('after');
    if (after !== null && !/^\d+$/.test(after)) return oktaError(400, OKTA_ERRORS.validation, `after is not a cursor this list returned: ${after}`);
    const end = untilMs === undefined ? systemLog.size : systemLog.firstAtOrAfter(untilMs);
    let index = Math.max(systemLog.firstAtOrAfter(sinceMs), after === null ? 0 : Number(after));
    const events: ReturnType<OktaSystemLog['event']>[] = [];
    for (; index < end && events.length < limit; index++) {
      if (!eventTypes || eventTypes.has(systemLog.eventType(index))) events.push(systemLog.event(index));
    }
    const links = [selfLink(req)];
    if (untilMs === undefined || index < end) links.push(link(withParam(nextOrigin(req), req.path, req.query, 'after', String(index)), 'next'));
    return jsonResponse(200, events, { Link: links });
  }

  const routes: Route[] = [
    { method: 'GET', template: '/api/v1/org', pattern: /^\/api\/v1\/org$/, scope: 'okta.orgs.read', handle: (req) => jsonResponse(200, orgResource(orgName, 'simulated', orgCreatedMs, req.origin)) },
    { method: 'GET', template: '/api/v1/users', pattern: /^\/api\/v1\/users$/, scope: 'okta.users.read', handle: listUsers },
    { method: 'GET', template: '/api/v1/users/{id}', pattern: /^\/api\/v1\/users\/([^/]+)$/, scope: 'okta.users.read', handle: getUser },
    { method: 'GET', template: '/api/v1/users/{id}/factors', pattern: /^\/api\/v1\/users\/([^/]+)\/factors$/, scope: 'okta.users.read', handle: listFactors },
    { method: 'GET', template: '/api/v1/users/{id}/roles', pattern: /^\/api\/v1\/users\/([^/]+)\/roles$/, scope: 'okta.roles.read', handle: listRoles },
    { method: 'GET', template: '/api/v1/policies', pattern: /^\/api\/v1\/policies$/, scope: 'okta.policies.read', handle: listPolicies },
    { method: 'GET', template: '/api/v1/logs', pattern: /^\/api\/v1\/logs$/, scope: 'okta.logs.read', handle: listLogs },
  ];

  function findRoute(req: SimRequest): { route: Route; params: string[] } | undefined {
    for (const route of routes) {
      const match = route.pattern.exec(req.path);
      if (match) return { route, params: match.slice(1).map(decodePathSegment) };
    }
    return undefined;
  }

  function bearerChallenge(req: SimRequest, error: string, description: string, scope?: string): Record<string, string> {
    const scopePart = scope ? `, scope="${scope}"` : '';
    return {
      'WWW-Authenticate': `Bearer authorization_uri="${req.origin}/oauth2/v1/authorize", realm="IdP"${scopePart}, error="${error}", error_description="${description}", resource="${req.path}"`,
    };
  }

  function authenticate(req: SimRequest): Principal | SimResponse {
    const authorization = authorizationOf(req);
    if (!authorization) return oktaError(401, OKTA_ERRORS.invalidSession);
    const scheme = authorization.scheme.toLowerCase();
    if (scheme === 'ssws') return authorization.credentials === apiToken ? { kind: 'apiToken' } : oktaError(401, OKTA_ERRORS.invalidToken);
    if (scheme !== 'bearer') return oktaError(401, OKTA_ERRORS.invalidToken);
    const token = oauth.accessToken(authorization.credentials);
    if (!token) return oktaError(401, OKTA_ERRORS.invalidToken, undefined, bearerChallenge(req, 'invalid_token', 'The token is not valid.'));
    if (token.expiresAtMs <= clock()) return oktaError(401, OKTA_ERRORS.invalidToken, undefined, bearerChallenge(req, 'invalid_token', 'The token has expired.'));
    return { kind: 'serviceApp', scopes: token.scopes };
  }

  async function handle(req: SimRequest): Promise<SimResponse> {
    if (req.path === TOKEN_PATH) return req.method === 'POST' ? oauth.token(req) : oktaError(405, OKTA_ERRORS.methodNotAllowed);
    const found = findRoute(req);
    if (!found) return oktaError(404, OKTA_ERRORS.notFound, `Resource not found: ${req.path}`);
    const principal = authenticate(req);
    if ('status' in principal) return principal;
    if (found.route.method !== req.method) return oktaError(405, OKTA_ERRORS.methodNotAllowed);
    if (principal.kind === 'serviceApp' && !principal.scopes.has(found.route.scope)) {
      return oktaError(403, OKTA_ERRORS.permission, undefined, bearerChallenge(req, 'insufficient_scope', 'The access token provided does not contain the required scopes.', found.route.scope));
    }
    return found.route.handle(req, found.params, principal);
  }

  return {
    bucketOf: (req) => (req.path === TOKEN_PATH ? `POST ${TOKEN_PATH}` : `${req.method} ${findRoute(req)?.route.template ?? 'other'}`),
    handle,
    errorResponse: (status) => oktaErrorForStatus(status),
    rateLimitedResponse: (window) => oktaError(429, OKTA_ERRORS.rateLimit, undefined, rateLimitHeaders({ ...window, remaining: 0 })),
    rateLimitHeaders,
  };
}

/** A path parameter, percent-decoded when it is well-formed (an id never needs more). */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
