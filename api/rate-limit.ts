import type { Request, RequestHandler, Response } from 'express';
import { HubError } from '../lib/errors.js';
import type { RateLimitLeaseStore } from '../store/shared-limits.js';
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

/** Fixed windows per bucket (API key, or client IP when unauthenticated). */
export interface RateLimiter {
  /** Counts one request in `bucket`'s current window. */
  hit(bucket: string): WindowState | Promise<WindowState>;
  /** Takes back a hit (`state` is what hit returned), if its window is still the current one. */
  refund(bucket: string, state: WindowState): void;
  close?(): Promise<void>;
}

/**
 * Fixed one-minute windows per bucket, counted in this process: the embedded hub's limiter
 * (PGlite is one process's database). With PostgreSQL, SharedRateLimiter counts across processes.
 */
export class FixedWindowRateLimiter implements RateLimiter {
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

interface Lease {
  windowStart: number;
  /** What this process leased from the window, and used of it. */
  granted: number;
  used: number;
  /** The window's total taken by every process, as of the last lease. */
  taken: number;
  /** The next lease's size: doubled each time one is spent, within maxLease. */
  size: number;
  /** The window was spent at the last ask: asked again only after this time. */
  spentUntil: number;
  lastUsed: number;
  asking: Promise<void> | null;
}

/**
 * The same fixed windows, shared by every API process on one PostgreSQL: each process leases a
 * share of a bucket's window in one UPSERT (RateLimitLeaseStore.take) and serves requests from
 * it without asking the database, so the processes together grant at most the limit. A lease
 * starts at one request and doubles as it is spent (at most a tenth of the limit), so a quiet
 * bucket leases little; what a process leased and did not use for a second is given back for
 * the others, and a process that found the window spent asks again at most once a second.
 * When the database cannot be reached, each process falls back to counting on its own.
 */
export class SharedRateLimiter implements RateLimiter {
  private readonly leases = new Map<string, Lease>();
  private readonly fallback: FixedWindowRateLimiter;
  private readonly maxLease: number;
  private readonly timer: NodeJS.Timeout;
  private lastSweep = 0;

  constructor(
    private readonly store: RateLimitLeaseStore,
    private readonly limit: number,
    private readonly options: { windowMs?: number; idleMs?: number; now?: () => number; onError?: (err: unknown) => void } = {},
  ) {
    this.fallback = new FixedWindowRateLimiter(limit, this.windowMs, this.now);
    this.maxLease = Math.max(1, Math.ceil(limit / 10));
    this.timer = setInterval(() => void this.tidy(), Math.min(1_000, this.idleMs));
    this.timer.unref();
  }

  private get windowMs() { return this.options.windowMs ?? 60_000; }
  private get idleMs() { return this.options.idleMs ?? 1_000; }
  private now = () => (this.options.now ?? Date.now)();

  hit(bucket: string): WindowState | Promise<WindowState> {
    const now = this.now();
    const start = now - (now % this.windowMs);
    let lease = this.leases.get(bucket);
    if (!lease || lease.windowStart !== start) {
      lease = { windowStart: start, granted: 0, used: 0, taken: 0, size: 1, spentUntil: 0, lastUsed: now, asking: null };
      this.leases.set(bucket, lease);
    }
    lease.lastUsed = now;
    if (lease.used < lease.granted) return this.served(lease, now, true);
    return this.ask(bucket, lease, now);
  }

  private async ask(bucket: string, lease: Lease, now: number): Promise<WindowState> {
    try {
      while (lease.used >= lease.granted && this.now() >= lease.spentUntil && lease.windowStart === this.currentStart()) {
        lease.asking ??= this.store.take(bucket, new Date(lease.windowStart), lease.size, this.limit).then(({ granted, taken }) => {
          lease.granted += granted;
          lease.taken = taken;
          if (granted === 0) lease.spentUntil = this.now() + 1_000;
          else if (granted >= lease.size) lease.size = Math.min(this.maxLease, lease.size * 2);
        }).finally(() => { lease.asking = null; });
        await lease.asking;
      }
    } catch (err) {
      this.options.onError?.(err);
      return this.fallback.hit(bucket);
    }
    // The window ended while this request waited for its lease: it counts in the new one.
    if (lease.used >= lease.granted && lease.windowStart !== this.currentStart()) return this.hit(bucket);
    return this.served(lease, now, lease.used < lease.granted);
  }

  private currentStart(): number {
    const now = this.now();
    return now - (now % this.windowMs);
  }

  private served(lease: Lease, now: number, allowed: boolean): WindowState {
    if (allowed) lease.used++;
    return {
      limit: this.limit,
      remaining: Math.max(0, this.limit - lease.taken + (lease.granted - lease.used)),
      reset: Math.max(1, Math.ceil((lease.windowStart + this.windowMs - now) / 1000)),
      allowed,
      windowStart: lease.windowStart,
    };
  }

  refund(bucket: string, state: WindowState): void {
    const lease = this.leases.get(bucket);
    if (lease && lease.windowStart === state.windowStart && state.allowed && lease.used > 0) lease.used--;
    this.fallback.refund(bucket, state);
  }

  /** Gives back idle leases' unused quota, forgets past windows, and now and then old rows. */
  private async tidy(): Promise<void> {
    const now = this.now();
    const start = this.currentStart();
    try {
      for (const [bucket, lease] of this.leases) {
        if (lease.windowStart !== start) {
          this.leases.delete(bucket);
        } else if (!lease.asking && lease.granted > lease.used && now - lease.lastUsed >= this.idleMs) {
          const unused = lease.granted - lease.used;
          lease.granted = lease.used;
          lease.size = 1;
          await this.store.giveBack(bucket, new Date(lease.windowStart), unused);
        }
      }
      if (now - this.lastSweep > this.windowMs) {
        this.lastSweep = now;
        await this.store.sweep(new Date(start - this.windowMs));
      }
    } catch (err) {
      this.options.onError?.(err);
    }
  }

  /** Stops the timer and gives back what this process leased and did not use. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    const start = this.currentStart();
    for (const [bucket, lease] of this.leases) {
      if (lease.windowStart === start && lease.granted > lease.used) {
        await this.store.giveBack(bucket, new Date(start), lease.granted - lease.used).catch(() => undefined);
      }
    }
    this.leases.clear();
  }
}

const ipBucket = (req: Request) => `ip:${req.ip ?? 'unknown'}`;

/** Counts a request in `bucket`'s window, sets the RateLimit-* headers, and throws 429 over the limit. */
async function charge(limiter: RateLimiter, bucket: string, res: Response): Promise<WindowState> {
  const state = await limiter.hit(bucket);
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
export function unverifiedKeyGate(limiter: RateLimiter): LookupGate {
  return {
    async beforeLookup(req, res) {
      res.locals.rateLimitCharged = await charge(limiter, ipBucket(req), res);
    },
    verified(req, res) {
      const charged = res.locals.rateLimitCharged as WindowState | undefined;
      if (charged) limiter.refund(ipBucket(req), charged);
      res.locals.rateLimitCharged = undefined;
    },
  };
}

/** Counts the request against its key's window, or the client IP's when unauthenticated (unless the key gate did already). */
export function rateLimit(limiter: RateLimiter): RequestHandler {
  return async (req, res, next) => {
    if (res.locals.rateLimitCharged) return next();
    const principal = res.locals.principal as Principal | undefined;
    await charge(limiter, principal ? `key:${principal.keyId}` : ipBucket(req), res);
    next();
  };
}
