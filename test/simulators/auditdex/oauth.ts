// AUDITDEX authentication, from the seed: "AUDITDEX uses OAuth 2.0 client
// credentials flow for API authentication."
//   POST https://api.augixsys.com/oauth/token
//   Content-Type: application/x-www-form-urlencoded
//   grant_type=client_credentials&client_id=…&client_secret=…
//   &scope=evidence:write controls:read reports:read
// answers
//   { "access_token": "eyJhbGciOiJSUzI1NiIs...", "token_type": "Bearer",
//     "expires_in": 3600, "scope": "evidence:write controls:read reports:read" }
// and "Tokens expire after 60 minutes." The API then takes
// `Authorization: Bearer {token}`; "401 (invalid token), 403 (insufficient
// scope)".
//
// The token endpoint's errors are RFC 7807 problems too ("All errors follow
// RFC 7807"), carrying OAuth's `error` code (RFC 6749 §5.2) as an extension
// member so that OAuth client libraries still recognise them.

import { randomBytes } from 'node:crypto';
import { authorizationOf, jsonResponse, mediaType, type SimRequest, type SimResponse } from '../common/server.js';
import { PROBLEMS, problem } from './problem.js';

export const TOKEN_PATH = '/oauth/token';
/** The seed's sample scope string. */
export const AUDITDEX_SCOPES = ['evidence:write', 'controls:read', 'reports:read'] as const;

export interface AuditdexClient {
  clientId: string;
  clientSecret: string;
  /** Scopes the client may be granted (default all of the seed's). */
  scopes?: readonly string[];
}

export interface AuditdexAccessToken {
  readonly clientId: string;
  readonly scopes: ReadonlySet<string>;
  readonly expiresAtMs: number;
}

export class AuditdexTokenIssuer {
  /** Access tokens issued so far: lets a test assert that a connector reuses its token. */
  tokensIssued = 0;
  private readonly tokens = new Map<string, AuditdexAccessToken>();

  constructor(
    private readonly clients: readonly AuditdexClient[],
    /** "Tokens expire after 60 minutes" (3600). */
    private readonly ttlSeconds: number,
    private readonly clock: () => number,
  ) {}

  async token(req: SimRequest): Promise<SimResponse> {
    if (mediaType(req) !== 'application/x-www-form-urlencoded') return oauthProblem(req, 400, 'invalid_request', 'The body must be application/x-www-form-urlencoded.');
    const form = new URLSearchParams(await req.text());
    if (form.get('grant_type') !== 'client_credentials') return oauthProblem(req, 400, 'unsupported_grant_type', 'Only grant_type=client_credentials is supported.');
    const client = this.clients.find((c) => c.clientId === form.get('client_id') && c.clientSecret === form.get('client_secret'));
    if (!client) return oauthProblem(req, 401, 'invalid_client', 'Unknown client_id or wrong client_secret.');
    const allowed = client.scopes ?? AUDITDEX_SCOPES;
    const requested = (form.get('scope') ?? '').split(' ').filter(Boolean);
    const refused = requested.filter((scope) => !allowed.includes(scope));
    if (refused.length > 0) return oauthProblem(req, 400, 'invalid_scope', `Scope not granted to this client: ${refused.join(' ')}.`);
    const scopes = requested.length > 0 ? requested : [...allowed];

    const nowMs = this.clock();
    const expiresAtMs = nowMs + this.ttlSeconds * 1000;
    const accessToken = jwtShapedToken({ sub: client.clientId, scope: scopes.join(' '), iat: Math.floor(nowMs / 1000), exp: Math.floor(expiresAtMs / 1000), jti: randomBytes(12).toString('hex') });
    this.tokens.set(accessToken, { clientId: client.clientId, scopes: new Set(scopes), expiresAtMs });
    this.tokensIssued += 1;
    // RFC 6749 §5.1: token responses are not to be cached.
    return jsonResponse(200, { access_token: accessToken, token_type: 'Bearer', expires_in: this.ttlSeconds, scope: scopes.join(' ') }, { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  }

  /** The token behind `Authorization: Bearer …`, holding `scope` if one is named; or the 401/403 to answer. */
  authenticate(req: SimRequest, scope?: string): { token: AuditdexAccessToken } | { response: SimResponse } {
    const authorization = authorizationOf(req);
    if (authorization?.scheme.toLowerCase() !== 'bearer' || authorization.credentials === '') {
      return { response: problem(PROBLEMS.invalidToken, 'A bearer token is required.', req, {}, { 'WWW-Authenticate': 'Bearer realm="auditdex"' }) };
    }
    const token = this.tokens.get(authorization.credentials);
    if (!token || this.clock() >= token.expiresAtMs) {
      const detail = token ? 'The access token has expired.' : 'The access token is invalid.';
      return { response: problem(PROBLEMS.invalidToken, detail, req, {}, { 'WWW-Authenticate': `Bearer realm="auditdex", error="invalid_token", error_description="${detail}"` }) };
    }
    if (scope !== undefined && !token.scopes.has(scope)) {
      const detail = `The access token lacks the ${scope} scope.`;
      return { response: problem(PROBLEMS.insufficientScope, detail, req, {}, { 'WWW-Authenticate': `Bearer realm="auditdex", error="insufficient_scope", scope="${scope}"` }) };
    }
    return { token };
  }
}

/** `invalid_client` → type …/errors/invalid-client, title "Invalid Client", member `error: "invalid_client"`. */
function oauthProblem(req: SimRequest, status: 400 | 401, error: string, detail: string): SimResponse {
  const words = error.split('_');
  const title = words.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join(' ');
  return problem({ status, type: words.join('-'), title }, detail, req, { error });
}

/**
 * A token shaped like the seed's ("eyJhbGciOiJSUzI1NiIs…" is the start of an
 * RS256 JWT header). The simulator knows its tokens by lookup, so the
 * "signature" is random bytes: clients are to treat the token as opaque.
 */
function jwtShapedToken(claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(claims)}.${randomBytes(256).toString('base64url')}`;
}
