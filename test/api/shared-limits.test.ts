import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type Db } from '../../store/db.js';
import { EndpointSlotStore } from '../../store/shared-limits.js';
import { SharedEndpointGate } from '../../webhooks/endpoint-gate.js';
import { eventually, freshPostgresDatabase, startTestHub, type TestHub } from '../helpers/hub.js';

const LIMIT = 12;

/** Waits, if need be, for a fresh minute: the burst below must fall in one fixed window. */
async function awayFromWindowEnd(): Promise<void> {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 40_000) await new Promise((r) => setTimeout(r, 60_000 - intoMinute + 50));
}

describe('limits shared across processes through PostgreSQL', () => {
  let databaseUrl: string;
  let a: TestHub;
  let b: TestHub;
  const adminKey = `ehk_${randomBytes(24).toString('hex')}`;
  beforeAll(async () => {
    databaseUrl = await freshPostgresDatabase();
    const env = { HUB_RATE_LIMIT_PER_MINUTE: String(LIMIT), HUB_ADMIN_KEY: adminKey, HUB_MASTER_KEY: randomBytes(32).toString('base64') };
    a = await startTestHub({ databaseUrl, role: 'api', env });
    b = await startTestHub({ databaseUrl, role: 'api', env });
  });
  afterAll(async () => { await a?.stop(); await b?.stop(); });

  it('two API processes allow one key the configured rate in total, not twice it', async () => {
    await awayFromWindowEnd();
    const statuses: number[] = [];
    // Interleaved across both APIs, a few at a time, until both have refused.
    for (let round = 0; round < 8; round++) {
      const answers = await Promise.all([a, b, a, b].map((t) => t.call('GET', '/api/v1/me')));
      statuses.push(...answers.map((r) => r.status));
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(32 - LIMIT);
    const refused = await b.call('GET', '/api/v1/me');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('ratelimit-limit')).toBe(String(LIMIT));
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('unauthenticated requests share the client IP window across both APIs', async () => {
    await awayFromWindowEnd();
    const statuses: number[] = [];
    for (let round = 0; round < 8; round++) {
      const answers = await Promise.all([a, b, a, b].map((t) => fetch(`${t.url}/api/v1/me`).then((r) => r.status)));
      statuses.push(...answers);
    }
    // Under the limit: 401 (no key); over it: 429, whichever API answered.
    expect(statuses.filter((s) => s === 401)).toHaveLength(LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(32 - LIMIT);
  });
});

describe('webhook in-flight slots shared through PostgreSQL', () => {
  let db1: Db;
  let db2: Db;
  beforeAll(async () => {
    const url = await freshPostgresDatabase();
    // A hub applies the migrations; then two plain connections stand for two worker processes.
    const t = await startTestHub({ databaseUrl: url, role: 'api', env: { HUB_MASTER_KEY: randomBytes(32).toString('base64'), HUB_ADMIN_KEY: `ehk_${randomBytes(24).toString('hex')}` } });
    await t.stop();
    db1 = await openPostgres(url);
    db2 = await openPostgres(url);
  });
  afterAll(async () => { await db1?.close(); await db2?.close(); });

  it('two processes together hold at most the cap; a dead holder’s slots come back', async () => {
    const first = new SharedEndpointGate(new EndpointSlotStore(db1), 3, { ttlMs: 1_500, idleMs: 60_000, pollMs: 50 });
    const second = new SharedEndpointGate(new EndpointSlotStore(db2), 3, { ttlMs: 1_500, idleMs: 60_000, pollMs: 50 });
    try {
      const held = [await first.acquire('whk_1', 0), await first.acquire('whk_1', 0), await second.acquire('whk_1', 0)];
      expect(held.every(Boolean)).toBe(true);
      // The cap is spent across both: neither gets a fourth.
      expect(await first.acquire('whk_1', 0)).toBeNull();
      expect(await second.acquire('whk_1', 0)).toBeNull();
      // Another endpoint has its own cap.
      expect(await second.acquire('whk_2', 0)).not.toBeNull();
      // A slot released is reused by its holder's next request, and no one else's meanwhile.
      held[2]!();
      const again = await second.acquire('whk_1', 0);
      expect(again).not.toBeNull();
      expect(await new EndpointSlotStore(db1).held('whk_1')).toBe(3);

      // The first process dies with two requests in flight: it stops renewing and releases nothing.
      await first.close({ release: false });
      const taken = await eventually(async () => second.acquire('whk_1', 0), { timeoutMs: 20_000, intervalMs: 100 });
      expect(taken).not.toBeNull();
      await eventually(async () => (await second.acquire('whk_1', 0)) ?? null, { timeoutMs: 20_000, intervalMs: 100 });
      expect(second.holding('whk_1')).toBe(3);
      expect(await second.acquire('whk_1', 0)).toBeNull();
    } finally {
      await first.close();
      await second.close();
    }
    // Closing gives every slot back.
    expect(await new EndpointSlotStore(db1).held('whk_1')).toBe(0);
  });
});
