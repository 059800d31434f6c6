/**
 * The shared rate limiter's leases (api/rate-limit.ts) at a window's end: requests waiting for
 * a lease when the window ends are counted in the new window, not refused for the old one.
 */
import { describe, expect, it } from 'vitest';
import { SharedRateLimiter } from '../../api/rate-limit.js';
import type { RateLimitLeaseStore } from '../../store/shared-limits.js';

/** The lease store's arithmetic (as its UPSERT does it), with each answer released by the test. */
function heldStore(limit: number) {
  const taken = new Map<string, number>();
  const held: (() => void)[] = [];
  const store = {
    take: (bucket: string, windowStart: Date, wanted: number) => new Promise<{ granted: number; taken: number }>((resolve) => {
      held.push(() => {
        const key = `${bucket}@${windowStart.getTime()}`;
        const before = taken.get(key) ?? 0;
        const granted = Math.min(wanted, Math.max(0, limit - before));
        taken.set(key, before + granted);
        resolve({ granted, taken: before + granted });
      });
    }),
    giveBack: async () => undefined,
    sweep: async () => undefined,
  } as unknown as RateLimitLeaseStore;
  return { store, release: () => { for (const answer of held.splice(0)) answer(); }, waiting: () => held.length };
}

describe('shared rate limiter', () => {
  it('requests that wait for a lease across the end of a window are counted in the next one, not refused', async () => {
    let now = 59_990;
    const { store, release, waiting } = heldStore(1000);
    const limiter = new SharedRateLimiter(store, 1000, { now: () => now, idleMs: 60_000 });
    try {
      const answers = Array.from({ length: 20 }, () => Promise.resolve(limiter.hit('key:k')));
      await new Promise((r) => setImmediate(r));
      expect(waiting()).toBe(1);
      // The database answers after the minute turned.
      now = 60_010;
      for (let i = 0; i < 50 && waiting() > 0; i++) {
        release();
        await new Promise((r) => setImmediate(r));
      }
      const states = await Promise.all(answers);
      expect(states.filter((s) => !s.allowed)).toEqual([]);
      // The old window's one-request lease served one of them; the rest count in the new window.
      expect(states.filter((s) => s.windowStart === 0)).toHaveLength(1);
      expect(states.filter((s) => s.windowStart === 60_000)).toHaveLength(19);
    } finally {
      await limiter.close();
    }
  });

  it('still refuses what the window does not hold, whichever process took it', async () => {
    const now = 10_000;
    const { store, release } = heldStore(3);
    const limiter = new SharedRateLimiter(store, 3, { now: () => now, idleMs: 60_000 });
    try {
      const answers = Array.from({ length: 5 }, () => Promise.resolve(limiter.hit('key:k')));
      for (let i = 0; i < 20; i++) {
        release();
        await new Promise((r) => setImmediate(r));
      }
      const states = await Promise.all(answers);
      expect(states.map((s) => s.allowed).filter(Boolean)).toHaveLength(3);
      expect(states.filter((s) => !s.allowed)).toHaveLength(2);
    } finally {
      await limiter.close();
    }
  });
});
