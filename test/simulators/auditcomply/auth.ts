// AuditComply authentication, from the seed:
//   jwtAuth — "Token-based authentication with required prefix "JWT"",
//   header parameter name: Authorization.
//   api_token_auth_create — "API View that receives a POST with a user's
//   username and password. Returns a JSON Web Token that can be used for
//   authenticated requests."
//   api_token_refresh_create — "API View that returns a refreshed token (with
//   new expiration) based on existing token. If 'orig_iat' field (original
//   issued-at-time) is found, will first check if it's within expiration
//   window, then copy it to the new token".
// The seed's sample response of api-token-auth is `{"username": "string"}`,
// which is a documentation slip: django-rest-framework-jwt (whose view
// docstrings the seed quotes) answers `{"token": "<jwt>"}`, as does the
// seed's own refresh sample. Messages below are that library's and DRF's.

import { randomBytes } from 'node:crypto';
import { authorizationOf, jsonResponse, mediaType, type SimRequest, type SimResponse } from '../common/server.js';
import { drfDetail } from './drf.js';
import { decodeJwt, encodeJwt, type DrfJwtPayload } from './jwt.js';

export interface AuditComplyApiUser {
  username: string;
  password: string;
  email?: string;
}

/** The user a request authenticated as, or the 401 to answer. */
export type Authentication = { user: AuditComplyApiUser } | { response: SimResponse };

const CHALLENGE = { 'WWW-Authenticate': 'JWT realm="api"' };

export class AuditComplyAuth {
  /** Tokens issued by api-token-auth and api-token-refresh together. */
  tokensIssued = 0;
  private readonly secret = randomBytes(32);

  constructor(
    private readonly users: readonly AuditComplyApiUser[],
    /** JWT_EXPIRATION_DELTA */
    private readonly tokenTtlSeconds: number,
    /** JWT_REFRESH_EXPIRATION_DELTA: how long after orig_iat a chain may still be refreshed. */
    private readonly refreshWindowSeconds: number,
    private readonly clock: () => number,
  ) {}

  /** POST api-token-auth/ {username, password} → {token}. */
  async obtain(req: SimRequest): Promise<SimResponse> {
    const body = await readFields(req);
    if ('error' in body) return body.error;
    const fields = body.fields;
    const errors = requireFields(fields, ['username', 'password']);
    if (errors) return jsonResponse(400, errors);
    const index = this.users.findIndex((u) => u.username === fields['username'] && u.password === fields['password']);
    if (index < 0) return jsonResponse(400, { non_field_errors: ['Unable to log in with provided credentials.'] });
    const nowS = Math.floor(this.clock() / 1000);
    return jsonResponse(200, { token: this.issue(index, nowS) });
  }

  /** POST api-token-refresh/ {token} → {token}: the token must still be valid and its chain within the refresh window. */
  async refresh(req: SimRequest): Promise<SimResponse> {
    const body = await readFields(req);
    if ('error' in body) return body.error;
    const fields = body.fields;
    const errors = requireFields(fields, ['token']);
    if (errors) return jsonResponse(400, errors);
    const decoded = decodeJwt(String(fields['token']), this.secret, this.clock());
    if (!decoded.ok) return jsonResponse(400, { non_field_errors: [decoded.reason === 'expired' ? 'Signature has expired.' : 'Error decoding signature.'] });
    const index = this.users.findIndex((u) => u.username === decoded.payload.username);
    if (index < 0) return jsonResponse(400, { non_field_errors: ["User doesn't exist."] });
    const nowS = Math.floor(this.clock() / 1000);
    if (nowS > decoded.payload.orig_iat + this.refreshWindowSeconds) return jsonResponse(400, { non_field_errors: ['Refresh has expired.'] });
    return jsonResponse(200, { token: this.issue(index, decoded.payload.orig_iat) });
  }

  /** JSONWebTokenAuthentication: `Authorization: JWT <token>`. */
  authenticate(req: SimRequest): Authentication {
    const authorization = authorizationOf(req);
    // Another scheme (or none) means "not this authenticator": the permission check then answers 401.
    if (!authorization || authorization.scheme.toLowerCase() !== 'jwt') return this.reject('Authentication credentials were not provided.');
    if (authorization.credentials === '') return this.reject('Invalid Authorization header. No credentials provided.');
    if (authorization.credentials.includes(' ')) return this.reject('Invalid Authorization header. Credentials string should not contain spaces.');
    const decoded = decodeJwt(authorization.credentials, this.secret, this.clock());
    if (!decoded.ok) return this.reject(decoded.reason === 'expired' ? 'Signature has expired.' : 'Error decoding signature.');
    const user = this.users.find((u) => u.username === decoded.payload.username);
    return user ? { user } : this.reject('Invalid signature.');
  }

  private issue(userIndex: number, origIat: number): string {
    const user = this.users[userIndex] as AuditComplyApiUser;
    const payload: DrfJwtPayload = {
      user_id: userIndex + 1,
      username: user.username,
      email: user.email ?? '',
      exp: Math.floor(this.clock() / 1000) + this.tokenTtlSeconds,
      orig_iat: origIat,
    };
    this.tokensIssued += 1;
    return encodeJwt(payload, this.secret);
  }

  private reject(detail: string): Authentication {
    return { response: drfDetail(401, detail, CHALLENGE) };
  }
}

/** DRF's parsers: JSON and form bodies; anything else is a 415. */
async function readFields(req: SimRequest): Promise<{ fields: Record<string, unknown> } | { error: SimResponse }> {
  const type = mediaType(req);
  const body = await req.text();
  if (type === 'application/x-www-form-urlencoded') return { fields: Object.fromEntries(new URLSearchParams(body)) };
  if (type !== 'application/json') return { error: drfDetail(415, `Unsupported media type "${type}" in request.`) };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return { error: drfDetail(400, `JSON parse error - ${error instanceof Error ? error.message : String(error)}`) };
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { fields: value as Record<string, unknown> };
  const datatype = Array.isArray(value) ? 'list' : value === null ? 'NoneType' : typeof value;
  return { error: jsonResponse(400, { non_field_errors: [`Invalid data. Expected a dictionary, but got ${datatype}.`] }) };
}

/** A serializer's required CharFields: DRF reports every missing or blank one. */
function requireFields(fields: Record<string, unknown>, names: readonly string[]): Record<string, string[]> | undefined {
  const errors: Record<string, string[]> = {};
  for (const name of names) {
    const value = fields[name];
    if (value === undefined || value === null) errors[name] = ['This field is required.'];
    else if (String(value) === '') errors[name] = ['This field may not be blank.'];
  }
  return Object.keys(errors).length > 0 ? errors : undefined;
}
