// Microsoft Graph's request handling for the endpoints a compliance connector
// reads: Bearer tokens checked against the application permissions each
// endpoint's reference page lists (least privileged first, higher ones also
// accepted), the OData query options $select, $top (1–999) and $expand, server
// paging with an opaque $skiptoken in @odata.nextLink, and Graph's error body
// `{"error": {"code", "message", "innerError": {date, request-id,
// client-request-id}}}`. Premium-only data (signInActivity,
// userRegistrationDetails) answers 403
// Authentication_RequestFromNonPremiumTenantOrB2CTenant in a tenant without
// Entra ID P1/P2. 429 and 503 carry Retry-After (the throttling guidance); no
// rate-limit window headers are sent.

import { randomUUID } from 'node:crypto';
import { authorizationOf, jsonResponse, type SimRequest, type SimResponse, type VendorBehaviour } from '../common/server.js';
import { retryAfterSeconds, type RateWindow } from '../common/rate-limit.js';
import { BUILT_IN_ROLES, type GraphTenant } from './tenant.js';
import type { GraphAccessToken, GraphTokenIssuer } from './oauth.js';

export interface GraphLicences {
  /** Microsoft Entra ID P1 or P2 (signInActivity, the registration report, Conditional Access). Default true. */
  entraPremium: boolean;
  /** Microsoft Intune. Default true. */
  intune: boolean;
}

export interface GraphApiState {
  tenant: GraphTenant;
  issuer: GraphTokenIssuer;
  licences: GraphLicences;
  defaultPageSize: number;
  maxPageSize: number;
  /** Requests left before every token issued expires (a token running out mid-collection); null: off. */
  expireTokensAfter: { remaining: number } | null;
}

const TOKEN_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/token$/;
const GRAPH_PATH = /^\/(v1\.0|beta)(\/.*)$/;

export function graphError(status: number, code: string, message: string, headers: Record<string, string> = {}): SimResponse {
  return jsonResponse(status, { error: { code, message, innerError: { date: new Date().toISOString().replace(/\.\d+Z$/, ''), 'request-id': randomUUID(), 'client-request-id': randomUUID() } } }, headers);
}

const INSUFFICIENT = () => graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
const NON_PREMIUM = () => graphError(403, 'Authentication_RequestFromNonPremiumTenantOrB2CTenant', "Neither tenant is B2C or tenant doesn't have premium license");

export function graphErrorForStatus(status: number): SimResponse {
  if (status === 401) return graphError(401, 'InvalidAuthenticationToken', 'Access token has expired or is not yet valid.', { 'WWW-Authenticate': 'Bearer realm="", error="invalid_token"' });
  if (status === 403) return INSUFFICIENT();
  if (status === 404) return graphError(404, 'Request_ResourceNotFound', 'Resource does not exist or one of its queried reference-property objects are not present.');
  // "503 Service Unavailable … may include a Retry-After header" (Graph throttling guidance).
  if (status === 503) return graphError(503, 'serviceNotAvailable', 'The service is temporarily unavailable. Please retry after the Retry-After period.', { 'Retry-After': '1' });
  if (status >= 500) return graphError(status, 'generalException', 'An unexpected error occurred.');
  return graphError(status, 'BadRequest', 'Bad request.');
}

/** The pacing bucket a request counts against: Graph throttles per app and tenant, per service. */
export function graphBucketOf(path: string): string {
  if (TOKEN_PATH.test(path)) return 'token';
  const match = GRAPH_PATH.exec(path);
  return match?.[2]?.split('/').filter(Boolean)[0] ?? 'graph';
}

interface Collection {
  total: number;
  item(index: number): Record<string, unknown>;
}

interface Route {
  pattern: RegExp;
  /** Application permissions any one of which allows the call. */
  permissions: readonly string[];
  intune?: boolean;
  handle(req: SimRequest, params: string[], token: GraphAccessToken, version: string): SimResponse;
}

