import type { RequestHandler } from 'express';
import { HubError } from '../lib/errors.js';
import type { Principal } from './auth.js';

export interface WindowState {
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  reset: number;
  allowed: boolean;
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
    };
  }

  private sweep(currentStart: number): void {
    for (const [bucket, window] of this.windows) if (window.start !== currentStart) this.windows.delete(bucket);
  }
}

export function rateLimit(limiter: FixedWindowRateLimiter): RequestHandler {
  return (req, res, next) => {
    const principal = res.locals.principal as Principal | undefined;
    const bucket = principal ? `key:${principal.keyId}` : `ip:${req.ip ?? 'unknown'}`;
    const state = limiter.hit(bucket);
    res.setHeader('RateLimit-Limit', String(state.limit));
    res.setHeader('RateLimit-Remaining', String(state.remaining));
    res.setHeader('RateLimit-Reset', String(state.reset));
    if (!state.allowed) {
      throw new HubError(429, 'Too Many Requests', `Rate limit of ${state.limit} requests per minute exceeded; retry in ${state.reset} s.`, {
        headers: { 'Retry-After': String(state.reset) },
      });
    }
    next();
  };
}
