import { expect } from 'vitest';
import type { SimulatorServer } from '../simulators/common/server.js';

/**
 * The rate-limit etiquette a collection must keep: no request into a bucket whose window was
 * already exhausted (each such request is a 429 that a real org logs and warns its admins
 * about) and none before an announced reset. The failure lists the offending requests.
 */
export function expectNoRequestsIntoExhaustedBuckets(sim: Pick<SimulatorServer, 'throttling'>): void {
  const offending = sim.throttling.requestsIntoExhaustedBuckets.map(({ bucket, sentAtMs, resetAtMs }) => ({ bucket, sentAtMs, resetAtMs }));
  const perBucket = new Map<string, number>();
  for (const { bucket } of offending) perBucket.set(bucket, (perBucket.get(bucket) ?? 0) + 1);
  const summary = [...perBucket].map(([bucket, n]) => `${bucket}: ${n}`).join(', ');
  expect(offending, `${offending.length} request(s) sent into an exhausted rate-limit bucket (${summary})`).toEqual([]);
  expect(sim.throttling.requestsBeforeReset, 'requests sent before an announced reset').toBe(0);
}
