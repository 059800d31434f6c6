import { ConnectorError, errorForStatus } from '../errors.js';
import type { HttpResponse } from '../http-client.js';
import { pacedRequest } from '../paced-request.js';
import { RateLimitPacer } from '../pacer.js';
import { TokenCache } from '../token-cache.js';
import type { ConnectorContext } from '../types.js';

export const SYSTEM = 'AgentAudit';
/** The seed gives no JWT lifetime; an undecodable token is renewed after this long (and on a 401). */
const ASSUMED_JWT_LIFETIME_S = 15 * 60;

/** Settings a source connection or a destination of type agentaudit may carry. */
export interface AgentAuditConfig {
  base_url: string;
  /** A dashboard account: reads then use its JWT instead of the API key. */
  email?: string;
  /** A registered agent's id, sent as `agentId` on what the hub logs. */
  agent_id?: string;
  page_size?: number;
  max_audit_logs?: number;
  agent_id_filter?: string;
  action_filter?: string;
  include_content?: boolean;
}

/** The API's base: the seed's "Base URL: /api/v1 (same origin) — or https://your-domain.com/api/v1". */
export function apiBaseOf(baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return base.endsWith('/api/v1') ? base : `${base}/api/v1`;
}

/** The seed's error shape: `{"error": "Human-readable message", "status": 400}`. */
export function agentAuditMessage(response: HttpResponse): string | undefined {
  try {
    const body = JSON.parse(response.body.toString('utf8')) as { error?: unknown; message?: unknown };
    const said = body.error ?? body.message;
    return typeof said === 'string' && said ? said : undefined;
  } catch {
    return undefined;
  }
}

function jwtLifetimeSeconds(token: string, nowMs: number): number {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    if (typeof payload.exp === 'number') return Math.max(1, payload.exp - Math.floor(nowMs / 1000));
  } catch {
    // an opaque token: fall through
  }
  return ASSUMED_JWT_LIFETIME_S;
}

/**
 * The request helper for AgentAudit (seed 003). Two credentials, as in the seed's
 * "Authentication" table: the API key (`X-API-Key: aa_...`, "Agent-to-service logging"),
 * always used to write; and, when the connection names a dashboard account, a JWT from
 * `POST /api/v1/auth/login` (`Authorization: Bearer <token>`), used to read — the seed marks
 * audit-log reads "JWT or API Key" and gives no method for alerts, which some deployments may
 * keep for the dashboard.
 */
export class AgentAuditClient {
  readonly apiBase: string;
  private readonly pacer: RateLimitPacer;
  private readonly jwt: TokenCache | null;

  constructor(readonly ctx: ConnectorContext, readonly config: AgentAuditConfig) {
    this.apiBase = apiBaseOf(config.base_url);
    this.pacer = new RateLimitPacer(ctx.sleep, ctx.heartbeat);
    this.jwt = config.email ? new TokenCache(() => this.login(), 60_000) : null;
  }

  private apiKey(): string {
    const key = this.ctx.secrets.api_key;
    if (!key) throw new ConnectorError('bad_config', 'AgentAudit: the connection has no api_key secret.');
    return key;
  }

  private async login(): Promise<{ value: string; expiresInSeconds: number }> {
    const password = this.ctx.secrets.password;
    if (!password) throw new ConnectorError('bad_config', 'AgentAudit: the connection names a dashboard email but has no password secret.');
    const what = 'signing in to the dashboard';
    const response = await this.ctx.http.request(`${this.apiBase}/auth/login`, {
      method: 'POST', system: SYSTEM, what, signal: this.ctx.signal,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ email: this.config.email, password }),
    });
    if (response.status !== 200) throw errorForStatus(SYSTEM, response.status === 400 ? 401 : response.status, what, agentAuditMessage(response));
    const token = response.json<{ accessToken?: unknown }>().accessToken;
    if (typeof token !== 'string' || !token) throw new ConnectorError('bad_response', 'AgentAudit answered the sign-in without an accessToken.', { system: SYSTEM });
    return { value: token, expiresInSeconds: jwtLifetimeSeconds(token, Date.now()) };
  }

  private async readHeaders(): Promise<Record<string, string>> {
    return this.jwt ? { authorization: `Bearer ${await this.jwt.get()}` } : { 'x-api-key': this.apiKey() };
  }

  /** A paced GET (waits out 429s, renews an expired JWT once, classifies other errors). */
  get(path: string, what: string): Promise<HttpResponse> {
    return pacedRequest(this.ctx, {
      system: SYSTEM, what, pacer: this.pacer, bucket: 'api',
      send: async () => this.ctx.http.request(`${this.apiBase}${path}`, {
        system: SYSTEM, what, signal: this.ctx.signal, headers: { ...(await this.readHeaders()), accept: 'application/json' },
      }),
      renewCredentials: this.jwt ? () => this.jwt?.invalidate() : undefined,
      message: agentAuditMessage,
    });
  }

  /** A paced JSON POST with the API key ("Auth: API Key"), for writes that should wait out a 429 in place. */
  post(path: string, what: string, body: unknown): Promise<HttpResponse> {
    return pacedRequest(this.ctx, {
      system: SYSTEM, what, pacer: this.pacer, bucket: 'api',
      send: () => this.postOnce(path, what, body),
      message: agentAuditMessage,
    });
  }

  /** One JSON POST with the API key, its answer returned whatever it is (the destination classifies it). */
  postOnce(path: string, what: string, body: unknown): Promise<HttpResponse> {
    return this.ctx.http.request(`${this.apiBase}${path}`, {
      method: 'POST', system: SYSTEM, what, signal: this.ctx.signal,
      headers: { 'x-api-key': this.apiKey(), 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
  }
}

/**
 * The array in a list answer. The seed does not show list responses; a bare array or one
 * wrapped as `logs`, `alerts`, `data`, `items` or `results` are all read.
 */
export function listIn<T>(body: unknown, what: string): T[] {
  if (Array.isArray(body)) return body as T[];
  if (body && typeof body === 'object') {
    for (const key of ['logs', 'alerts', 'data', 'items', 'results']) {
      const value = (body as Record<string, unknown>)[key];
      if (Array.isArray(value)) return value as T[];
    }
  }
  throw new ConnectorError('bad_response', `AgentAudit answered something that is not a list while ${what}.`, { system: SYSTEM });
}
