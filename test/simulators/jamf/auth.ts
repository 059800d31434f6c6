// Jamf Pro API client credentials (Jamf Pro 10.49+): `POST /api/oauth/token`
// with a form-encoded client_id, client_secret and
// grant_type=client_credentials returns a short-lived Bearer access token.
// The lifetime is set per API client in Jamf Pro, so it is an option here.

import { randomBytes } from 'node:crypto';
import { jsonResponse, mediaType, type SimRequest, type SimResponse } from '../common/server.js';

export const JAMF_TOKEN_PATH = '/api/oauth/token';

export interface JamfApiClient {
  clientId: string;
  clientSecret: string;
}

export class JamfTokenIssuer {
  /** Access tokens issued so far: lets a test assert that a connector reuses its token. */
  tokensIssued = 0;
  private readonly tokens = new Map<string, number>();

  constructor(
    private readonly clients: readonly JamfApiClient[],
    private readonly ttlSeconds: number,
    private readonly clock: () => number,
  ) {}

  async token(req: SimRequest): Promise<SimResponse> {
    if (mediaType(req) !== 'application/x-www-form-urlencoded') return jsonResponse(400, { error: 'invalid_request' });
    const form = new URLSearchParams(await req.text());
    if (form.get('grant_type') !== 'client_credentials') return jsonResponse(400, { error: 'unsupported_grant_type' });
    const client = this.clients.find((c) => c.clientId === form.get('client_id') && c.clientSecret === form.get('client_secret'));
    if (!client) return jsonResponse(401, { error: 'invalid_client' });
    const accessToken = randomBytes(32).toString('base64url');
    this.tokens.set(accessToken, this.clock() + this.ttlSeconds * 1000);
    this.tokensIssued += 1;
    return jsonResponse(200, { access_token: accessToken, scope: 'api-role:1', token_type: 'Bearer', expires_in: this.ttlSeconds });
  }

  /** Whether a Bearer credential is a token this server issued that has not expired. */
  isValid(token: string): boolean {
    const expiresAtMs = this.tokens.get(token);
    return expiresAtMs !== undefined && this.clock() < expiresAtMs;
  }
}
