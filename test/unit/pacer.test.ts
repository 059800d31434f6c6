import { describe, expect, it } from 'vitest';
import { RateLimitPacer, type Permit } from '../../connectors/pacer.js';
import { mapConcurrent } from '../../lib/map-concurrent.js';

/**
 * A pacer on a fake clock. Sleeps are recorded and ring only when the test moves the clock
 * past them, so the test decides what happens first: an answer or the reset.
 */
function fakePacer() {
  let now = 1_000_000;
  const sleeps: number[] = [];
  const timers: { atMs: number; ring: () => void }[] = [];
  const pacer = new RateLimitPacer(
    (ms) => new Promise<void>((ring) => { sleeps.push(ms); timers.push({ atMs: now + ms, ring }); }),
    () => undefined,
    () => now,
  );
  const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
  return {
    pacer,
    sleeps,
    now: () => now,
    flush,
    /** Moves the clock to `atMs`, rings the timers due and lets the woken acquirers run. */
    async advanceTo(atMs: number) {
      now = atMs;
      for (const timer of timers.filter((t) => t.atMs <= now)) {
        timers.splice(timers.indexOf(timer), 1);
        timer.ring();
      }
      await flush();
    },
  };
}

/** An acquire in progress: whether it was granted yet, and the permit. */
function pending(promise: Promise<Permit>) {
  const state: { granted: boolean; permit?: Permit } = { granted: false };
  void promise.then((permit) => { state.granted = true; state.permit = permit; });
  return state;
}
const granted = (list: ReturnType<typeof pending>[]) => list.filter((p) => p.granted);

