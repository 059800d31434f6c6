// The HTTP core every simulator runs on: plain node:http on 127.0.0.1, a
// request log, the fault queue, the fixed-window rate limiter and its 429
// ledger. A simulator only supplies its vendor's behaviour (routes, error and
// 429 shapes, rate-limit headers).

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeFault, FaultQueue, type Fault } from './faults.js';
import { FixedWindowRateLimiter, ThrottleLedger, type RateLimitOptions, type RateWindow } from './rate-limit.js';

const MAX_BODY_BYTES = 1024 * 1024;

export interface SimRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly receivedAtMs: number;
  /** The simulator's own origin (`http://127.0.0.1:PORT`): what its absolute links point at. */
  readonly origin: string;
  /** The request body as text (read on first call). */
  text(): Promise<string>;
}

export interface SimResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: string;
}

export function jsonResponse(status: number, value: unknown, headers: Record<string, string | string[]> = {}): SimResponse {
  return { status, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

export function textResponse(status: number, contentType: string, body: string, headers: Record<string, string | string[]> = {}): SimResponse {
  return { status, headers: { 'Content-Type': contentType, ...headers }, body };
}

export interface RequestLogEntry {
  method: string;
  path: string;
  query: URLSearchParams;
  receivedAtMs: number;
  /** Whether an Authorization header was sent at all. */
  hasAuthorization: boolean;
  /** Its scheme (`SSWS`, `Bearer`, `JWT`, …) when sent. */
  authScheme?: string;
  /** The rate-limit bucket the request counted against. */
  bucket: string;
  /** The status answered; unset while in flight or when dropped. */
  status?: number;
  /** The injected fault that shaped the answer, e.g. `status 503`, `drop`. */
  fault?: string;
  /** The message of a handler crash (answered as a 500). */
  error?: string;
}

export interface VendorBehaviour {
  /** The rate-limit bucket a request counts against (Okta limits each endpoint separately). */
  bucketOf(req: SimRequest): string;
  handle(req: SimRequest): SimResponse | Promise<SimResponse>;
  /** An error status (injected, or a handler crash) in the vendor's error shape. */
  errorResponse(status: number, req: SimRequest): SimResponse;
  /** A 429 in the vendor's shape, for the window that was exceeded (or a fault's synthetic one). */
  rateLimitedResponse(window: RateWindow, req: SimRequest): SimResponse;
  /** Headers added to every non-429 response (Okta reports its limits on every response). */
  rateLimitHeaders?(window: RateWindow): Record<string, string>;
}

export interface SimulatorServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Epoch-ms clock for the log, tokens and rate-limit windows; Date.now by default. */
  clock?: () => number;
  /** Enforced rate limit; absent means unlimited. */
  rateLimit?: RateLimitOptions;
}

export interface SimulatorServer {
  /** Origin without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Every request received, in arrival order (a live array). */
  readonly requests: readonly RequestLogEntry[];
  readonly faults: FaultQueue;
  /**
   * The 429s sent: `requestsIntoExhaustedBuckets` (every request that arrived in an exhausted
   * window) and `requestsBeforeReset` (requests that did not wait for an announced reset).
   */
  readonly throttling: ThrottleLedger;
  close(): Promise<void>;
}

export async function startSimulatorServer(behaviour: VendorBehaviour, options: SimulatorServerOptions = {}): Promise<SimulatorServer> {
  const clock = options.clock ?? Date.now;
  const limiter = options.rateLimit ? new FixedWindowRateLimiter(options.rateLimit) : undefined;
  const requests: RequestLogEntry[] = [];
  const faults = new FaultQueue();
  const throttling = new ThrottleLedger();
  const delays = new Set<NodeJS.Timeout>();
  let origin = '';

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        delays.delete(timer);
        resolve();
      }, ms);
      delays.add(timer);
    });

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const nowMs = clock();
    const simRequest = toSimRequest(req, origin, nowMs);
    const bucket = behaviour.bucketOf(simRequest);
    const authorization = req.headers.authorization;
    const entry: RequestLogEntry = {
      method: simRequest.method,
      path: simRequest.path,
      query: simRequest.query,
      receivedAtMs: nowMs,
      hasAuthorization: authorization !== undefined,
      bucket,
    };
    const scheme = authorization?.split(' ')[0];
    if (scheme) entry.authScheme = scheme;
    requests.push(entry);

    throttling.observe(bucket, nowMs);
    const window = limiter?.hit(bucket, nowMs);
    let response: SimResponse;
    if (window?.exceeded) {
      throttling.announce(bucket, 'limit', nowMs, window.resetAtMs);
      response = behaviour.rateLimitedResponse(window, simRequest);
    } else {
      const fault = faults.take(simRequest.method, simRequest.path);
      if (fault) entry.fault = describeFault(fault);
      if (fault?.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'delay') await sleep(fault.ms);
      response = fault && fault.kind !== 'delay' ? faultResponse(fault, simRequest, bucket, nowMs, window) : await handleSafely(simRequest, entry);
      if (window && behaviour.rateLimitHeaders && response.status !== 429) {
        // A vendor that answers its limit with another status (GitHub: 403) sets its own figures: they stand.
        response = { ...response, headers: { ...behaviour.rateLimitHeaders(window), ...response.headers } };
      }
    }
    entry.status = response.status;
    if (!res.destroyed) res.writeHead(response.status, response.headers).end(response.body);
  }

  function faultResponse(fault: Exclude<Fault, { kind: 'delay' | 'drop' }>, req: SimRequest, bucket: string, nowMs: number, window: RateWindow | undefined): SimResponse {
    if (fault.kind === 'status') return behaviour.errorResponse(fault.status, req);
    const resetAtMs = nowMs + fault.retryAfterSeconds * 1000;
    throttling.announce(bucket, 'fault', nowMs, resetAtMs);
    return behaviour.rateLimitedResponse({ limit: window?.limit ?? 0, remaining: 0, resetAtMs, exceeded: true }, req);
  }

  async function handleSafely(req: SimRequest, entry: RequestLogEntry): Promise<SimResponse> {
    try {
      return await behaviour.handle(req);
    } catch (error) {
      entry.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
      return behaviour.errorResponse(500, req);
    }
  }

  const server = createServer((req, res) => {
    answer(req, res).catch(() => {
      // Only reachable if writing itself failed (socket gone): nothing is left to answer.
      res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  origin = `http://${address.address}:${address.port}`;

  return {
    url: origin,
    requests,
    faults,
    throttling,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of delays) clearTimeout(timer);
        delays.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function toSimRequest(req: IncomingMessage, origin: string, receivedAtMs: number): SimRequest {
  const url = new URL(req.url ?? '/', origin);
  let body: Promise<string> | undefined;
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    path: url.pathname,
    query: url.searchParams,
    headers: req.headers,
    receivedAtMs,
    origin,
    text: () => (body ??= readBody(req)),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new Error(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The media type of a request, without parameters (`application/json`). */
export function mediaType(req: SimRequest): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Splits `Authorization: <scheme> <credentials>`; undefined when absent. */
export function authorizationOf(req: SimRequest): { scheme: string; credentials: string } | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const space = header.indexOf(' ');
  return space < 0 ? { scheme: header, credentials: '' } : { scheme: header.slice(0, space), credentials: header.slice(space + 1) };
}
