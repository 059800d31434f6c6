import { Agent, FormData, request, type Dispatcher } from 'undici';

export { FormData };
import { assertOutboundUrl, guardedLookup } from '../lib/net-guard.js';
import { ConnectorError } from './errors.js';

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
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

/**
 * The one outbound HTTP client of the hub (undici). Every request is checked against the
 * private-network guard, both on the URL and on the address DNS returns; redirects are not
 * followed; connection failures and timeouts become retryable ConnectorErrors.
 */
export class OutboundHttp {
  private readonly dispatcher: Agent;

  constructor(private readonly options: { allowPrivateNetworks: boolean; allowAmbientCredentials?: boolean; timeoutMs?: number; connections?: number }) {
    const timeout = options.timeoutMs ?? 30_000;
    this.dispatcher = new Agent({
      connect: { timeout: 10_000, ...(options.allowPrivateNetworks ? {} : { lookup: guardedLookup }) },
      headersTimeout: timeout,
      bodyTimeout: timeout,
      connections: options.connections ?? 32,
      keepAliveTimeout: 10_000,
    });
  }

  get allowPrivateNetworks(): boolean {
    return this.options.allowPrivateNetworks;
  }

  /**
   * Whether a connection may use the hub host's own cloud credentials (the AWS SDK's default
   * chain: environment, instance or task role). Off by default: in a multi-workspace hub
   * they would let any workspace read the operator's account.
   */
  get allowAmbientCredentials(): boolean {
    return this.options.allowAmbientCredentials ?? false;
  }

  async request(url: string, init: HttpRequest): Promise<HttpResponse> {
    try {
      assertOutboundUrl(url, { allowPrivateNetworks: this.options.allowPrivateNetworks, pointer: '' });
    } catch (err) {
      throw new ConnectorError('bad_config', `${init.system}: ${(err as Error).message} (${new URL(url).host})`, { system: init.system });
    }
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: init.method ?? 'GET',
        headers: { 'user-agent': 'evidence-hub/0.1', ...init.headers },
        body: init.body,
        signal: init.signal,
        dispatcher: this.dispatcher,
      });
    } catch (err) {
      const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
      if (e.name === 'AbortError') throw err;
      const code = e.code ?? e.cause?.code;
      if (code === 'EPRIVATEADDRESS' || e.cause?.message?.includes('private address') || e.message.includes('private address')) {
        throw new ConnectorError('bad_config', `${init.system}: ${e.cause?.message ?? e.message}`, { system: init.system });
      }
      if (code === 'ENOTFOUND') throw new ConnectorError('bad_config', `${init.system}: the host ${new URL(url).host} does not resolve; check the URL.`, { system: init.system });
      throw new ConnectorError('unavailable', `${init.system} could not be reached while ${init.what}: ${code ?? e.message}`, { system: init.system });
    }
    const body = Buffer.from(await response.body.arrayBuffer());
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
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

export function header(headers: HttpResponse['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Retry-After as milliseconds (seconds or an HTTP date), if present and sane. */
export function retryAfterMs(headers: HttpResponse['headers'], now = Date.now()): number | undefined {
  const raw = header(headers, 'retry-after');
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
