import type { Request, RequestHandler, Response } from 'express';
import { HubError } from '../lib/errors.js';
import type { LookupGate, Principal } from './auth.js';

export interface WindowState {
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  reset: number;
  allowed: boolean;
  /** When the window this hit counted in began (ms). */
  windowStart: number;
}

/**
 * Fixed one-minute windows per bucket (API key, or client IP when unauthenticated).
 * State is per process: behind several API replicas each enforces the limit on its share.
 */
export class FixedWindowRateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  hit(bucket: string): WindowState {
    const now = this.now();
    const start = now - (now % this.windowMs);
    let window = this.windows.get(bucket);
    if (!window || window.start !== start) {
      if (this.windows.size > 50_000) this.sweep(start);
      window = { start, count: 0 };
      this.windows.set(bucket, window);
    }
    window.count++;
    return {
      limit: this.limit,
      remaining: Math.max(0, this.limit - window.count),
      reset: Math.max(1, Math.ceil((start + this.windowMs - now) / 1000)),
      allowed: window.count <= this.limit,
      windowStart: start,
    };
  }

  /** Takes back a hit (`state` is what hit returned), if its window is still the current one. */
  refund(bucket: string, state: WindowState): void {
    const window = this.windows.get(bucket);
    if (window && window.start === state.windowStart && window.count > 0) window.count--;
  }

  private sweep(currentStart: number): void {
    for (const [bucket, window] of this.windows) if (window.start !== currentStart) this.windows.delete(bucket);
  }
}

const ipBucket = (req: Request) => `ip:${req.ip ?? 'unknown'}`;

/** Counts a request in `bucket`'s window, sets the RateLimit-* headers, and throws 429 over the limit. */
function charge(limiter: FixedWindowRateLimiter, bucket: string, res: Response): WindowState {
  const state = limiter.hit(bucket);
  res.setHeader('RateLimit-Limit', String(state.limit));
  res.setHeader('RateLimit-Remaining', String(state.remaining));
  res.setHeader('RateLimit-Reset', String(state.reset));
  if (!state.allowed) {
    throw new HubError(429, 'Too Many Requests', `Rate limit of ${state.limit} requests per minute exceeded; retry in ${state.reset} s.`, {
      headers: { 'Retry-After': String(state.reset) },
    });
  }
  return state;
}

/**
 * For Authenticator.identify: a presented key that has to be looked up in the database (not
 * a cached valid key) is first counted against the client IP's window, as unauthenticated
 * requests are, and refused with 429 there once that window is spent, so a flood of made-up
 * keys never reaches the database more than the limit allows. A key that verifies gets the
 * hit back and is counted against its own window instead (by rateLimit, next).
 */
export function unverifiedKeyGate(limiter: FixedWindowRateLimiter): LookupGate {
  return {
    beforeLookup(req, res) {
      res.locals.rateLimitCharged = charge(limiter, ipBucket(req), res);
    },
    verified(req, res) {
      const charged = res.locals.rateLimitCharged as WindowState | undefined;
      if (charged) limiter.refund(ipBucket(req), charged);
      res.locals.rateLimitCharged = undefined;
    },
  };
}

/** Counts the request against its key's window, or the client IP's when unauthenticated (unless the key gate did already). */
export function rateLimit(limiter: FixedWindowRateLimiter): RequestHandler {
  return (req, res, next) => {
    if (res.locals.rateLimitCharged) return next();
    const principal = res.locals.principal as Principal | undefined;
    charge(limiter, principal ? `key:${principal.keyId}` : ipBucket(req), res);
    next();
  };
}
