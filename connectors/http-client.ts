import { Agent, FormData, request, type Dispatcher } from 'undici';

export { FormData };
import type { ResponseHeaders } from '../lib/http-headers.js';
import { assertOutboundUrl, guardedLookup } from '../lib/net-guard.js';
import { ConnectorError } from './errors.js';

export interface HttpResponse {
  status: number;
  headers: ResponseHeaders;
  body: Buffer;
  json<T = unknown>(): T;
}

export interface HttpRequest {
  method?: Dispatcher.HttpMethod;
  headers?: Record<string, string>;
  body?: string | Buffer | FormData;
  signal?: AbortSignal;
  /** What the call is for, used in error messages ("listing users"). */
  what: string;
  system: string;
}

/** How much of an answer the hub reads, and for how long. */
export interface ResponseLimits {
  /** Bytes one response may have (default HUB_MAX_RESPONSE_BYTES); a connection may say otherwise with `max_response_mb`. */
  maxResponseBytes: number;
  /** The most a connection's `max_response_mb` may raise it to (HUB_MAX_RESPONSE_BYTES_LIMIT). */
  maxResponseBytesLimit: number;
  /** Total time for one request, from connecting to the last byte of the body (HUB_OUTBOUND_REQUEST_TIMEOUT). */
  requestTimeoutMs: number;
  /** What an admin can do when the cap is passed, where the usual advice (raise max_response_mb) does not apply. */
  capAdvice?: string;
}

const MB = 1024 * 1024;

export const DEFAULT_RESPONSE_LIMITS: ResponseLimits = { maxResponseBytes: 64 * MB, maxResponseBytesLimit: 256 * MB, requestTimeoutMs: 60_000 };

export interface ConnectionTestLimits {
  timeoutMs: number;
  maxResponseBytes: number;
}

export const DEFAULT_CONNECTION_TEST_LIMITS: ConnectionTestLimits = { timeoutMs: 20_000, maxResponseBytes: MB };

