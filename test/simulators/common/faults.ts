// Injectable faults: "the next N requests (matching a path) fail this way".
// Each simulator renders a fault in its vendor's own shape (Okta's errorCode
// body, Jamf's httpStatus body, DRF's {"detail"}), so a connector meets the
// failure it would meet in production.

export type Fault =
  /** An error status in the vendor's error shape: 500/502/503, 401, 403, … */
  | { kind: 'status'; status: number }
  /** 429 with the vendor's rate-limit headers, announcing a reset this many seconds ahead. */
  | { kind: 'rateLimit'; retryAfterSeconds: number }
  /** Hold the request this long, then answer it normally. */
  | { kind: 'delay'; ms: number }
  /** Destroy the socket without answering. */
  | { kind: 'drop' };

export interface FaultTarget {
  /** Only requests whose path starts with this (string) or matches it (RegExp). */
  path?: string | RegExp;
  method?: string;
}

interface ArmedFault {
  fault: Fault;
  remaining: number;
  target: FaultTarget;
}

export class FaultQueue {
  private readonly armed: ArmedFault[] = [];

  /** Arms `fault` for the next `times` requests that match `target` (default: any request). */
  inject(fault: Fault, times = 1, target: FaultTarget = {}): void {
    if (!Number.isInteger(times) || times < 1) throw new RangeError(`times must be a positive integer, got ${times}`);
    this.armed.push({ fault, remaining: times, target });
  }

  clear(): void {
    this.armed.length = 0;
  }

  /** How many faulty answers are still armed. */
  get pending(): number {
    return this.armed.reduce((sum, armed) => sum + armed.remaining, 0);
  }

  /** Consumes and returns the first armed fault matching this request, if any. */
  take(method: string, path: string): Fault | undefined {
    const index = this.armed.findIndex((armed) => matches(armed.target, method, path));
    const armed = this.armed[index];
    if (!armed) return undefined;
    armed.remaining -= 1;
    if (armed.remaining === 0) this.armed.splice(index, 1);
    return armed.fault;
  }
}

function matches(target: FaultTarget, method: string, path: string): boolean {
  if (target.method && target.method.toUpperCase() !== method) return false;
  if (target.path === undefined) return true;
  return typeof target.path === 'string' ? path.startsWith(target.path) : target.path.test(path);
}

export function describeFault(fault: Fault): string {
  switch (fault.kind) {
    case 'status':
      return `status ${fault.status}`;
    case 'rateLimit':
      return `rateLimit ${fault.retryAfterSeconds}s`;
    case 'delay':
      return `delay ${fault.ms}ms`;
    case 'drop':
      return 'drop';
  }
}
