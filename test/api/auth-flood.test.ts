import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { ApiKeyStore } from '../../store/api-keys.js';

const LIMIT = 20;
const garbageKey = () => `ehk_${randomBytes(24).toString('base64url')}`;

describe('a flood of made-up API keys from one IP', () => {
  let t: TestHub;
  beforeAll(async () => { t = await startTestHub({ env: { HUB_RATE_LIMIT_PER_MINUTE: String(LIMIT) } }); });
  afterAll(async () => { await t?.stop(); });
  afterEach(() => { vi.restoreAllMocks(); });

  it('is answered 429 once the IP’s window is spent, without looking those keys up in the database', async () => {
    // The test's own key is verified (and cached) before the flood starts.
    expect((await t.call('GET', '/api/v1/me')).status).toBe(200);
    const verify = vi.spyOn(ApiKeyStore.prototype, 'verify');

    const flood = 3 * LIMIT;
    const statuses = await Promise.all(Array.from({ length: flood }, () => t.call('GET', '/api/v1/me', { key: garbageKey() }).then((r) => r.status)));
    const unauthorized = statuses.filter((s) => s === 401).length;
    const limited = statuses.filter((s) => s === 429).length;
    expect(unauthorized + limited).toBe(flood);
    // At most the limit per window (the flood may straddle two windows), and every 429 was refused before any lookup.
    expect(unauthorized).toBeLessThanOrEqual(2 * LIMIT);
    expect(limited).toBeGreaterThanOrEqual(flood - 2 * LIMIT);
    expect(verify).toHaveBeenCalledTimes(unauthorized);

    // Requests without any key share the IP's window; the cached valid key keeps its own.
    verify.mockClear();
    const anonymous = await t.call('GET', '/api/v1/me', { key: null });
    const bad = await t.call('GET', '/api/v1/me', { key: garbageKey() });
    if (limited >= flood - LIMIT) {
      // All of the flood fell in one window: it is spent.
      expect([anonymous.status, bad.status]).toEqual([429, 429]);
      expect(bad.headers.get('content-type')).toContain('application/problem+json');
      expect(Number(bad.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(bad.headers.get('ratelimit-remaining')).toBe('0');
      expect(verify).not.toHaveBeenCalled();
    }
    const mine = await t.call('GET', '/api/v1/me');
    expect(mine.status, mine.text).toBe(200);
  });
});
