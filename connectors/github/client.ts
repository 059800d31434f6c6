import { ConnectorError, errorForStatus } from '../errors.js';
import { header } from '../../lib/http-headers.js';
import { linkedUrl, type HttpResponse } from '../http-client.js';
import { linkUrl } from '../link-header.js';
import { pacedRequest } from '../paced-request.js';
import { RateLimitPacer, type WindowInfo } from '../pacer.js';
import { TokenCache } from '../token-cache.js';
import type { ConnectorContext } from '../types.js';
import { appJwt } from './app-jwt.js';
import { SYSTEM, asThrottle, deniedError, githubMessage, rateLimitOf, type GitHubCall } from './errors.js';
import { DEFAULT_API_URL, type GitHubConfig } from './settings.js';

const API_VERSION = '2022-11-28';
/** GitHub's primary limit is per installation (or user) across the REST API: one pacing bucket. */
const BUCKET = 'core';
/** Secondary-limit answers waited out inside one request before the activity gives up (and Temporal retries later). */
const MAX_SECONDARY_RETRIES = 5;

/**
 * The one request helper for GitHub's REST API: a fine-grained token, or a GitHub App's
 * installation token (obtained with an RS256 App JWT, kept in memory only, renewed before it
 * expires and once more on a 401), pacing by x-ratelimit-remaining / x-ratelimit-reset (no
 * request into an exhausted window), secondary limits (403/429 with retry-after) waited out
 * through the injected sleep, Link-header paging that never leaves the configured host, and
 * refusals turned into messages naming the permission needed.
 */
export class GitHubClient {
  readonly origin: string;
  readonly apiBase: string;
  private readonly pacer: RateLimitPacer;
  private readonly tokens: TokenCache;
  /** Until when a secondary limit holds every request of this session back (epoch ms). */
  private pausedUntilMs = 0;
  /** The installation token GitHub last answered 401 to. */
  private rejectedToken: string | null = null;

  constructor(private readonly ctx: ConnectorContext, readonly config: GitHubConfig) {
    const api = new URL(config.api_url ?? DEFAULT_API_URL);
    this.origin = api.origin;
    this.apiBase = `${api.origin}${api.pathname.replace(/\/+$/, '')}`;
    this.pacer = new RateLimitPacer(ctx.sleep, ctx.heartbeat);
    this.tokens = new TokenCache(() => this.installationToken());
  }

  get pageSize(): number {
    return this.config.page_size ?? 100;
  }

  get org(): string {
    return encodeURIComponent(this.config.org);
  }

  private async authorization(): Promise<{ header: string; token: string | null }> {
    if (this.config.auth_method === 'token') {
      const token = this.ctx.secrets.token;
      if (!token) throw new ConnectorError('bad_config', 'GitHub: auth_method token needs the token secret (a fine-grained personal access token).', { system: SYSTEM });
      return { header: `Bearer ${token}`, token: null };
    }
    let token = await this.tokens.get();
    // GitHub refused this token (it expired early or was revoked): fetch another, once for all
    // the requests that were in flight with it.
    if (token === this.rejectedToken) {
      this.tokens.invalidate();
      token = await this.tokens.get();
    }
    return { header: `Bearer ${token}`, token };
  }

  /** POST /app/installations/{id}/access_tokens with the App JWT: a token for one hour. */
  private async installationToken(): Promise<{ value: string; expiresInSeconds: number }> {
    const { app_id: appId, installation_id: installationId } = this.config;
    const privateKeyPem = this.ctx.secrets.private_key;
    if (!appId || !installationId || !privateKeyPem) {
      throw new ConnectorError('bad_config', 'GitHub: auth_method app needs config.app_id, config.installation_id and the private_key secret.', { system: SYSTEM });
    }
    const what = `obtaining an installation token for installation ${installationId} of GitHub App ${appId}`;
    const response = await this.ctx.http.request(`${this.apiBase}/app/installations/${encodeURIComponent(String(installationId))}/access_tokens`, {
      method: 'POST', system: SYSTEM, what, signal: this.ctx.signal,
      headers: { authorization: `Bearer ${appJwt({ appId, privateKeyPem })}`, accept: 'application/vnd.github+json', 'x-github-api-version': API_VERSION },
    });
    if (response.status !== 201 && response.status !== 200) {
      const said = githubMessage(response);
      if (response.status === 404) {
        throw new ConnectorError('bad_config', `GitHub answered 404 while ${what}: no such installation of this App; check installation_id (and api_url).${said ? ` GitHub said: ${said}` : ''}`, { status: 404, system: SYSTEM });
      }
      throw errorForStatus(SYSTEM, response.status, what, said ? `${said} (check app_id and the private key)` : undefined, undefined);
    }
    const body = response.json<{ token?: unknown; expires_at?: unknown }>();
    if (typeof body.token !== 'string') throw new ConnectorError('bad_response', 'GitHub answered the installation-token request without a token.', { system: SYSTEM });
    const expiresAt = typeof body.expires_at === 'string' ? Date.parse(body.expires_at) : NaN;
    const expiresInSeconds = Number.isFinite(expiresAt) ? Math.max(1, (expiresAt - Date.now()) / 1000) : 3600;
    return { value: body.token, expiresInSeconds };
  }