describe('rate-limit pacer', () => {
  it('sends one probe while a bucket is unknown and holds the others until its answer', async () => {
    const { pacer, now, flush } = fakePacer();
    const probe = await pacer.acquire('users');
    expect(probe.probe).toBe(true);
    const others = [1, 2, 3, 4].map(() => pending(pacer.acquire('users')));
    await flush();
    expect(granted(others)).toHaveLength(0);
    // The answer says 2 remain: exactly 2 more go, the rest wait.
    pacer.release(probe, { limit: 60, remaining: 2, resetAtMs: now() + 1000 });
    await flush();
    expect(granted(others)).toHaveLength(2);
    expect(granted(others).every((p) => !p.permit!.probe)).toBe(true);
  });

  it('never has more requests in flight than the window has left', async () => {
    const { pacer, now, flush, sleeps, advanceTo } = fakePacer();
    const resetAtMs = now() + 1000;
    pacer.release(await pacer.acquire('b'), { limit: 60, remaining: 3, resetAtMs });
    const first = [1, 2, 3].map(() => pending(pacer.acquire('b')));
    const fourth = pending(pacer.acquire('b'));
    await flush();
    expect(granted(first)).toHaveLength(3);
    expect(fourth.granted).toBe(false); // 3 remaining, 3 in flight
    // The answers count down: still no room, and once nothing is in flight the reset is awaited.
    first.forEach((p, i) => pacer.release(p.permit!, { limit: 60, remaining: 2 - i, resetAtMs }));
    await flush();
    expect(fourth.granted).toBe(false);
    expect(sleeps).toEqual([1025]);
    await advanceTo(resetAtMs + 25);
    expect(fourth.granted).toBe(true);
    expect(fourth.permit!.probe).toBe(true); // the new window is unknown: a probe
  });

  it('after the reset the bucket is unknown (one probe), not assumed full', async () => {
    const { pacer, now, flush, advanceTo } = fakePacer();
    const resetAtMs = now() + 1000;
    pacer.release(await pacer.acquire('b'), { limit: 60, remaining: 0, resetAtMs });
    const waiting = [1, 2, 3].map(() => pending(pacer.acquire('b')));
    await advanceTo(resetAtMs + 25);
    expect(granted(waiting)).toHaveLength(1);
    const probe = granted(waiting)[0]!.permit!;
    expect(probe.probe).toBe(true);
    // Someone else used the new window already: its answer, not the limit, says what is left.
    pacer.release(probe, { limit: 60, remaining: 1, resetAtMs: resetAtMs + 1000 });
    await flush();
    expect(granted(waiting)).toHaveLength(2);
  });

  it('late answers from the previous window neither stand in for the probe nor inflate remaining', async () => {
    const { pacer, now, flush, advanceTo } = fakePacer();
    const r1 = now() + 1000;
    pacer.release(await pacer.acquire('b'), { limit: 60, remaining: 2, resetAtMs: r1 });
    const x = await pacer.acquire('b');
    const y = await pacer.acquire('b'); // sent in the old window, answered late
    const waiting = [1, 2, 3].map(() => pending(pacer.acquire('b')));
    await advanceTo(r1 + 25);
    expect(granted(waiting)).toHaveLength(1); // the probe of the new window
    const probe = granted(waiting)[0]!.permit!;

    pacer.release(x, { limit: 60, remaining: 1, resetAtMs: r1 }); // late, old window
    await flush();
    expect(granted(waiting)).toHaveLength(1); // still waiting for the probe's answer

    const r2 = r1 + 1000;
    pacer.release(probe, { limit: 60, remaining: 1, resetAtMs: r2 });
    await flush();
    expect(granted(waiting)).toHaveLength(1); // 1 left, y still in flight (it may land in this window)

    pacer.release(y, { limit: 60, remaining: 30, resetAtMs: r1 }); // late, old window, with a higher figure
    await flush();
    expect(granted(waiting)).toHaveLength(2); // y's slot is free; remaining is still 1, not 30
  });

  it('an answer from a newer window replaces the state; within a window the lowest count wins', async () => {
    const { pacer, now, flush } = fakePacer();
    const r1 = now() + 1000;
    pacer.release(await pacer.acquire('b'), { limit: 60, remaining: 1, resetAtMs: r1 });
    const a = await pacer.acquire('b');
    const b = pending(pacer.acquire('b'));
    await flush();
    expect(b.granted).toBe(false);
    pacer.release(a, { limit: 60, remaining: 5, resetAtMs: r1 }); // a higher figure for the same window: ignored
    await flush();
    expect(b.granted).toBe(true); // a's slot is free: 1 remaining, nothing in flight
    const c = pending(pacer.acquire('b'));
    await flush();
    expect(c.granted).toBe(false);
    pacer.release(b.permit!, { limit: 60, remaining: 30, resetAtMs: r1 + 1000 }); // b landed in the next window
    await flush();
    expect(c.granted).toBe(true);
    const more = [1, 2, 3].map(() => pending(pacer.acquire('b')));
    await flush();
    expect(granted(more)).toHaveLength(3);
  });

  it('a probe that gets no answer leaves the bucket unknown: the next request probes', async () => {
    const { pacer, flush } = fakePacer();
    const probe = await pacer.acquire('b');
    const next = pending(pacer.acquire('b'));
    const third = pending(pacer.acquire('b'));
    await flush();
    pacer.abandon(probe);
    await flush();
    expect(next.granted).toBe(true);
    expect(next.permit!.probe).toBe(true);
    expect(third.granted).toBe(false);
  });

  it('a probe counted in the window our clock took for over: waits longer and learns the lag', async () => {
    const { pacer, now, sleeps, advanceTo, flush } = fakePacer();
    const r1 = now() + 1000;
    pacer.release(await pacer.acquire('b'), { limit: 60, remaining: 0, resetAtMs: r1 });
    const first = pending(pacer.acquire('b'));
    await advanceTo(r1 + 25);
    // The system's clock is behind ours: it still counts the probe in the old window and answers 429.
    pacer.release(first.permit!, { limit: 60, remaining: 0, resetAtMs: r1 });
    expect(pacer.throttled('b', { resetAtMs: r1 })).toBe(50); // twice the 25 ms it was early, at least
    const second = pending(pacer.acquire('b'));
    const held = pending(pacer.acquire('b'));
    await flush();
    expect(sleeps.at(-1)).toBe(50);
    await advanceTo(r1 + 75);
    expect(second.permit!.probe).toBe(true);
    expect(held.granted).toBe(false);
    const r2 = r1 + 1000;
    pacer.release(second.permit!, { limit: 60, remaining: 0, resetAtMs: r2 });
    await flush();
    // The next reset is waited out with the lag learned.
    expect(sleeps.at(-1)).toBe(r2 + 25 + 50 - now());
  });

  it('systems that announce no window: one probe, then unpaced; after a 429, Retry-After, then one probe', async () => {
    const { pacer, now, flush, sleeps, advanceTo } = fakePacer();
    const probe = await pacer.acquire('api');
    const held = pending(pacer.acquire('api'));
    await flush();
    expect(held.granted).toBe(false);
    pacer.release(probe, null);
    await flush();
    expect(held.granted).toBe(true);
    const free = [1, 2, 3].map(() => pending(pacer.acquire('api')));
    await flush();
    expect(granted(free)).toHaveLength(3);

    expect(pacer.throttled('api', { retryAfterMs: 2000 })).toBe(2025);
    const after = [1, 2].map(() => pending(pacer.acquire('api')));
    for (const p of [held, ...free]) pacer.release(p.permit!, null);
    await flush();
    expect(granted(after)).toHaveLength(0);
    expect(sleeps.at(-1)).toBe(2025);
    await advanceTo(now() + 2025);
    expect(granted(after)).toHaveLength(1);
    pacer.release(granted(after)[0]!.permit!, null);
    await flush();
    expect(granted(after)).toHaveLength(2);
  });

  it('a late 429 from an older window changes nothing; a Retry-After within the window is honoured', async () => {
    const { pacer, now, sleeps, flush } = fakePacer();
    const r1 = now() + 1000;
    pacer.release(await pacer.acquire('b'), { limit: 60, remaining: 5, resetAtMs: r1 });
    pacer.throttled('b', { resetAtMs: r1 - 1000 }); // the answer to a request of the previous window
    pacer.release(await pacer.acquire('b'), { limit: 60, remaining: 4, resetAtMs: r1 });
    expect(sleeps).toEqual([]);
    expect(pacer.throttled('b', { retryAfterMs: 300 })).toBe(1025);
    const next = pending(pacer.acquire('b'));
    await flush();
    expect(next.granted).toBe(false);
    expect(sleeps).toEqual([1025]); // until the window's reset, which is after the Retry-After
  });

  it('keeps buckets apart', async () => {
    const { pacer, now, sleeps } = fakePacer();
    pacer.release(await pacer.acquire('a'), { remaining: 0, resetAtMs: now() + 1000 });
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
