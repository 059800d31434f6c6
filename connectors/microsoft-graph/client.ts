import { ConnectorError, errorForStatus } from '../errors.js';
import { linkedUrl, type HttpResponse } from '../http-client.js';
import { pacedRequest } from '../paced-request.js';
import { RateLimitPacer } from '../pacer.js';
import { TokenCache } from '../token-cache.js';
import type { ConnectorContext } from '../types.js';
import { CLIENT_ASSERTION_TYPE, certificateAssertion } from './assertion.js';
import { DEFAULT_AUTHORITY, DEFAULT_GRAPH, type GraphConfig } from './settings.js';
import { deniedError, graphErrorOf, type GraphCall, type GraphErrorBody } from './errors.js';

export type { GraphCall } from './errors.js';

const SYSTEM = 'Microsoft Graph';
/** 503s with Retry-After absorbed inside one call (429s are counted by pacedRequest). */
const MAX_UNAVAILABLE_RETRIES = 5;

/**
 * The one request helper for Microsoft Graph, shared by the entra and intune connectors:
 * OAuth 2.0 client credentials at `{authority}/{tenant}/oauth2/v2.0/token` (client secret or
 * certificate assertion), the access token kept in memory only and renewed once on a 401,
 * 429 and 503 with Retry-After waited out through the pacer (Graph's throttling guidance),
 * `@odata.nextLink` paging that never leaves the configured Graph host, and 403s turned into
 * messages naming the missing permission or licence.
 */
export class GraphClient {
  readonly graphOrigin: string;
  readonly apiBase: string;
  readonly tokenUrl: string;
  private readonly pacer: RateLimitPacer;
  private readonly tokens: TokenCache;

  constructor(private readonly ctx: ConnectorContext, readonly config: GraphConfig) {
    const graph = new URL(config.graph_url ?? DEFAULT_GRAPH);
    this.graphOrigin = graph.origin;
    this.apiBase = `${graph.origin}${graph.pathname.replace(/\/+$/, '')}/${config.api_version ?? 'v1.0'}`;
    const authority = new URL(config.authority_url ?? DEFAULT_AUTHORITY);
    this.tokenUrl = `${authority.origin}${authority.pathname.replace(/\/+$/, '')}/${encodeURIComponent(config.tenant_id)}/oauth2/v2.0/token`;
    this.pacer = new RateLimitPacer(ctx.sleep, ctx.heartbeat);
    this.tokens = new TokenCache(() => this.fetchAccessToken());
  }

  get pageSize(): number {
    return this.config.page_size ?? 999;
  }

  private async fetchAccessToken(): Promise<{ value: string; expiresInSeconds: number }> {
    const { client_secret: secret, private_key: privateKey, certificate_thumbprint: thumbprint } = this.ctx.secrets;
    const form = new URLSearchParams({
      client_id: this.config.client_id,
      scope: this.config.scope ?? `${this.graphOrigin}/.default`,
      grant_type: 'client_credentials',
    });
    if (privateKey) {
      if (!thumbprint) throw new ConnectorError('bad_config', 'Microsoft Graph: a certificate credential needs the certificate_thumbprint secret as well as the private_key.');
      form.set('client_assertion_type', CLIENT_ASSERTION_TYPE);
      form.set('client_assertion', certificateAssertion({ clientId: this.config.client_id, tokenUrl: this.tokenUrl, privateKeyPem: privateKey, thumbprint }));
    } else if (secret) {
      form.set('client_secret', secret);
    } else {
      throw new ConnectorError('bad_config', 'Microsoft Graph: the connection has neither a client_secret nor a private_key with its certificate_thumbprint.');
    }
    const what = 'obtaining an access token from the Microsoft identity platform';
    const response = await this.ctx.http.request(this.tokenUrl, {
      method: 'POST', system: SYSTEM, what, signal: this.ctx.signal,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    });
    if (response.status !== 200) {
      const body = safeJson<{ error?: string; error_description?: string }>(response);
      // AADSTS descriptions run on with trace and correlation ids: the first line says what is wrong.
      const said = body?.error_description?.split(/\r?\n/)[0]?.trim() || body?.error;
      // invalid_client, unauthorized_client, an unknown tenant: credential problems, not retried.
      const status = response.status === 400 ? 401 : response.status;
      throw errorForStatus(SYSTEM, status, what, said);
    }
    const body = response.json<{ access_token?: string; expires_in?: number | string }>();
    if (typeof body.access_token !== 'string') throw new ConnectorError('bad_response', 'Microsoft Graph: the token endpoint answered 200 without an access_token.');
    return { value: body.access_token, expiresInSeconds: Number(body.expires_in ?? 3599) };
  }

