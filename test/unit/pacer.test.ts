import { describe, expect, it } from 'vitest';
import { RateLimitPacer, mapConcurrent } from '../../connectors/pacer.js';

/** A pacer on a fake clock: sleeping advances time, so waits are exact and instant. */
function fakePacer() {
  let now = 1_000_000;
  const sleeps: number[] = [];
  const pacer = new RateLimitPacer(async (ms) => { sleeps.push(ms); now += ms; }, () => undefined, () => now);
  return { pacer, sleeps, now: () => now, advance: (ms: number) => { now += ms; } };
}

describe('rate-limit pacer', () => {
  it('sends nothing into an exhausted window and resumes after the reset', async () => {
    const { pacer, sleeps, now } = fakePacer();
    await pacer.acquire('users');
    pacer.release('users', { limit: 2, remaining: 0, resetAtMs: now() + 1000 });
    await pacer.acquire('users');
    expect(sleeps).toEqual([1025]);
    pacer.release('users', { limit: 2, remaining: 1, resetAtMs: now() + 1000 });
  });

  it('counts requests in flight against the remaining budget', async () => {
    const { pacer, sleeps, now } = fakePacer();
    await pacer.acquire('b');
    pacer.release('b', { limit: 3, remaining: 2, resetAtMs: now() + 500 });
    await pacer.acquire('b');
    await pacer.acquire('b');
    await pacer.acquire('b'); // third in flight with 2 remaining: waits for the reset
    expect(sleeps).toEqual([525]);
  });

  it('after a 429 waits for the announced reset even for systems without rate-limit headers', async () => {
    const { pacer, sleeps, now } = fakePacer();
    await pacer.acquire('api');
    pacer.release('api', null);
    pacer.throttled('api', now() + 2000);
    await pacer.acquire('api');
    expect(sleeps).toEqual([2025]);
    pacer.release('api', null);
    await pacer.acquire('api'); // no headers, no limit known: nothing to wait for
    expect(sleeps).toHaveLength(1);
  });

  it('keeps buckets apart', async () => {
    const { pacer, sleeps, now } = fakePacer();
    await pacer.acquire('a');
    pacer.release('a', { remaining: 0, resetAtMs: now() + 1000 });
    await pacer.acquire('b');
    expect(sleeps).toEqual([]);
  });
});

describe('mapConcurrent', () => {
  it('keeps order and never exceeds the concurrency', async () => {
    let active = 0;
    let peak = 0;
    const out = await mapConcurrent([5, 1, 4, 2, 3], 2, async (n) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, n));
      active--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });
});
