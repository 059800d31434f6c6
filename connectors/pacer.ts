/**
 * Paces requests by the rate-limit headers a system sends (remaining requests and the reset
 * time of the current window), per bucket (Okta limits each endpoint separately). With
 * several requests in flight it counts them against `remaining`, so that it waits for the
 * reset instead of provoking a 429; after a 429 nothing is sent to that bucket before the
 * announced reset.
 */
export interface WindowInfo {
  limit?: number;
  remaining: number;
  /** Epoch ms at which the window resets. */
  resetAtMs: number;
}

interface BucketState {
  limit: number | null;
  remaining: number;
  resetAtMs: number;
  inFlight: number;
}

/** Margin after an announced reset, for clock granularity between the two sides. */
const RESET_MARGIN_MS = 25;

export class RateLimitPacer {
  private readonly buckets = new Map<string, BucketState>();

  constructor(
    private readonly sleep: (ms: number) => Promise<void>,
    private readonly onWait: () => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  private state(bucket: string): BucketState {
    let state = this.buckets.get(bucket);
    if (!state) {
      state = { limit: null, remaining: Number.POSITIVE_INFINITY, resetAtMs: 0, inFlight: 0 };
      this.buckets.set(bucket, state);
    }
    return state;
  }

  /** Waits until a request to `bucket` fits in the window, then counts it as in flight. */
  async acquire(bucket: string): Promise<void> {
    const state = this.state(bucket);
    for (;;) {
      const now = this.now();
      if (state.resetAtMs > 0 && now >= state.resetAtMs + RESET_MARGIN_MS) {
        // A new window: until a response says otherwise, assume the full limit (or no limit,
        // for systems that only announce a Retry-After on a 429).
        state.remaining = state.limit ?? Number.POSITIVE_INFINITY;
        state.resetAtMs = 0;
      }
      if (state.remaining - state.inFlight > 0 || state.resetAtMs === 0) break;
      this.onWait();
      await this.sleep(Math.max(1, state.resetAtMs + RESET_MARGIN_MS - now));
    }
    state.inFlight++;
  }

  /** Records what a response said about the window (or nothing, when it had no headers). */
  release(bucket: string, window: WindowInfo | null): void {
    const state = this.state(bucket);
    state.inFlight = Math.max(0, state.inFlight - 1);
    if (!window) return;
    if (window.limit !== undefined) state.limit = window.limit;
    // Responses can arrive out of order: the later window or the lower count wins.
    if (window.resetAtMs > state.resetAtMs || state.resetAtMs === 0) {
      state.resetAtMs = window.resetAtMs;
      state.remaining = window.remaining;
    } else if (window.resetAtMs === state.resetAtMs) {
      state.remaining = Math.min(state.remaining, window.remaining);
    }
  }

  /** A 429: nothing more to this bucket until the reset. */
  throttled(bucket: string, resetAtMs: number): void {
    const state = this.state(bucket);
    state.remaining = 0;
    state.resetAtMs = Math.max(state.resetAtMs, resetAtMs);
  }
}

/** Runs `fn` over `items` with at most `concurrency` at a time, keeping the order of results. */
export async function mapConcurrent<T, R>(items: T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  });
  await Promise.all(workers);
  return results;
}