  /** Obtains an access token (a connection test's first step: bad credentials fail here). */
  async authenticate(): Promise<void> {
    await this.tokens.get();
  }

  /** GET a Graph path (`/users?$select=…`, under the API version) or an absolute nextLink. */
  async get<T>(pathOrUrl: string, call: GraphCall): Promise<T> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : this.apiBase + pathOrUrl;
    const parsed = linkedUrl(SYSTEM, url, call.what);
    if (parsed.origin !== this.graphOrigin) {
      throw new ConnectorError('bad_response', `Microsoft Graph: refused to follow a link to another host (${parsed.host}) while ${call.what}; the configured Graph host is ${new URL(this.graphOrigin).host}.`);
    }
    const bucket = bucketOf(parsed.pathname);
    // One fresh token per call, whether the 401 comes first or after a wait (a token that ran out during a Retry-After).
    let renewed = false;
    const renew = () => {
      renewed = true;
      this.tokens.invalidate();
    };
    for (let attempt = 0; ; attempt++) {
      let said: GraphErrorBody | null = null;
      try {
        const response = await pacedRequest(this.ctx, {
          system: SYSTEM, what: call.what, pacer: this.pacer, bucket,
          send: async () => this.ctx.http.request(url, {
            system: SYSTEM, what: call.what, signal: this.ctx.signal,
            headers: { authorization: `Bearer ${await this.tokens.get()}`, accept: 'application/json' },
          }),
          // An access token that expired early or was revoked: one fresh token, once.
          renewCredentials: renewed ? undefined : renew,
          message: (r) => {
            said = graphErrorOf(r);
            return said ? `${said.message} (${said.code})` : undefined;
          },
        });
        return response.json<T>();
      } catch (err) {
        if (!(err instanceof ConnectorError)) throw err;
        if (err.details.status === 403) throw deniedError(call, said);
        if (err.details.status === 401 && !renewed) {
          renew();
          continue;
        }
        // "503 Service Unavailable … honour the Retry-After header" (Graph throttling guidance).
        if (err.details.status === 503 && err.details.retryAfterMs !== undefined && attempt < MAX_UNAVAILABLE_RETRIES) {
          const waitMs = this.pacer.throttled(bucket, { retryAfterMs: err.details.retryAfterMs });
          this.ctx.log.info({ bucket, wait_ms: waitMs }, 'Microsoft Graph answered 503 with Retry-After; waiting');
          continue;
        }
        throw err;
      }
    }
  }

  /** The pages of a collection from `first` (a path or a stored nextLink), following @odata.nextLink. */
  async *pages<T>(first: string, call: GraphCall): AsyncGenerator<{ items: T[]; next: string | null }> {
    let url: string | null = first;
    while (url) {
      const body: { value?: unknown; '@odata.nextLink'?: unknown } = await this.get(url, call);
      if (!Array.isArray(body.value)) throw new ConnectorError('bad_response', `Microsoft Graph answered something other than a collection while ${call.what}.`);
      const next = typeof body['@odata.nextLink'] === 'string' ? body['@odata.nextLink'] : null;
      yield { items: body.value as T[], next };
      url = next;
    }
  }
}

function safeJson<T>(response: HttpResponse): T | null {
  try {
    return JSON.parse(response.body.toString('utf8')) as T;
  } catch {
    return null;
  }
}

/** Graph throttles per service (identity, reports, Intune…): one pacing bucket per top-level resource. */
function bucketOf(pathname: string): string {
  const segments = pathname.split('/').filter(Boolean);
  const version = segments.findIndex((s) => s === 'v1.0' || s === 'beta');
  return segments[version + 1] ?? 'graph';
}