/** Graph's default property set for users: accountEnabled, userType, createdDateTime and signInActivity need $select. */
const USER_DEFAULT_PROPERTIES = ['id', 'displayName', 'mail', 'userPrincipalName', 'businessPhones', 'givenName', 'jobTitle', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname'];

export function graphApi(state: GraphApiState): VendorBehaviour {
  const { tenant } = state;

  /** `$select`: the listed properties (and id); an unknown property is Graph's 400. */
  function select(req: SimRequest, resource: Record<string, unknown>, defaults?: readonly string[]): Record<string, unknown> {
    const raw = req.query.get('$select');
    const wanted = raw ? raw.split(',').map((s) => s.trim()).filter(Boolean) : defaults;
    if (!wanted) return resource;
    const out: Record<string, unknown> = {};
    if ('@odata.type' in resource) out['@odata.type'] = resource['@odata.type'];
    out.id = resource.id;
    for (const name of wanted) {
      if (!(name in resource) && !['businessPhones', 'givenName', 'jobTitle', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname'].includes(name)) {
        throw new BadQuery(graphError(400, 'BadRequest', `Could not find a property named '${name}' on type 'microsoft.graph.${typeNameOf(req.path)}'.`));
      }
      out[name] = resource[name] ?? null;
    }
    for (const expanded of ['principal', 'assignments']) if (expanded in resource) out[expanded] = resource[expanded];
    return out;
  }

  /** A server-paged collection: $top (default, max), $skiptoken = base64url offset, @odata.nextLink absolute. */
  function list(req: SimRequest, version: string, collection: Collection, project: (resource: Record<string, unknown>) => Record<string, unknown>): SimResponse {
    const rawTop = req.query.get('$top');
    const top = rawTop === null ? state.defaultPageSize : Number(rawTop);
    if (!Number.isInteger(top) || top < 1 || top > state.maxPageSize) {
      return graphError(400, 'Request_UnsupportedQuery', `Invalid page size specified: '${rawTop}'. Must be between 1 and ${state.maxPageSize} inclusive.`);
    }
    let offset = 0;
    const skiptoken = req.query.get('$skiptoken');
    if (skiptoken !== null) {
      const decoded = /^o(\d+)$/.exec(Buffer.from(skiptoken, 'base64url').toString('utf8'));
      if (!decoded) return graphError(400, 'Directory_ExpiredPageToken', 'The specified page token value has expired and can no longer be included in your request.');
      offset = Number(decoded[1]);
    }
    const value: Record<string, unknown>[] = [];
    try {
      for (let i = offset; i < Math.min(collection.total, offset + top); i++) value.push(project(collection.item(i)));
    } catch (err) {
      if (err instanceof BadQuery) return err.response;
      throw err;
    }
    const body: Record<string, unknown> = { '@odata.context': `${req.origin}/${version}/$metadata#${contextOf(req.path)}`, value };
    if (offset + top < collection.total) {
      const next = new URLSearchParams(req.query);
      next.delete('$skiptoken');
      next.set('$top', String(top));
      next.set('$skiptoken', Buffer.from(`o${offset + top}`).toString('base64url'));
      body['@odata.nextLink'] = `${req.origin}/${version}${req.path.replace(GRAPH_PATH, '$2')}?${decodeOData(next.toString())}`;
    }
    return jsonResponse(200, body, { 'OData-Version': '4.0' });
  }

  const users: Collection = { total: tenant.users.length, item: (i) => tenant.userResource(tenant.users[i]!) };
  const registrations: Collection = { total: tenant.users.length, item: (i) => tenant.registrationResource(tenant.users[i]!) };

  const routes: Route[] = [
    {
      pattern: /^\/users$/, permissions: ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
      handle: (req, _p, token, version) => {
        const selected = (req.query.get('$select') ?? '').split(',').map((s) => s.trim());
        if (selected.includes('signInActivity')) {
          // signInActivity: "requires AuditLog.Read.All … and a Microsoft Entra ID P1 or P2 license".
          if (!token.permissions.has('AuditLog.Read.All')) return INSUFFICIENT();
          if (!state.licences.entraPremium) return NON_PREMIUM();
        }
        return list(req, version, users, (u) => {
          if (!selected.includes('signInActivity')) delete u.signInActivity;
          return select(req, u, USER_DEFAULT_PROPERTIES);
        });
      },
    },
    {
      pattern: /^\/reports\/authenticationMethods\/userRegistrationDetails$/, permissions: ['AuditLog.Read.All', 'UserAuthenticationMethod.Read.All'],
      handle: (req, _p, _t, version) => (state.licences.entraPremium ? list(req, version, registrations, (r) => select(req, r)) : NON_PREMIUM()),
    },
    {
      pattern: /^\/reports\/authenticationMethods\/userRegistrationDetails\/([^/]+)$/, permissions: ['AuditLog.Read.All', 'UserAuthenticationMethod.Read.All'],
      handle: (_req, [id]) => {
        if (!state.licences.entraPremium) return NON_PREMIUM();
        const user = tenant.usersById.get(decodeURIComponent(id!));
        return user ? jsonResponse(200, tenant.registrationResource(user)) : graphErrorForStatus(404);
      },
    },
    {
      pattern: /^\/roleManagement\/directory\/roleDefinitions$/, permissions: ['RoleManagement.Read.Directory', 'RoleManagement.Read.All', 'Directory.Read.All'],
      handle: (req, _p, _t, version) => list(req, version, { total: BUILT_IN_ROLES.length, item: (i) => tenant.roleDefinitionResource(BUILT_IN_ROLES[i]!) }, (r) => select(req, r)),
    },
    {
      pattern: /^\/roleManagement\/directory\/roleAssignments$/, permissions: ['RoleManagement.Read.Directory', 'RoleManagement.Read.All', 'Directory.Read.All'],
      handle: (req, _p, _t, version) => {
        const expand = req.query.get('$expand');
        if (expand !== null && expand !== 'principal') return graphError(400, 'BadRequest', `Expand '${expand}' is not supported here; use $expand=principal.`);
        return list(req, version, { total: tenant.roleAssignments.length, item: (i) => tenant.roleAssignmentResource(tenant.roleAssignments[i]!, expand === 'principal') }, (r) => select(req, r));
      },
    },
    {
      pattern: /^\/identity\/conditionalAccess\/policies$/, permissions: ['Policy.Read.All', 'Policy.Read.ConditionalAccess'],
      handle: (req, _p, _t, version) => {
        if (!state.licences.entraPremium) return NON_PREMIUM();
        const policies = tenant.conditionalAccessPolicies();
        return list(req, version, { total: policies.length, item: (i) => policies[i]! }, (r) => select(req, r));
      },
    },
    {
      pattern: /^\/policies\/identitySecurityDefaultsEnforcementPolicy$/, permissions: ['Policy.Read.All'],
      handle: (req) => jsonResponse(200, { '@odata.context': `${req.origin}/v1.0/$metadata#policies/identitySecurityDefaultsEnforcementPolicy/$entity`, ...tenant.securityDefaultsResource() }),
    },
    {
      pattern: /^\/deviceManagement\/managedDevices$/, permissions: ['DeviceManagementManagedDevices.Read.All', 'DeviceManagementManagedDevices.ReadWrite.All'], intune: true,
      handle: (req, _p, _t, version) => list(req, version, { total: tenant.devices.length, item: (i) => tenant.deviceResource(tenant.devices[i]!) }, (r) => select(req, r)),
    },
    {
      pattern: /^\/deviceManagement\/deviceCompliancePolicies$/, permissions: ['DeviceManagementConfiguration.Read.All', 'DeviceManagementConfiguration.ReadWrite.All'], intune: true,
      handle: (req, _p, _t, version) => {
        const expand = req.query.get('$expand');
        const policies = tenant.compliancePolicies().map((p) => {
          if (expand !== 'assignments') delete (p as Record<string, unknown>).assignments;
          return p;
        });
        return list(req, version, { total: policies.length, item: (i) => policies[i]! }, (r) => select(req, r));
      },
    },
  ];

  async function handle(req: SimRequest): Promise<SimResponse> {
    const tokenMatch = TOKEN_PATH.exec(req.path);
    if (tokenMatch) return state.issuer.token(req, decodeURIComponent(tokenMatch[1]!));
    const match = GRAPH_PATH.exec(req.path);
    if (!match) return graphError(404, 'UnknownError', '');
    const [, version, path] = match;
    const authorization = authorizationOf(req);
    const token = authorization?.scheme.toLowerCase() === 'bearer' ? state.issuer.accessToken(authorization.credentials) : undefined;
    if (!authorization) return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    if (!token) return graphError(401, 'InvalidAuthenticationToken', 'IDX14100: JWT is not well formed.');
    if (state.expireTokensAfter && --state.expireTokensAfter.remaining < 0) {
      state.expireTokensAfter = null;
      state.issuer.expireAll();
    }
    if (token.expiresAtMs <= req.receivedAtMs) return graphErrorForStatus(401);
    if (req.method !== 'GET') return graphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
    for (const route of routes) {
      const params = route.pattern.exec(path!);
      if (!params) continue;
      if (!route.permissions.some((p) => token.permissions.has(p))) {
        return route.intune
          ? graphError(403, 'Forbidden', `Application is not authorized to perform this operation. Application must have one of the following scopes: ${route.permissions.join(', ')}`)
          : INSUFFICIENT();
      }
      if (route.intune && !state.licences.intune) return graphError(403, 'Forbidden', 'The tenant does not have a valid Intune license.');
      return route.handle(req, params.slice(1), token, version!);
    }
    return graphError(400, 'BadRequest', `Resource not found for the segment '${path!.split('/')[1]}'.`);
  }

  return {
    bucketOf: (req) => graphBucketOf(req.path),
    handle,
    errorResponse: (status) => graphErrorForStatus(status),
    rateLimitedResponse: (window: RateWindow, req) =>
      graphError(429, 'TooManyRequests', 'Too many requests.', { 'Retry-After': String(retryAfterSeconds(window.resetAtMs, req.receivedAtMs)) }),
  };
}

/** A query option Graph refuses, carrying its answer. */
class BadQuery extends Error {
  constructor(readonly response: SimResponse) {
    super('bad query');
  }
}

function typeNameOf(path: string): string {
  if (path.includes('userRegistrationDetails')) return 'userRegistrationDetails';
  if (path.includes('managedDevices')) return 'managedDevice';
  if (path.endsWith('/users')) return 'user';
  return 'entity';
}

function contextOf(path: string): string {
  return path.replace(GRAPH_PATH, '$2').replace(/^\//, '');
}

/** Graph's links keep `$` and `,` readable. */
function decodeOData(query: string): string {
  return query.replace(/%24/g, '$').replace(/%2C/gi, ',');
}
