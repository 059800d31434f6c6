/**
 * Caps the requests in flight to each endpoint within this process, so that one slow
 * receiver holds at most `limit` sockets and never the whole worker. A caller that cannot
 * get a slot within `waitMs` is told so (null) and comes back later instead of occupying an
 * activity slot while it queues.
 */
export class EndpointGate {
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
