// The Microsoft identity platform's token endpoint for the OAuth 2.0 client
// credentials grant, as its public docs describe it:
// `POST /{tenant}/oauth2/v2.0/token` with a form-encoded client_id,
// scope=<resource>/.default, grant_type=client_credentials and either a
// client_secret or a certificate credential (client_assertion_type
// urn:ietf:params:oauth:client-assertion-type:jwt-bearer, client_assertion a
// JWT whose header carries `x5t` — base64url SHA-1 thumbprint, alg RS256 — or
// `x5t#S256` — SHA-256 thumbprint, alg PS256 — and whose claims are
// aud = the token endpoint, iss = sub = the client id, exp, nbf, jti).
// Errors are `{error, error_description: "AADSTS…: …", error_codes, timestamp,
// trace_id, correlation_id}`. Access tokens are opaque here; the granted
// application permissions (the JWT's `roles` claim in Entra) are kept beside
// each token.

import { constants, createPublicKey, KeyObject, randomBytes, randomUUID, verify } from 'node:crypto';
import { jsonResponse, mediaType, type SimRequest, type SimResponse } from '../common/server.js';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface GraphAppCertificate {
  /** The certificate's public key: PEM or a KeyObject. */
  publicKey: string | KeyObject;
  /** Hex SHA-1 thumbprint (as the portal shows it). */
  thumbprintSha1?: string;
  /** Hex SHA-256 thumbprint. */
  thumbprintSha256?: string;
}

export interface GraphApp {
  clientId: string;
  clientSecret?: string;
  certificates?: readonly GraphAppCertificate[];
  /** Application permissions granted with admin consent, e.g. `User.Read.All`. */
  permissions: readonly string[];
}

export interface GraphAccessToken {
  clientId: string;
  permissions: ReadonlySet<string>;
  expiresAtMs: number;
}

export class GraphTokenIssuer {
  tokensIssued = 0;
  private readonly apps = new Map<string, { app: GraphApp; keys: { key: KeyObject; sha1?: string; sha256?: string }[] }>();
  private readonly tokens = new Map<string, GraphAccessToken>();
  private readonly usedJti = new Set<string>();

  constructor(apps: readonly GraphApp[], readonly tenantId: string, readonly tenantDomain: string, private readonly ttlSeconds: number, private readonly clock: () => number) {
    for (const app of apps) {
      this.apps.set(app.clientId, {
        app,
        keys: (app.certificates ?? []).map((c) => ({
          key: c.publicKey instanceof KeyObject ? c.publicKey : createPublicKey(c.publicKey),
          sha1: c.thumbprintSha1 && hexToB64url(c.thumbprintSha1),
          sha256: c.thumbprintSha256 && hexToB64url(c.thumbprintSha256),
        })),
      });
    }
  }

  accessToken(token: string): GraphAccessToken | undefined {
    return this.tokens.get(token);
  }

  /** Makes every token issued so far expire now (a token that runs out mid-collection). */
  expireAll(): void {
    const now = this.clock();
    for (const token of this.tokens.values()) token.expiresAtMs = Math.min(token.expiresAtMs, now);
  }

