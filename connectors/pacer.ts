/**
 * Paces requests by the rate-limit headers a system sends (remaining requests and the reset
 * time of the current window), per bucket (Okta limits each endpoint separately), so that no
 * request is sent into a window that is already exhausted, however many are in flight:
 *
 * - Requests in flight count against the last known `remaining`: never more in flight than
 *   the window has left.
 * - While a bucket's window is unknown (its first request, or the first after a reset), ONE
 *   probe request is sent and the others wait until its answer tells the window's state.
 * - The first answer from a newer window is the source of truth: an answer whose reset is
 *   later than the known one replaces the state; late answers from an older window change
 *   nothing; within one window the lowest `remaining` wins (counts only grow).
 * - After the reset time passes the bucket is unknown again (one probe), not assumed full.
 * - After a 429 nothing is sent to that bucket before the announced reset (or Retry-After).
 * - A probe sent after the reset by our clock that the system still counts in the old window
 *   means our clock is ahead of the system's: the pacer learns that lag and waits it out at
 *   every later reset.
 *
 * Systems that announce no window (only a Retry-After on a 429) are not paced once their first
 * answer shows that, except after a 429 (wait, then one probe).
 */
export interface WindowInfo {
  limit?: number;
  remaining: number;
  /** Epoch ms at which the window resets. */
  resetAtMs: number;
}

/** One request allowed into a bucket; hand it back with `release` (answered) or `abandon` (not). */
export interface Permit {
  readonly bucket: string;
  /** When the permit was granted, on the pacer's clock: the request left no earlier. */
  readonly sentAtMs: number;
  /** The one request sent while the bucket's window was unknown. */
  readonly probe: boolean;
}

/**
 * `unknown`: the current window's state is not known (send one probe); `known`: `remaining`
 * and `resetAtMs` describe the current window; `open`: the system announces no window.
 */
type Mode = 'unknown' | 'known' | 'open';

interface BucketState {
  mode: Mode;
  /** Some answer to this bucket carried a window: an answer without one then tells nothing. */
  announces: boolean;
  limit: number | null;
  /** Requests left in the window ending at `resetAtMs` (the last known figure once it passed). */
  remaining: number;
  /** The end of the latest window heard of; kept after it passes, to recognise late answers from it. */
  resetAtMs: number;
  /** Requests sent and not yet answered, whatever window they land in. */
  inFlight: number;
  probing: boolean;
  /** Resolved (and replaced) whenever an answer or a 429 changes what is known. */
  changed: Promise<void>;
  notify: () => void;
  /** One timer per bucket for the reset everybody waits for. */
  alarm: { atMs: number; done: Promise<void>; rang: boolean } | null;
}

/** Margin after an announced reset, for clock granularity between the two sides. */
const RESET_MARGIN_MS = 25;
/** The most clock lag the pacer will learn and wait out at a reset. */
const MAX_LAG_MS = 60_000;

export class RateLimitPacer {
  private readonly buckets = new Map<string, BucketState>();
  /** How far our clock is known to run ahead of the system's (learned from answers). */
  private lagMs = 0;

