import { describe, expect, it } from 'vitest';
import { FaultQueue } from './common/faults.js';
import { assignCategories, Rng, seedToInt } from './common/random.js';
import { FixedWindowRateLimiter, ThrottleLedger } from './common/rate-limit.js';
import { iso } from './common/time.js';

describe('seeded randomness', () => {
  it('derives each record from (seed, stream, index) alone', () => {
    const draw = (index: number) => Rng.forRecord(seedToInt(7), 1, index).uuid();
    expect(draw(123)).toBe(draw(123));
    expect(draw(123)).not.toBe(draw(124));
    expect(Rng.forRecord(seedToInt('a'), 1, 5).next()).not.toBe(Rng.forRecord(seedToInt('b'), 1, 5).next());
  });

  it('places exact category counts, reproducibly', () => {
    const labels = assignCategories(1000, [10, 0, 250], new Rng(42));
    const count = (label: number) => labels.filter((l) => l === label).length;
    expect([count(1), count(2), count(3), count(0)]).toEqual([10, 0, 250, 740]);
    expect(assignCategories(1000, [10, 0, 250], new Rng(42))).toEqual(labels);
    expect(() => assignCategories(5, [3, 3], new Rng(1))).toThrow(RangeError);
  });
});

describe('iso', () => {
  it('formats exactly like Date#toISOString', () => {
    const samples = [0, 1, 999, 86_399_999, -1, Date.UTC(2024, 1, 29, 23, 59, 59, 5), Date.UTC(1999, 11, 31, 0, 0, 0, 40)];
    for (let n = 0; n < 2000; n++) samples.push(Math.floor(Rng.forRecord(1, 9, n).next() * 4e12));
    for (const ms of samples) expect(iso(ms)).toBe(new Date(ms).toISOString());
  });
});

describe('fixed-window rate limiter', () => {
  it('allows `limit` requests per aligned window, per bucket', () => {
    const limiter = new FixedWindowRateLimiter({ limit: 2, windowMs: 1000 });
    expect(limiter.hit('a', 10_100)).toEqual({ limit: 2, remaining: 1, resetAtMs: 11_000, exceeded: false });
    expect(limiter.hit('a', 10_200).remaining).toBe(0);
    expect(limiter.hit('a', 10_300).exceeded).toBe(true);
    expect(limiter.hit('b', 10_300).exceeded).toBe(false);
    expect(limiter.hit('a', 11_000)).toMatchObject({ remaining: 1, resetAtMs: 12_000, exceeded: false });
  });

  it('refuses windows that are not whole seconds, since resets are announced in seconds', () => {
    expect(() => new FixedWindowRateLimiter({ limit: 1, windowMs: 1500 })).toThrow(RangeError);
  });
});

describe('throttle ledger', () => {
  it('counts same-bucket requests that arrive after a 429 and before its reset', () => {
    const ledger = new ThrottleLedger();
    ledger.announce('users', 'limit', 1000, 2000);
    ledger.observe('users', 1500);
    ledger.observe('logs', 1600);
    ledger.observe('users', 2000);
    expect(ledger.events).toEqual([{ bucket: 'users', cause: 'limit', sentAtMs: 1000, resetAtMs: 2000, requestsBeforeReset: 1 }]);
    expect(ledger.requestsBeforeReset).toBe(1);
  });
});

describe('fault queue', () => {
  it('fires a fault for the next N matching requests only', () => {
    const faults = new FaultQueue();
    faults.inject({ kind: 'status', status: 503 }, 2, { path: '/api/v1/users' });
    expect(faults.pending).toBe(2);
    expect(faults.take('GET', '/api/v1/logs')).toBeUndefined();
    expect(faults.take('GET', '/api/v1/users')).toEqual({ kind: 'status', status: 503 });
    expect(faults.take('GET', '/api/v1/users/x/factors')).toEqual({ kind: 'status', status: 503 });
    expect(faults.take('GET', '/api/v1/users')).toBeUndefined();
    expect(() => faults.inject({ kind: 'drop' }, 0)).toThrow(RangeError);
  });
});