/** A byte count as an admin reads it: "64 MB", "1.5 MB", "512 KB". */
export function formatBytes(bytes: number): string {
  if (bytes >= MB) return `${Math.round((bytes / MB) * 10) / 10} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/** The per-connection cap: `max_response_mb` from a connection's config, within the operator's maximum. */
export function connectionResponseBytes(config: Record<string, unknown>, limits: ResponseLimits): number {
  const mb = config.max_response_mb;
  const wanted = typeof mb === 'number' && Number.isFinite(mb) && mb > 0 ? Math.round(mb * MB) : limits.maxResponseBytes;
  return Math.min(wanted, limits.maxResponseBytesLimit);
}

/**
 * A URL a system handed over (a Link header's next, a cursor URL), parsed: one that is not a
 * valid URL is the system's fault, said as such, never a TypeError.
 */
export function linkedUrl(system: string, raw: string, what: string, base?: string): URL {
  try {
    return new URL(raw, base);
  } catch {
    throw new ConnectorError('bad_response', `${system} sent a link that is not a valid URL while ${what} ("${raw.length > 200 ? `${raw.slice(0, 200)}…` : raw}"); the hub cannot follow it.`, { system });
  }
}

/** What undici's shared connection pool is, for the clients scoped from one OutboundHttp. */
interface Shared {
  dispatcher: Agent;
}

/**
 * The one outbound HTTP client of the hub (undici). Every request is checked against the
 * private-network guard, both on the URL and on the address DNS returns; redirects are not
 * followed; connection failures and timeouts become retryable ConnectorErrors. Every answer is
 * read with a size cap, enforced while it streams in, within a total deadline (not only
 * undici's idle timeouts): a source that sends forever, or a trickle, is cut off.
 */
export class OutboundHttp {
  private readonly shared: Shared;
  private readonly owner: boolean;
  readonly limits: ResponseLimits;

  constructor(
    private readonly options: {
      allowPrivateNetworks: boolean; timeoutMs?: number; connections?: number;
      limits?: Partial<ResponseLimits>;
      /** A connection test answers a person: a short total deadline and a small cap (defaults 20 s, 1 MB). */
      connectionTest?: Partial<ConnectionTestLimits>;
    },
    scoped?: { shared: Shared; limits: ResponseLimits },
  ) {
    this.limits = scoped?.limits ?? { ...DEFAULT_RESPONSE_LIMITS, ...options.limits };
    this.owner = !scoped;
    if (scoped) {
      this.shared = scoped.shared;
      return;
    }
    const timeout = options.timeoutMs ?? 30_000;
    this.shared = {
      dispatcher: new Agent({
        connect: { timeout: 10_000, ...(options.allowPrivateNetworks ? {} : { lookup: guardedLookup }) },
        headersTimeout: timeout,
        bodyTimeout: timeout,
        connections: options.connections ?? 32,
        keepAliveTimeout: 10_000,
      }),
    };
  }

  get allowPrivateNetworks(): boolean {
    return this.options.allowPrivateNetworks;
  }

  /** The same client (and connection pool) with other limits, e.g. a connection test's. */
  withLimits(overrides: Partial<ResponseLimits>): OutboundHttp {
    return new OutboundHttp(this.options, { shared: this.shared, limits: { ...this.limits, ...overrides } });
  }

  /** The whole deadline of a connection test (POST /connections/:id/test), every request in it included. */
  get connectionTestTimeoutMs(): number {
    return this.options.connectionTest?.timeoutMs ?? DEFAULT_CONNECTION_TEST_LIMITS.timeoutMs;
  }

  /** The client for a connection test: each request within the test's deadline, answers capped small whatever the connection's max_response_mb. */
  forConnectionTest(): OutboundHttp {
    const bytes = this.options.connectionTest?.maxResponseBytes ?? DEFAULT_CONNECTION_TEST_LIMITS.maxResponseBytes;
    return this.withLimits({
      maxResponseBytes: bytes, maxResponseBytesLimit: bytes, requestTimeoutMs: this.connectionTestTimeoutMs,
      capAdvice: `A connection test reads at most ${formatBytes(bytes)} of an answer: this endpoint answers more than a quick check should; collections read up to the connection's max_response_mb.`,
    });
  }

  /** The client for one connection: its `max_response_mb`, within the operator's maximum. */
  forConnection(config: Record<string, unknown>): OutboundHttp {
    const bytes = connectionResponseBytes(config, this.limits);
    return bytes === this.limits.maxResponseBytes ? this : this.withLimits({ maxResponseBytes: bytes });
  }

  async request(url: string, init: HttpRequest): Promise<HttpResponse> {
    const host = linkedUrl(init.system, url, init.what).host;
    try {
      assertOutboundUrl(url, { allowPrivateNetworks: this.options.allowPrivateNetworks, pointer: '' });
    } catch (err) {
      throw new ConnectorError('bad_config', `${init.system}: ${(err as Error).message} (${host})`, { system: init.system });
    }
    const { limits } = this;
    // One deadline for the whole exchange, body included; the caller's signal (cancellation) still counts.
    const deadline = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      deadline.abort(new Error('deadline'));
    }, limits.requestTimeoutMs);
    const onAbort = () => deadline.abort(init.signal!.reason);
    if (init.signal?.aborted) onAbort();
    else init.signal?.addEventListener('abort', onAbort, { once: true });
    const timeoutError = () => new ConnectorError('unavailable', `${init.system} did not finish answering within ${formatSeconds(limits.requestTimeoutMs)} while ${init.what} (HUB_OUTBOUND_REQUEST_TIMEOUT); the system is slow or sends its answer a trickle at a time.`, { system: init.system });

    try {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(url, {
          method: init.method ?? 'GET',
          headers: { 'user-agent': 'evidence-hub/0.1', ...init.headers },
          body: init.body,
          signal: deadline.signal,
          dispatcher: this.shared.dispatcher,
        });
      } catch (err) {
        if (timedOut) throw timeoutError();
        const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
        if (init.signal?.aborted || e.name === 'AbortError') throw err;
        const code = e.code ?? e.cause?.code;
        if (code === 'EPRIVATEADDRESS' || e.cause?.message?.includes('private address') || e.message.includes('private address')) {
          throw new ConnectorError('bad_config', `${init.system}: ${e.cause?.message ?? e.message}`, { system: init.system });
        }
        if (code === 'ENOTFOUND') throw new ConnectorError('bad_config', `${init.system}: the host ${host} does not resolve; check the URL.`, { system: init.system });
        throw new ConnectorError('unavailable', `${init.system} could not be reached while ${init.what}: ${code ?? e.message}`, { system: init.system });
      }
      const body = await this.readBody(response, init, host, timeoutError, () => timedOut);
      return {
        status: response.statusCode,
        headers: response.headers,
        body,
        json<T>() {
          try {
            return JSON.parse(body.toString('utf8')) as T;
          } catch {
            throw new ConnectorError('bad_response', `${init.system} answered with something that is not JSON while ${init.what}.`, { system: init.system, status: response.statusCode });
          }
        },
      };
    } finally {
      clearTimeout(timer);
      init.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The body, chunk by chunk, given up (and the connection closed) as soon as it passes the cap. */
  private async readBody(response: Dispatcher.ResponseData, init: HttpRequest, host: string, timeoutError: () => ConnectorError, timedOut: () => boolean): Promise<Buffer> {
    const cap = this.limits.maxResponseBytes;
    const tooLarge = (announced?: number) => new ConnectorError('bad_response',
      `The response from ${init.system} (${host}) while ${init.what} passed the ${formatBytes(cap)} cap${announced !== undefined ? ` (it announced ${formatBytes(announced)})` : ''}; the hub stopped reading it. ${this.capAdvice()}`,
      { system: init.system, status: response.statusCode });
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > cap) {
      response.body.destroy();
      throw tooLarge(declared);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body) {
        const buffer = chunk as Buffer;
        size += buffer.length;
        if (size > cap) throw tooLarge();
        chunks.push(buffer);
      }
    } catch (err) {
      response.body.destroy();
      if (err instanceof ConnectorError) throw err;
      if (timedOut()) throw timeoutError();
      const e = err as Error & { code?: string };
      if (init.signal?.aborted || e.name === 'AbortError') throw err;
      throw new ConnectorError('unavailable', `${init.system} broke off its answer while ${init.what}: ${e.code ?? e.message}`, { system: init.system, status: response.statusCode });
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  }

  private capAdvice(): string {
    const { maxResponseBytes, maxResponseBytesLimit, capAdvice } = this.limits;
    if (capAdvice) return capAdvice;
    if (maxResponseBytes < maxResponseBytesLimit) {
      return `If answers this large are expected, raise max_response_mb in the connection's config (up to ${formatBytes(maxResponseBytesLimit)}, the operator's HUB_MAX_RESPONSE_BYTES_LIMIT); otherwise ask for smaller pages or check that the URL points at the API.`;
    }
    return `The connection is at the operator's maximum (HUB_MAX_RESPONSE_BYTES_LIMIT, ${formatBytes(maxResponseBytesLimit)}): ask for smaller pages if the API allows it, check that the URL points at the API, or have the operator raise the maximum.`;
  }

  async close(): Promise<void> {
    if (this.owner) await this.shared.dispatcher.close();
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