  constructor(
    private readonly sleep: (ms: number) => Promise<void>,
    private readonly onWait: () => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  private state(bucket: string): BucketState {
    let state = this.buckets.get(bucket);
    if (!state) {
      state = { mode: 'unknown', announces: false, limit: null, remaining: 0, resetAtMs: 0, inFlight: 0, probing: false, changed: Promise.resolve(), notify: () => undefined, alarm: null };
      this.renew(state);
      this.buckets.set(bucket, state);
    }
    return state;
  }

  private renew(state: BucketState): void {
    state.changed = new Promise<void>((resolve) => { state.notify = resolve; });
  }

  private wake(state: BucketState): void {
    state.notify();
    this.renew(state);
  }

  /** When the known window is over for us: its reset, the margin, and the lag learned. */
  private reopensAt(state: BucketState): number {
    return state.resetAtMs + RESET_MARGIN_MS + this.lagMs;
  }

  /** Waits until a request to `bucket` may be sent without landing in an exhausted window. */
  async acquire(bucket: string): Promise<Permit> {
    const state = this.state(bucket);
    for (;;) {
      const now = this.now();
      if (state.mode === 'known' && now >= this.reopensAt(state)) state.mode = 'unknown';
      if (state.mode === 'open' || (state.mode === 'known' && state.remaining - state.inFlight > 0)) return this.grant(state, bucket, now, false);
      if (state.mode === 'unknown' && !state.probing) {
        state.probing = true;
        return this.grant(state, bucket, now, true);
      }
      this.onWait();
      if (state.mode === 'unknown') {
        // The probe is out: its answer (or its failure) tells what to do.
        await state.changed;
      } else {
        // Exhausted: an answer of a request in flight may still show room (it was counted
        // already), else the reset reopens the window.
        const alarm = this.alarmAt(state, this.reopensAt(state), now);
        await (state.inFlight > 0 ? Promise.race([state.changed, alarm]) : alarm);
      }
    }
  }

  private grant(state: BucketState, bucket: string, now: number, probe: boolean): Permit {
    state.inFlight++;
    return { bucket, sentAtMs: now, probe };
  }

  private alarmAt(state: BucketState, atMs: number, now: number): Promise<void> {
    const current = state.alarm;
    if (current && current.atMs === atMs && !current.rang) return current.done;
    // (A timer may ring a millisecond early by the wall clock: then a new one, never a spin.)
    const alarm = { atMs, rang: false, done: Promise.resolve() };
    alarm.done = this.sleep(Math.max(1, atMs - now)).then(() => { alarm.rang = true; });
    state.alarm = alarm;
    return alarm.done;
  }

  /** The request was answered; `window` is what the answer said about the window (null: nothing). */
  release(permit: Permit, window: WindowInfo | null): void {
    const state = this.state(permit.bucket);
    this.settle(state, permit);
    if (window && Number.isFinite(window.remaining) && Number.isFinite(window.resetAtMs)) this.learn(state, permit, window);
    else if (permit.probe && !state.announces && state.mode === 'unknown') state.mode = 'open';
    this.wake(state);
  }

  /** The request got no answer (network error, cancellation): nothing learned, the slot is free. */
  abandon(permit: Permit): void {
    const state = this.state(permit.bucket);
    this.settle(state, permit);
    this.wake(state);
  }

  private settle(state: BucketState, permit: Permit): void {
    state.inFlight = Math.max(0, state.inFlight - 1);
    if (permit.probe) state.probing = false;
  }

  private learn(state: BucketState, permit: Permit, window: WindowInfo): void {
    state.announces = true;
    if (window.limit !== undefined && Number.isFinite(window.limit)) state.limit = window.limit;
    const remaining = Math.max(0, window.remaining);
    if (window.resetAtMs > state.resetAtMs) {
      // The first answer from a newer window: the source of truth for it.
      state.mode = 'known';
      state.remaining = remaining;
      state.resetAtMs = window.resetAtMs;
      return;
    }
    if (state.mode === 'known') {
      // The same window: counts only grow, the lowest figure wins; an older one's late answer
      // says nothing about the current window.
      if (window.resetAtMs === state.resetAtMs) state.remaining = Math.min(state.remaining, remaining);
      return;
    }
    // We took the last known window for over and the answer is not from a newer one. An answer
    // to a request sent before that reset is merely late: it must not pass for the state of the
    // window now. A request sent after it was counted in this window, so this window is running.
    if (permit.sentAtMs < state.resetAtMs) return;
    if (window.resetAtMs <= permit.sentAtMs) {
      // Counted in a window that by our clock had ended when the request left: our clock runs
      // ahead of the system's by more than that. Wait out (twice) that much at every reset.
      this.lagMs = Math.min(MAX_LAG_MS, Math.max(this.lagMs, 2 * (permit.sentAtMs - window.resetAtMs)));
    }
    state.remaining = window.resetAtMs === state.resetAtMs ? Math.min(state.remaining, remaining) : remaining;
    state.resetAtMs = window.resetAtMs;
    state.mode = 'known';
  }

  /**
   * A 429: nothing more to this bucket until Retry-After, else the reset the 429 announced,
   * else a second. Returns how long the bucket now waits (ms).
   */
  throttled(bucket: string, announced: { retryAfterMs?: number; resetAtMs?: number } = {}): number {
    const state = this.state(bucket);
    const now = this.now();
    const until = announced.retryAfterMs !== undefined ? now + announced.retryAfterMs : (announced.resetAtMs ?? now + 1000);
    if (until > state.resetAtMs) {
      state.resetAtMs = until;
      state.mode = 'known';
      state.remaining = 0;
    } else if (state.mode !== 'unknown' && (announced.retryAfterMs !== undefined || until === state.resetAtMs)) {
      // A Retry-After within the known window: nothing more before that window's reset.
      state.mode = 'known';
      state.remaining = 0;
    }
    // (A 429 announcing an older window is a late answer: the current window's state stands.)
    this.wake(state);
    return Math.max(0, this.reopensAt(state) - now);
  }
}
