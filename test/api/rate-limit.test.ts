import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caller, startTestHub, type TestHub } from '../helpers/hub.js';

describe('rate limit: fixed one-minute window per key (per IP when unauthenticated)', () => {
  let t: TestHub;
  beforeAll(async () => { t = await startTestHub({ env: { HUB_RATE_LIMIT_PER_MINUTE: '5' } }); });
  afterAll(async () => { await t?.stop(); });

  it('counts down in RateLimit-* headers, then answers 429 with Retry-After and a problem', async () => {
    const created = await t.call('POST', '/api/v1/api-keys', { json: { name: 'limited', scopes: ['runs:read'] } });
    const limited = caller(t.url, created.body.key);
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await limited('GET', '/api/v1/me');
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBe('5');
      const reset = Number(res.headers.get('ratelimit-reset'));
      expect(reset).toBeGreaterThanOrEqual(1);
      expect(reset).toBeLessThanOrEqual(60);
      remaining.push(Number(res.headers.get('ratelimit-remaining')));
    }
    // The window may roll over mid-loop; within one window the count goes down by one each time.
    expect(remaining[remaining.length - 1]).toBeLessThan(remaining[0]!);

    let res = await limited('GET', '/api/v1/me');
    for (let i = 0; res.status === 200 && i < 10; i++) res = await limited('GET', '/api/v1/me');
    expect(res.status).toBe(429);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(res.headers.get('ratelimit-remaining')).toBe('0');
    expect(res.body.status).toBe(429);

    // Another key has its own window; /healthz is never limited.
    expect((await t.call('GET', '/api/v1/me')).status).toBe(200);
    for (let i = 0; i < 8; i++) expect((await limited('GET', '/healthz')).status).toBe(200);
  });

  it('limits unauthenticated callers per IP, bad keys included', async () => {
    let last = 0;
    for (let i = 0; i < 12; i++) last = (await t.call('GET', '/api/v1/me', { key: `ehk_guess${i}${'x'.repeat(40)}` })).status;
    expect(last).toBe(429);
  });
});
