import v8 from 'node:v8';
import vm from 'node:vm';

export interface Measured<T> {
  result: T;
  ms: number;
  baseline: NodeJS.MemoryUsage;
  peak: NodeJS.MemoryUsage;
}

/** A full garbage collection, so that a baseline is what the process holds, not what it has yet to collect. */
export function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

/** Samples memory every 20 ms while `fn` runs, against a baseline taken after a full GC. */
export async function measure<T>(fn: () => Promise<T>): Promise<Measured<T>> {
  collectGarbage();
  const baseline = process.memoryUsage();
  let peak = baseline;
  const timer = setInterval(() => {
    const now = process.memoryUsage();
    if (now.rss > peak.rss) peak = now;
  }, 20);
  const started = performance.now();
  try {
    const result = await fn();
    return { result, ms: performance.now() - started, baseline, peak };
  } finally {
    clearInterval(timer);
  }
}
