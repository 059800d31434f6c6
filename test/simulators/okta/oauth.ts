// OAuth 2.0 for Okta API service apps: the org authorization server's
// `POST /oauth2/v1/token` with grant_type=client_credentials and a
// private_key_jwt client assertion (RFC 7523), as Okta documents for
// "Implement OAuth for Okta with a service app". The assertion must be
// RS256-signed by the app's registered key, with iss = sub = client_id,
// aud = the token endpoint URL, an exp no more than one hour ahead, and a jti
// that can be used only once.

import { createPublicKey, KeyObject, randomBytes, verify, type JsonWebKey } from 'node:crypto';
import { jsonResponse, mediaType, type SimRequest, type SimResponse } from '../common/server.js';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const TOKEN_PATH = '/oauth2/v1/token';
const MAX_ASSERTION_LIFETIME_S = 3600;

export interface OktaServiceApp {
  clientId: string;
  /** The public half of the app's key pair: PEM, JWK, or a KeyObject. */
  publicKey: string | JsonWebKey | KeyObject;
  /** Okta API scopes granted to the app, e.g. `okta.users.read`. */
  scopes: readonly string[];
}

export interface OktaAccessToken {
  clientId: string;
  scopes: ReadonlySet<string>;
  expiresAtMs: number;
}

export class OktaAuthorizationServer {
  /** Access tokens issued so far: lets a test assert that a connector reuses its token. */
  tokensIssued = 0;
  private readonly apps = new Map<string, { app: OktaServiceApp; key: KeyObject }>();
  private readonly tokens = new Map<string, OktaAccessToken>();
  private readonly usedAssertionIds = new Set<string>();

  constructor(
    apps: readonly OktaServiceApp[],
    private readonly accessTokenTtlSeconds: number,
    private readonly clock: () => number,
  ) {
    for (const app of apps) this.apps.set(app.clientId, { app, key: toPublicKey(app.publicKey) });
  }

  /** The token behind a Bearer credential, expired or not; undefined when never issued. */
  accessToken(token: string): OktaAccessToken | undefined {
    return this.tokens.get(token);
  }

  async token(req: SimRequest): Promise<SimResponse> {
    if (mediaType(req) !== 'application/x-www-form-urlencoded') return oauthError(400, 'invalid_request', 'The request body must be application/x-www-form-urlencoded.');
    const form = new URLSearchParams(await req.text());
    if (form.get('grant_type') !== 'client_credentials') {
      return oauthError(400, 'unsupported_grant_type', `The authorization grant type is not supported by the authorization server. Configured grant types: [client_credentials].`);
    }
    if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE) return oauthError(401, 'invalid_client', `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}.`);
    const requested = (form.get('scope') ?? '').split(' ').filter(Boolean);
    if (requested.length === 0) {
      return oauthError(400, 'invalid_scope', "The authorization server resource does not have any configured default scopes, 'scope' must be provided.");
    }

    const nowMs = this.clock();
    const verdict = this.verifyAssertion(form.get('client_assertion') ?? '', form.get('client_id'), `${req.origin}${TOKEN_PATH}`, nowMs);
    if (typeof verdict === 'string') return oauthError(401, 'invalid_client', verdict);

    const notGranted = requested.filter((scope) => !verdict.scopes.includes(scope));
    if (notGranted.length > 0) return oauthError(400, 'invalid_scope', `The following scopes are not allowed: ${notGranted.join(', ')}`);

    const accessToken = randomBytes(32).toString('base64url');
    this.tokens.set(accessToken, { clientId: verdict.clientId, scopes: new Set(requested), expiresAtMs: nowMs + this.accessTokenTtlSeconds * 1000 });
    this.tokensIssued += 1;
    return jsonResponse(
      200,
      { token_type: 'Bearer', expires_in: this.accessTokenTtlSeconds, access_token: accessToken, scope: requested.join(' ') },
      { 'Cache-Control': 'no-store', Pragma: 'no-cache' },
    );
  }

  /** The app the assertion authenticates, or why it does not. */
  private verifyAssertion(assertion: string, formClientId: string | null, tokenUrl: string, nowMs: number): OktaServiceApp | string {
    const parts = assertion.split('.');
    const [encodedHeader, encodedClaims, encodedSignature] = parts;
    if (parts.length !== 3 || !encodedHeader || !encodedClaims || encodedSignature === undefined) return 'The client_assertion token is malformed.';
    const header = decodeJson(encodedHeader);
    const claims = decodeJson(encodedClaims);
    if (!header || !claims) return 'The client_assertion token is malformed.';
    if (header['alg'] !== 'RS256') return `The client_assertion token has an unsupported signing algorithm: ${String(header['alg'])}.`;

    const clientId = claims['iss'];
    if (typeof clientId !== 'string' || claims['sub'] !== clientId) return "The client_assertion token's iss and sub must both be the client_id.";
    if (formClientId !== null && formClientId !== clientId) return 'The client_id does not match the client_assertion issuer.';
    const registered = this.apps.get(clientId);
    if (!registered) return 'The client_assertion token was issued by an unknown client.';

    const signed = verify('sha256', Buffer.from(`${encodedHeader}.${encodedClaims}`), registered.key, Buffer.from(encodedSignature, 'base64url'));
    if (!signed) return 'The client_assertion signature is invalid.';

    if (claims['aud'] !== tokenUrl) return 'The audience claim for client_assertion must be the endpoint invoked for the request.';
    const exp = claims['exp'];
    const nowS = nowMs / 1000;
    if (typeof exp !== 'number') return 'The client_assertion token must have an exp claim.';
    if (exp <= nowS) return 'The client_assertion token is expired.';
    if (exp > nowS + MAX_ASSERTION_LIFETIME_S) return 'The client_assertion token has an expiration too far into the future.';
    const jti = claims['jti'];
    if (typeof jti === 'string') {
      if (this.usedAssertionIds.has(jti)) return 'The client_assertion token has already been used.';
      this.usedAssertionIds.add(jti);
    }
    return registered.app;
  }
}

function toPublicKey(key: OktaServiceApp['publicKey']): KeyObject {
  if (key instanceof KeyObject) return key;
  return typeof key === 'string' ? createPublicKey(key) : createPublicKey({ key, format: 'jwk' });
}

function decodeJson(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function oauthError(status: number, error: string, description: string): SimResponse {
  return jsonResponse(status, { error, error_description: description }, { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
}
