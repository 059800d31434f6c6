import { errorForStatus } from './errors.js';
import { retryAfterMs } from '../lib/http-headers.js';
import type { HttpResponse } from './http-client.js';
import type { RateLimitPacer, WindowInfo } from './pacer.js';
import type { ConnectorContext } from './types.js';

/** 429s absorbed inside one call before the activity gives up and lets Temporal retry. */
const MAX_THROTTLED_RETRIES = 5;

export interface PacedRequest {
  system: string;
  what: string;
  pacer: RateLimitPacer;
  bucket: string;
  /** Sends the request (with fresh credentials each time). */
  send: () => Promise<HttpResponse>;
  /** The system's rate-limit window from response headers, if it announces one. */
  window?: (response: HttpResponse) => WindowInfo | null;
  /** Called on a first 401 when a fresh credential may help (an expired token); the request is sent again once. */
  renewCredentials?: () => void;
  /** The system's own words for an error. */
  message?: (response: HttpResponse) => string | undefined;
}

/**
 * The request loop every connector shares: wait for room in the rate-limit window, send,
 * record what the window says, say "alive" to Temporal, renew an expired token once, wait
 * out a 429 (until the announced reset or Retry-After), and classify any other error.
 */
export async function pacedRequest(ctx: ConnectorContext, r: PacedRequest): Promise<HttpResponse> {
  for (let attempt = 0; ; attempt++) {
    const permit = await r.pacer.acquire(r.bucket);
    let response: HttpResponse;
    let window: WindowInfo | null;
    try {
      response = await r.send();
      window = r.window?.(response) ?? null;
    } catch (err) {
      r.pacer.abandon(permit);
      throw err;
    }
    r.pacer.release(permit, window);
    ctx.heartbeat();
    if (response.status >= 200 && response.status < 300) return response;
    if (response.status === 401 && attempt === 0 && r.renewCredentials) {
      r.renewCredentials();
      continue;
    }
    const retryAfter = retryAfterMs(response.headers);
    if (response.status === 429 && attempt < MAX_THROTTLED_RETRIES) {
      const waitMs = r.pacer.throttled(r.bucket, { retryAfterMs: retryAfter, resetAtMs: window?.resetAtMs });
      ctx.log.info({ bucket: r.bucket, wait_ms: waitMs }, `${r.system} rate limit reached; waiting for the reset`);
      continue;
    }
    const wait = retryAfter ?? (window ? Math.max(0, window.resetAtMs - Date.now()) : undefined);
    throw errorForStatus(r.system, response.status, r.what, r.message?.(response), wait);
  }
}
