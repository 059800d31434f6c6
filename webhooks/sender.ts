import { Agent, request } from 'undici';
import { assertOutboundUrl, guardedLookup } from '../lib/net-guard.js';
import { retryAfterMs } from '../lib/http-headers.js';

/** What one attempt to POST a webhook gave: enough for the attempt log and the retry decision. */
export interface AttemptResult {
  statusCode: number | null;
  latencyMs: number;
  /** The first 4 KB of the response body. */
  responseBody: string | null;
  /** Why there is no status code (refused, timed out, private address) or why it is not success. */
  error: string | null;
  retryAfterMs: number | null;
}

const RESPONSE_LOG_BYTES = 4096;

/**
 * Posts signed webhook bodies. Its own undici agent: a 15 s budget per request (not the
 * connectors' 30 s), redirects never followed, and — unless private networks are allowed —
 * every address DNS gives checked when the connection opens, so a host that resolved to a
 * public address when the endpoint was saved cannot be rebound to an internal one later.
 */
export class WebhookSender {
  private readonly agent: Agent;

  constructor(private readonly options: { allowPrivateNetworks: boolean; httpsOnly: boolean; timeoutMs: number }) {
    this.agent = new Agent({
      connect: { timeout: Math.min(options.timeoutMs, 10_000), ...(options.allowPrivateNetworks ? {} : { lookup: guardedLookup }) },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connections: 64,
      keepAliveTimeout: 10_000,
    });
  }

  async post(url: string, headers: Record<string, string>, body: string): Promise<AttemptResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      assertOutboundUrl(url, { allowPrivateNetworks: this.options.allowPrivateNetworks, httpsOnly: this.options.httpsOnly, pointer: '/url' });
    } catch (err) {
      return { statusCode: null, latencyMs: 0, responseBody: null, error: (err as Error).message, retryAfterMs: null };
    }
    try {
      const response = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'evidence-hub-webhooks/0.1', ...headers },
        body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const responseBody = await readPrefix(response.body, RESPONSE_LOG_BYTES);
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      return {
        statusCode: response.statusCode,
        latencyMs: elapsed(),
        responseBody,
        error: ok ? null : describeStatus(response.statusCode),
        retryAfterMs: retryAfterMs(response.headers) ?? null,
      };
    } catch (err) {
      return { statusCode: null, latencyMs: elapsed(), responseBody: null, error: storable(describeFailure(err, this.options.timeoutMs)), retryAfterMs: null };
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** Reads at most `limit` bytes of a body and drops the rest, so a huge answer costs nothing. */
async function readPrefix(body: AsyncIterable<Buffer> & { destroy(): void }, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) {
      body.destroy();
      break;
    }
  }
  return storable(Buffer.concat(chunks).subarray(0, limit).toString('utf8'));
}

/** PostgreSQL text cannot hold NUL: a binary answer is logged with its NULs shown as U+FFFD. */
function storable(text: string): string {
  return text.replaceAll(String.fromCharCode(0), '\uFFFD');
}

function describeStatus(status: number): string {
  if (status >= 300 && status < 400) return `HTTP ${status}: redirects are not followed; point the webhook at the final URL`;
  return `HTTP ${status}`;
}

function describeFailure(err: unknown, timeoutMs: number): string {
  const e = err as Error & { code?: string; cause?: Error & { code?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no response within ${timeoutMs} ms`;
  const cause = e.cause ?? e;
  if (cause.message?.includes('private address')) return cause.message;
  const code = e.code ?? cause.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND') return 'the host does not resolve';
  return code ? `${code}: ${cause.message}` : cause.message ?? String(err);
}