  async token(req: SimRequest, tenant: string): Promise<SimResponse> {
    if (req.method !== 'POST') return aadError(405, 'invalid_request', 900561, 'The endpoint only accepts POST requests.');
    if (tenant !== this.tenantId && tenant !== this.tenantDomain) {
      return aadError(400, 'invalid_request', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    }
    if (mediaType(req) !== 'application/x-www-form-urlencoded') return aadError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
    const form = new URLSearchParams(await req.text());
    if (form.get('grant_type') !== 'client_credentials') return aadError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    const clientId = form.get('client_id') ?? '';
    const registered = this.apps.get(clientId);
    if (!registered) {
      return aadError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${this.tenantDomain}'. This can happen if the application has not been installed by the administrator of the tenant.`);
    }
    const scope = form.get('scope') ?? '';
    if (!/\/\.default$/.test(scope) || !(scope === `${req.origin}/.default` || scope === 'https://graph.microsoft.com/.default')) {
      return aadError(400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
    }
    const tokenUrl = `${req.origin}/${tenant}/oauth2/v2.0/token`;
    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    if (secret !== null) {
      if (!registered.app.clientSecret || secret !== registered.app.clientSecret) {
        return aadError(401, 'invalid_client', 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '" + clientId + "'.");
      }
    } else if (assertion !== null) {
      if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE) return aadError(400, 'invalid_request', 50027, 'Invalid client_assertion_type.');
      const problem = this.checkAssertion(assertion, clientId, tokenUrl, registered.keys);
      if (problem) return aadError(401, 'invalid_client', problem.code, problem.message);
    } else {
      return aadError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    const accessToken = randomBytes(32).toString('base64url');
    this.tokens.set(accessToken, { clientId, permissions: new Set(registered.app.permissions), expiresAtMs: this.clock() + this.ttlSeconds * 1000 });
    this.tokensIssued += 1;
    return jsonResponse(200, { token_type: 'Bearer', expires_in: this.ttlSeconds, ext_expires_in: this.ttlSeconds, access_token: accessToken }, { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' });
  }

  private checkAssertion(assertion: string, clientId: string, tokenUrl: string, keys: { key: KeyObject; sha1?: string; sha256?: string }[]): { code: number; message: string } | null {
    const [h, c, s] = assertion.split('.');
    const header = decode(h);
    const claims = decode(c);
    if (!header || !claims || s === undefined) return { code: 50012, message: 'The client assertion is not a valid JWT.' };
    const byS256 = typeof header['x5t#S256'] === 'string';
    const thumb = byS256 ? header['x5t#S256'] : header['x5t'];
    if (typeof thumb !== 'string') return { code: 700027, message: 'Client assertion failed signature validation: the header names no certificate (x5t or x5t#S256).' };
    if (header.alg !== (byS256 ? 'PS256' : 'RS256')) return { code: 700027, message: `Client assertion failed signature validation: alg ${String(header.alg)} does not go with ${byS256 ? 'x5t#S256 (PS256)' : 'x5t (RS256)'}.` };
    const key = keys.find((k) => (byS256 ? k.sha256 : k.sha1) === thumb);
    if (!key) return { code: 700027, message: `Client assertion failed signature validation. The key was not found: no certificate with thumbprint ${thumb} is registered for app '${clientId}'.` };
    const data = Buffer.from(`${h}.${c}`);
    const signature = Buffer.from(s, 'base64url');
    const ok = byS256
      ? verify('sha256', data, { key: key.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature)
      : verify('sha256', data, key.key, signature);
    if (!ok) return { code: 700027, message: 'Client assertion contains an invalid signature.' };
    if (claims.iss !== clientId || claims.sub !== clientId) return { code: 700021, message: 'Client assertion application identifier doesn\'t match \'client_id\' parameter.' };
    if (claims.aud !== tokenUrl) return { code: 700212, message: `No matching federated identity record found for presented assertion audience '${String(claims.aud)}'.` };
    const now = this.clock() / 1000;
    if (typeof claims.exp !== 'number' || claims.exp < now || (typeof claims.nbf === 'number' && claims.nbf > now + 300)) {
      return { code: 700024, message: 'Client assertion is not within its valid time range.' };
    }
    if (typeof claims.jti !== 'string') return { code: 50013, message: 'The client assertion has no jti.' };
    if (this.usedJti.has(claims.jti)) return { code: 50013, message: 'The client assertion has already been used (jti replay).' };
    this.usedJti.add(claims.jti);
    return null;
  }
}

function hexToB64url(hex: string): string {
  return Buffer.from(hex.replace(/:/g, ''), 'hex').toString('base64url');
}

function decode(segment: string | undefined): Record<string, unknown> | undefined {
  if (!segment) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function aadError(status: number, error: string, code: number, message: string): SimResponse {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return jsonResponse(status, {
    error,
    error_description: `AADSTS${code}: ${message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [code], timestamp, trace_id: traceId, correlation_id: correlationId,
  }, { 'Cache-Control': 'no-store, no-cache' });
}
