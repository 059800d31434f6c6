import { describe, expect, it } from 'vitest';
import { Authenticator, LruCache } from '../../api/auth.js';
import type { ApiKey, ApiKeyStore } from '../../store/api-keys.js';

describe('LruCache', () => {
  it('drops the least recently used entry, reads counting as use', () => {
    const lru = new LruCache<string, number>(3);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('c', 3);
    expect(lru.get('a')).toBe(1); // a is now the most recent; b the least
    lru.set('d', 4);
    expect([lru.get('a'), lru.get('b'), lru.get('c'), lru.get('d')]).toEqual([1, undefined, 3, 4]);
    expect(lru.size).toBe(3);
    lru.set('c', 30); // rewriting refreshes too: a is the least recent now
    lru.set('e', 5);
    expect([lru.get('a'), lru.get('c'), lru.get('d'), lru.get('e')]).toEqual([undefined, 30, 4, 5]);
    lru.deleteWhere((v) => v > 10);
    expect(lru.get('c')).toBeUndefined();
    expect(() => new LruCache(0)).toThrow();
  });
});

describe('Authenticator key cache', () => {
  const keyOf = (id: string): ApiKey => ({ id, name: id, workspace_id: 'ws', scopes: ['admin'] } as unknown as ApiKey);
  function fakeStore() {
    const revoked = new Set<string>();
    const calls: string[] = [];
    const store = {
      async verify(presented: string) {
        calls.push(presented);
        return presented.startsWith('ehk_') && !revoked.has(presented) ? keyOf(presented) : null;
      },
      async touch() {},
    } as unknown as ApiKeyStore;
    return { store, calls, revoked };
  }

  it('is bounded and evicts the least recently used key, not all of them, when full', async () => {
    const { store, calls } = fakeStore();
    const auth = new Authenticator(store, { maxCachedKeys: 3 });
    for (const k of ['ehk_a', 'ehk_b', 'ehk_c']) await auth.lookup(k);
    await auth.lookup('ehk_a'); // cached, and now the most recent
    await auth.lookup('ehk_d'); // evicts ehk_b only
    calls.length = 0;
    for (const k of ['ehk_a', 'ehk_c', 'ehk_d']) expect((await auth.lookup(k))?.id).toBe(k);
    expect(calls).toEqual([]);
    await auth.lookup('ehk_b');
    expect(calls).toEqual(['ehk_b']);
  });

  it('caches valid keys only, expires them after the TTL, and forgets a revoked key at once', async () => {
    const { store, calls, revoked } = fakeStore();
    let now = 1_000_000;
    const auth = new Authenticator(store, { now: () => now });
    expect(await auth.lookup('nope')).toBeNull();
    expect(await auth.lookup('nope')).toBeNull();
    expect(calls).toEqual(['nope', 'nope']); // an unknown key is not cached: made-up keys cannot push real ones out
    expect(auth.cached('nope')).toBeNull();

    await auth.lookup('ehk_x');
    await auth.lookup('ehk_y');
    expect(auth.cached('ehk_x')?.id).toBe('ehk_x');
    revoked.add('ehk_x');
    auth.forget('ehk_x');
    expect(auth.cached('ehk_x')).toBeNull();
    expect(await auth.lookup('ehk_x')).toBeNull();
    expect(auth.cached('ehk_y')?.id).toBe('ehk_y'); // other keys stay cached
    auth.forget();
    expect(auth.cached('ehk_y')).toBeNull();

    await auth.lookup('ehk_y');
    now += 5_001;
    expect(auth.cached('ehk_y')).toBeNull();
  });
});