  /** Obtains a credential to call with (a connection test's first step: a bad App key fails here). */
  async authenticate(): Promise<void> {
    await this.authorization();
  }

  /** GET a path under the API base, or an absolute Link URL; null for a 404 where the call says a 404 is an answer. */
  async get(pathOrUrl: string, call: GitHubCall & { notFoundIsNull: true }): Promise<HttpResponse | null>;
  async get(pathOrUrl: string, call: GitHubCall): Promise<HttpResponse>;
  async get(pathOrUrl: string, call: GitHubCall): Promise<HttpResponse | null> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : this.apiBase + pathOrUrl;
    const parsed = linkedUrl(SYSTEM, url, call.what);
    if (parsed.origin !== this.origin) {
      throw new ConnectorError('bad_response', `GitHub: refused to follow a link to another host (${parsed.host}) while ${call.what}; the configured API host is ${new URL(this.origin).host}.`, { system: SYSTEM });
    }
    let renewed = false;
    const sent: { token: string | null } = { token: null };
    const renew = this.config.auth_method === 'app' ? () => { renewed = true; this.rejectedToken = sent.token; } : undefined;
    for (;;) {
      let said: string | undefined;
      try {
        return await pacedRequest(this.ctx, {
          system: SYSTEM, what: call.what, pacer: this.pacer, bucket: BUCKET,
          send: () => this.send(url, call, sent),
          window: rateWindow,
          // An installation token that expired early or was revoked: one fresh token, once per call.
          renewCredentials: renewed ? undefined : renew,
          message: (response) => (said = githubMessage(response)),
        });
      } catch (err) {
        if (!(err instanceof ConnectorError)) throw err;
        const status = err.details.status;
        if (status === 404 && call.notFoundIsNull) return null;
        // GitHub Free: "Upgrade to GitHub Pro or make this repository public to enable this feature." The repository cannot be protected: not a permission problem.
        if (status === 403 && call.notFoundIsNull && /upgrade to github pro|make this repository public/i.test(said ?? '')) return null;
        if (status === 403 || (status === 422 && call.ownerOnly)) throw deniedError(call, status, said);
        // A 401 after a rate-limit wait (the token ran out meanwhile): the one renewal is still due.
        if (status === 401 && renew && !renewed) {
          renew();
          continue;
        }
        throw err;
      }
    }
  }

  /**
   * One request, after any secondary-limit pause: a secondary limit (403/429 with retry-after,
   * or its message) pauses every request of the session for retry-after (else a minute, as
   * GitHub asks) through the injected sleep and sends again; the primary limit's 403 goes to
   * the pacer as a 429 (wait until x-ratelimit-reset).
   */
  private async send(url: string, call: GitHubCall, sent: { token: string | null }): Promise<HttpResponse> {
    for (let attempt = 0; ; attempt++) {
      for (let wait = this.pausedUntilMs - Date.now(); wait > 0; wait = this.pausedUntilMs - Date.now()) {
        this.ctx.heartbeat();
        await this.ctx.sleep(wait);
      }
      const authorization = await this.authorization();
      sent.token = authorization.token;
      const response = await this.ctx.http.request(url, {
        system: SYSTEM, what: call.what, signal: this.ctx.signal,
        headers: { authorization: authorization.header, accept: 'application/vnd.github+json', 'x-github-api-version': API_VERSION },
      });
      const limit = rateLimitOf(response);
      if (limit?.kind !== 'secondary') return asThrottle(response);
      if (attempt >= MAX_SECONDARY_RETRIES) {
        throw new ConnectorError('rate_limited', `GitHub kept answering with its secondary rate limit (${response.status}) while ${call.what}.`, { status: response.status, system: SYSTEM, retryAfterMs: limit.waitMs });
      }
      this.pausedUntilMs = Math.max(this.pausedUntilMs, Date.now() + limit.waitMs);
      this.ctx.log.info({ status: response.status, wait_ms: limit.waitMs }, 'GitHub secondary rate limit reached; waiting before the next request');
    }
  }

  /** The pages of a list from `first` (a path, or a stored next URL), following Link rel="next". */
  async *pages<T>(first: string, call: GitHubCall): AsyncGenerator<{ items: T[]; next: string | null }> {
    let url: string | null = first;
    while (url) {
      const response = await this.get(url, call);
      const items = response.json<unknown>();
      if (!Array.isArray(items)) throw new ConnectorError('bad_response', `GitHub answered something other than a list while ${call.what}.`, { system: SYSTEM });
      const next = linkUrl(response.headers.link, 'next');
      yield { items: items as T[], next };
      url = next;
    }
  }
}

/** x-ratelimit-remaining, and x-ratelimit-reset in UTC epoch seconds. */
function rateWindow(response: HttpResponse): WindowInfo | null {
  const remaining = header(response.headers, 'x-ratelimit-remaining');
  const reset = header(response.headers, 'x-ratelimit-reset');
  if (remaining === undefined || reset === undefined) return null;
  const limit = header(response.headers, 'x-ratelimit-limit');
  return { remaining: Number(remaining), resetAtMs: Number(reset) * 1000, ...(limit ? { limit: Number(limit) } : {}) };
}
