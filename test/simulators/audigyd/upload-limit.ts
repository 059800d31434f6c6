// AUDIGYD's second limiter: "File uploads: 30 requests / minute per user",
// on top of the global baseline that common/server.ts enforces. "The stricter
// AI and file-upload limiters are keyed per authenticated user", so it runs
// after the API key is known, and its 429s go into the server's throttle
// ledger under a bucket of their own.

import { FixedWindowRateLimiter, type RateLimitOptions, type ThrottleLedger } from '../common/rate-limit.js';
import type { SimResponse } from '../common/server.js';
import { tooManyRequests } from './responses.js';

export class UploadRateLimit {
  private readonly limiter: FixedWindowRateLimiter;

  constructor(options: RateLimitOptions) {
    this.limiter = new FixedWindowRateLimiter(options);
  }

  /** Counts one upload by `user`; the 429 to answer when over the limit. */
  check(user: string, nowMs: number, ledger: ThrottleLedger): SimResponse | undefined {
    const bucket = `upload:${user}`;
    ledger.observe(bucket, nowMs);
    const window = this.limiter.hit(bucket, nowMs);
    if (!window.exceeded) return undefined;
    ledger.announce(bucket, 'limit', nowMs, window.resetAtMs);
    return tooManyRequests(window, nowMs);
  }
}
