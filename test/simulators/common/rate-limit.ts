// A fixed-window rate limiter and a ledger of the 429s it (or a fault) sent:
// each 'limit' 429 is one request sent into an exhausted bucket.
//
// Windows are aligned to multiples of their length on the epoch clock and
// must be whole seconds long, so a window's reset is a whole second: Okta
// announces it as epoch seconds (X-Rate-Limit-Reset), Jamf and DRF as a
// Retry-After in seconds, and both are then exact. A client that honours the
// header never arrives before the instant the ledger checks against.

export interface RateLimitOptions {
  /** Requests allowed per window, per bucket. */
  limit: number;
  /** Window length in ms; a whole number of seconds (1000 for tests and the benchmark). */
  windowMs: number;
}

/** The limiter's view of one bucket at one request. */
export interface RateWindow {
  limit: number;
  remaining: number;
  /** When the window ends (epoch ms, a whole second). */
  resetAtMs: number;
  exceeded: boolean;
}

export class FixedWindowRateLimiter {
  private readonly windows = new Map<string, { startMs: number; count: number }>();

  constructor(readonly options: RateLimitOptions) {
    const { limit, windowMs } = options;
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`rate limit must be a positive integer, got ${limit}`);
    if (!Number.isInteger(windowMs) || windowMs < 1000 || windowMs % 1000 !== 0) {
      throw new RangeError(`windowMs must be a whole number of seconds (the vendors announce resets in seconds), got ${windowMs}`);
    }
  }

  /** Counts one request against `bucket` at `nowMs`. */
  hit(bucket: string, nowMs: number): RateWindow {
    const { limit, windowMs } = this.options;
    const startMs = nowMs - (nowMs % windowMs);
    let window = this.windows.get(bucket);
    if (!window || window.startMs !== startMs) {
      window = { startMs, count: 0 };
      this.windows.set(bucket, window);
    }
    window.count += 1;
    return { limit, remaining: Math.max(0, limit - window.count), resetAtMs: startMs + windowMs, exceeded: window.count > limit };
  }
}

export interface ThrottleEvent {
  bucket: string;
  /** Why the 429 was sent: the enforced limit, or an injected fault. */
  cause: 'limit' | 'fault';
  sentAtMs: number;
  /** The reset the 429 announced (epoch ms). */
  resetAtMs: number;
  /**
   * Requests to the same bucket that arrived after this 429 was sent and
   * before its announced reset: a well-behaved client leaves this at 0.
   */
  requestsBeforeReset: number;
}

export class ThrottleLedger {
  readonly events: ThrottleEvent[] = [];
  private open: ThrottleEvent[] = [];

  /** Called for every request, before it is answered. */
  observe(bucket: string, nowMs: number): void {
    if (this.open.length === 0) return;
    this.open = this.open.filter((event) => nowMs < event.resetAtMs);
    for (const event of this.open) if (event.bucket === bucket) event.requestsBeforeReset += 1;
  }

  /** Called when a 429 is sent. */
  announce(bucket: string, cause: ThrottleEvent['cause'], sentAtMs: number, resetAtMs: number): void {
    const event: ThrottleEvent = { bucket, cause, sentAtMs, resetAtMs, requestsBeforeReset: 0 };
    this.events.push(event);
    this.open.push(event);
  }

  /** Total requests, over all 429s so far, that did not wait for the announced reset. */
  get requestsBeforeReset(): number {
    return this.events.reduce((sum, event) => sum + event.requestsBeforeReset, 0);
  }

  /**
   * Every request sent into a bucket whose window was already exhausted: each one got a
   * 'limit' 429, the kind a real org logs and warns its admins about. (An injected 429 is
   * the server's doing, not the client's, and is not counted.) A well-behaved client
   * leaves this at 0, even with many requests in flight.
   */
  get requestsIntoExhaustedBuckets(): ThrottleEvent[] {
    return this.events.filter((event) => event.cause === 'limit');
  }
}

/** Seconds a Retry-After must say so that a client honouring it arrives at or after `resetAtMs`. */
export function retryAfterSeconds(resetAtMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil((resetAtMs - nowMs) / 1000));
}
