// AgentAudit's two authentication methods, from the seed's "Authentication"
// table: "API Key | X-API-Key: aa_... | Agent-to-service logging from SDKs or
// direct HTTP" and "JWT Bearer | Authorization: Bearer <token> | Dashboard
// access, profile & billing management", the JWT obtained with
// `POST /api/v1/auth/login {email, password}` → `{accessToken,
// organization}`. Tokens here are opaque (the seed only shows "eyJ...") and
// live `jwtTtlSeconds`; the seed gives no lifetime.

import { randomBytes } from 'node:crypto';
import { authorizationOf, mediaType, jsonResponse, type SimRequest, type SimResponse } from '../common/server.js';
import { aaError } from './responses.js';

export interface AgentAuditAccount {
  email: string;
  password: string;
  /** The organization's name in the login response (default "Acme Corp", the seed's). */
  name?: string;
}

/** Which credentials an endpoint takes. */
export type AcceptedAuth = 'api-key' | 'jwt' | 'api-key-or-jwt';

export const ORGANIZATION_ID = 'org_sim';

export class AgentAuditAuth {
  /** Tokens issued by POST /auth/login. */
  tokensIssued = 0;
  private readonly sessions = new Map<string, { email: string; expiresAtMs: number }>();

  constructor(
    private readonly apiKeys: ReadonlySet<string>,
    private readonly accounts: readonly AgentAuditAccount[],
    private readonly jwtTtlSeconds: number,
    private readonly clock: () => number,
  ) {}

  async login(req: SimRequest): Promise<SimResponse> {
    if (mediaType(req) !== 'application/json') return aaError(400, 'Expected a JSON body: {"email", "password"}');
    let body: { email?: unknown; password?: unknown };
    try {
      body = JSON.parse(await req.text()) as typeof body;
    } catch {
      return aaError(400, 'Invalid JSON body');
    }
    if (typeof body.email !== 'string' || typeof body.password !== 'string') return aaError(400, 'email and password are required');
    const account = this.accounts.find((a) => a.email === body.email && a.password === body.password);
    if (!account) return aaError(401, 'Invalid email or password');
    const token = `eyJ${randomBytes(24).toString('base64url')}`;
    this.sessions.set(token, { email: account.email, expiresAtMs: this.clock() + this.jwtTtlSeconds * 1000 });
    this.tokensIssued += 1;
    return jsonResponse(200, { accessToken: token, organization: { id: ORGANIZATION_ID, email: account.email, plan: 'free', name: account.name ?? 'Acme Corp' } });
  }

  /** The 401 to answer, or undefined when the request carries credentials `accepted` allows. */
  check(req: SimRequest, accepted: AcceptedAuth): SimResponse | undefined {
    const key = req.headers['x-api-key'];
    if (accepted !== 'jwt' && key !== undefined) {
      return this.apiKeys.has(String(key)) ? undefined : aaError(401, 'Invalid API key');
    }
    const authorization = authorizationOf(req);
    if (accepted !== 'api-key' && authorization?.scheme.toLowerCase() === 'bearer') {
      const session = this.sessions.get(authorization.credentials);
      if (!session || session.expiresAtMs <= this.clock()) return aaError(401, 'Invalid or expired token');
      return undefined;
    }
    if (accepted === 'api-key') return aaError(401, 'Missing API key: send it in the X-API-Key header');
    if (accepted === 'jwt') return aaError(401, 'Missing token: sign in with POST /api/v1/auth/login and send Authorization: Bearer <token>');
    return aaError(401, 'Missing API key or token');
  }
}
