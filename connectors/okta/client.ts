import { ConnectorError, errorForStatus } from '../errors.js';
import { header } from '../../lib/http-headers.js';
import { linkedUrl, type HttpResponse } from '../http-client.js';
import { pacedRequest } from '../paced-request.js';
import { linkUrl } from '../link-header.js';
import { RateLimitPacer } from '../pacer.js';
import type { ConnectorContext } from '../types.js';
import { clientAssertion } from './oauth.js';
import { TokenCache } from '../token-cache.js';

export interface OktaConfig {
  base_url: string;
  auth_method: 'api_token' | 'oauth';
  client_id?: string;
  key_id?: string;
  scopes?: string[];
  enrich?: boolean;
  enrich_concurrency?: number;
  system_log_initial_days?: number;
}

const SYSTEM = 'Okta';
export const DEFAULT_SCOPES = ['okta.users.read', 'okta.policies.read', 'okta.logs.read', 'okta.roles.read', 'okta.orgs.read'];

interface OktaErrorBody {
  errorCode?: string;
  errorSummary?: string;
  error?: string;
  error_description?: string;
}

/**
 * The one request helper for Okta: authentication (SSWS API token, or an OAuth access token
 * obtained with a private-key JWT and reused until shortly before it expires), pacing by
 * X-Rate-Limit-* per endpoint, 429 handling (wait until X-Rate-Limit-Reset), error
 * classification, and Link-header pagination that never leaves the configured host.
 */
export class OktaClient {
  readonly origin: string;
  private readonly pacer: RateLimitPacer;
  private readonly tokens: TokenCache;

  constructor(private readonly ctx: ConnectorContext, readonly config: OktaConfig) {
    this.origin = new URL(config.base_url).origin;
    this.pacer = new RateLimitPacer(ctx.sleep, ctx.heartbeat);
    this.tokens = new TokenCache(() => this.fetchAccessToken());
  }

  private async authorization(): Promise<string> {
    if (this.config.auth_method === 'api_token') {
      const token = this.ctx.secrets.api_token;
      if (!token) throw new ConnectorError('bad_config', 'Okta: the connection has no api_token secret.');
      return `SSWS ${token}`;
    }
    return `Bearer ${await this.tokens.get()}`;
  }

  private async fetchAccessToken(): Promise<{ value: string; expiresInSeconds: number }> {
    const privateKeyPem = this.ctx.secrets.private_key;
    if (!privateKeyPem || !this.config.client_id) throw new ConnectorError('bad_config', 'Okta: OAuth needs config.client_id and the private_key secret.');
    const tokenUrl = `${this.origin}/oauth2/v1/token`;
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      scope: (this.config.scopes ?? DEFAULT_SCOPES).join(' '),
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: clientAssertion({ clientId: this.config.client_id, tokenUrl, privateKeyPem, keyId: this.config.key_id }),
    });
    const response = await this.ctx.http.request(tokenUrl, {
      method: 'POST', system: SYSTEM, what: 'obtaining an OAuth access token', signal: this.ctx.signal,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    });
    if (response.status !== 200) {
      const body = safeJson(response);
      const status = response.status === 400 ? 401 : response.status; // invalid_client etc. are credential problems
      throw errorForStatus(SYSTEM, status, 'obtaining an OAuth access token', body?.error_description ?? body?.error ?? body?.errorSummary);
    }
    const body = response.json<{ access_token: string; expires_in: number }>();
    return { value: body.access_token, expiresInSeconds: body.expires_in };
  }

  /** GET a URL on the Okta org (absolute, or a path), paced and retried through 429s. */
  async get(pathOrUrl: string, what: string): Promise<HttpResponse> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : this.origin + pathOrUrl;
    const parsed = linkedUrl(SYSTEM, url, what);
    if (parsed.origin !== this.origin) {
      throw new ConnectorError('bad_response', `Okta: refused to follow a link to another host (${parsed.host}); the configured org is ${new URL(this.origin).host}.`);
    }
    return pacedRequest(this.ctx, {
      system: SYSTEM, what, pacer: this.pacer, bucket: bucketOf(parsed.pathname),
      send: async () => this.ctx.http.request(url, {
        system: SYSTEM, what, signal: this.ctx.signal,
        headers: { authorization: await this.authorization(), accept: 'application/json' },
      }),
      // "wait until the reset": X-Rate-Limit-Reset is the epoch second the window reopens.
      window: rateWindow,
      // An access token that expired early: one fresh try (an API token cannot be renewed).
      renewCredentials: this.config.auth_method === 'oauth' ? () => this.tokens.invalidate() : undefined,
      message: (response) => {
        const body = safeJson(response);
        return body?.errorSummary ? `${body.errorSummary} (${body.errorCode})` : undefined;
      },
    });
  }

  /** Every page of a list endpoint, following Link rel="next" (same host only). */
  async *pages<T>(firstUrl: string, what: string): AsyncGenerator<{ items: T[]; url: string; next: string | null }> {
    let url: string | null = firstUrl;
    while (url) {
      const response = await this.get(url, what);
      const items = response.json<T[]>();
      if (!Array.isArray(items)) throw new ConnectorError('bad_response', `Okta answered something other than a list while ${what}.`);
      const next = linkUrl(response.headers.link, 'next');
      yield { items, url, next };
      url = next;
    }
  }
}

function safeJson(response: HttpResponse): OktaErrorBody | null {
  try {
    return JSON.parse(response.body.toString('utf8')) as OktaErrorBody;
  } catch {
    return null;
  }
}

/** Okta rate-limits per endpoint: ids in the path do not make a new bucket. */
function bucketOf(pathname: string): string {
  return pathname.replace(/\/[A-Za-z0-9]{20}(?=\/|$)/g, "/{id}");
}

function rateWindow(response: HttpResponse): { limit?: number; remaining: number; resetAtMs: number } | null {
  const remaining = header(response.headers, 'x-rate-limit-remaining');
  const reset = header(response.headers, 'x-rate-limit-reset');
  if (remaining === undefined || reset === undefined) return null;
  const limit = header(response.headers, 'x-rate-limit-limit');
  return { remaining: Number(remaining), resetAtMs: Number(reset) * 1000, ...(limit ? { limit: Number(limit) } : {}) };
}
