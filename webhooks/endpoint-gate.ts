import { randomUUID } from 'node:crypto';
import type { EndpointSlotStore } from '../store/shared-limits.js';

/** The per-endpoint in-flight cap of webhook deliveries. */
export interface InFlightGate {
  /**
   * A slot for one request to `endpoint` (call the function returned once the request ended),
   * or null when none came free within `waitMs`.
   */
  acquire(endpoint: string, waitMs: number): Promise<(() => void) | null>;
  close?(): Promise<void>;
}

/**
 * Caps the requests in flight to each endpoint within this process, so that one slow
 * receiver holds at most `limit` sockets and never the whole worker. A caller that cannot
 * get a slot within `waitMs` is told so (null) and comes back later instead of occupying an
 * activity slot while it queues.
 */
export class EndpointGate implements InFlightGate {
  private readonly inFlight = new Map<string, number>();
  private readonly waiters = new Map<string, (() => void)[]>();

  constructor(private readonly limit: number) {}

  async acquire(endpoint: string, waitMs: number): Promise<(() => void) | null> {
    if ((this.inFlight.get(endpoint) ?? 0) >= this.limit) {
      const granted = await new Promise<boolean>((resolve) => {
        const wake = () => { clearTimeout(timer); resolve(true); };
        const timer = setTimeout(() => {
          const queue = this.waiters.get(endpoint) ?? [];
          const at = queue.indexOf(wake);
          if (at >= 0) queue.splice(at, 1);
          resolve(false);
        }, waitMs);
        this.waiters.set(endpoint, [...(this.waiters.get(endpoint) ?? []), wake]);
      });
      // A woken waiter inherits the slot of the request that finished (the count is unchanged).
      if (!granted) return null;
    } else {
      this.inFlight.set(endpoint, (this.inFlight.get(endpoint) ?? 0) + 1);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.get(endpoint)?.shift();
      if (next) return next();
      const left = (this.inFlight.get(endpoint) ?? 1) - 1;
      if (left > 0) this.inFlight.set(endpoint, left);
      else this.inFlight.delete(endpoint);
    };
  }

  /** Requests in flight to an endpoint now (tests and diagnostics). */
  current(endpoint: string): number {
    return this.inFlight.get(endpoint) ?? 0;
  }
}

interface Held {
  /** Slots this process holds for the endpoint, and how many of them carry a request now. */
  slots: number[];
  busy: number;
  idleSince: number;
  waiters: (() => void)[];
}

/**
 * The same cap shared by every worker process on one PostgreSQL: a process holds slots of an
 * endpoint's cap as rows with an expiring lease (EndpointSlotStore), claimed one at a time as
 * its requests need them and reused by its next requests without asking the database again.
 * It renews their leases while it lives and gives back the slots it has not used for a
 * second; a process that dies stops renewing, and its slots come back once their lease
 * expires (`ttlMs`, 30 s by default). A request that finds every slot held waits for one of
 * this process's to come free, asking the database again every `pollMs`, for up to `waitMs`.
 */
export class SharedEndpointGate implements InFlightGate {
  readonly holder = `gate_${randomUUID()}`;
  private readonly held = new Map<string, Held>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly store: EndpointSlotStore,
    private readonly limit: number,
    private readonly options: { ttlMs?: number; idleMs?: number; pollMs?: number; onError?: (err: unknown) => void } = {},
  ) {
    this.timer = setInterval(() => void this.tend(), Math.max(50, Math.min(this.ttlMs / 3, this.idleMs)));
    this.timer.unref();
  }

  private get ttlMs() { return this.options.ttlMs ?? 30_000; }
  private get idleMs() { return this.options.idleMs ?? 1_000; }
  private get pollMs() { return this.options.pollMs ?? 200; }

  async acquire(endpoint: string, waitMs: number): Promise<(() => void) | null> {
    const deadline = Date.now() + waitMs;
    let entry = this.held.get(endpoint);
    if (!entry) {
      entry = { slots: [], busy: 0, idleSince: Date.now(), waiters: [] };
      this.held.set(endpoint, entry);
    }
    for (;;) {
      if (this.closed) return null;
      if (entry.busy < entry.slots.length) break;
      const slot = await this.store.claim(endpoint, this.holder, this.limit, this.ttlMs);
      if (slot !== null) {
        entry.slots.push(slot);
        // Another request of this process may have taken a slot while this one asked.
        if (entry.busy < entry.slots.length) break;
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) return null;
      // Every slot is held: wait for one of ours to come free, or look again a little later.
      await new Promise<void>((resolve) => {
        const wake = () => { clearTimeout(timer); resolve(); };
        const timer = setTimeout(() => {
          const at = entry.waiters.indexOf(wake);
          if (at >= 0) entry.waiters.splice(at, 1);
          resolve();
        }, Math.min(left, this.pollMs));
        entry.waiters.push(wake);
      });
    }
    entry.busy++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      entry.busy--;
      entry.idleSince = Date.now();
      entry.waiters.shift()?.();
    };
  }

  /** Renews the leases of the slots held, and gives back those idle for idleMs. */
  private async tend(): Promise<void> {
    try {
      const now = Date.now();
      for (const [endpoint, entry] of this.held) {
        while (entry.slots.length > entry.busy && now - entry.idleSince >= this.idleMs && !entry.waiters.length) {
          const slot = entry.slots.pop()!;
          await this.store.release(endpoint, slot, this.holder);
        }
        if (!entry.slots.length && !entry.busy && !entry.waiters.length) this.held.delete(endpoint);
      }
      if (this.held.size) await this.store.renew(this.holder, this.ttlMs);
    } catch (err) {
      this.options.onError?.(err);
    }
  }

  /** Slots of `endpoint` held by this process now (tests and diagnostics). */
  holding(endpoint: string): number {
    return this.held.get(endpoint)?.slots.length ?? 0;
  }

  /**
   * Stops renewing; gives the slots back unless `release` is false (what a process that dies
   * does: its slots come back when their lease expires).
   */
  async close(options: { release?: boolean } = {}): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    if (options.release !== false) await this.store.releaseAll(this.holder).catch(() => undefined);
    this.held.clear();
  }
}
