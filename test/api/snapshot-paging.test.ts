import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { collect, createConnection } from '../helpers/collect.js';

const TOTAL = 6_700; // four parts of the 2000-record part index: 2000, 2000, 2000, 700
const PAGE = 500; // the source's page size: collection parts come out at exactly 2000 records

/** A source with TOTAL numbered records in pages of PAGE, and a second small dataset. */
function startSource(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const from = Number(url.searchParams.get('cursor') ?? 0);
    const total = url.pathname === '/small' ? 10 : TOTAL;
    const items = Array.from({ length: Math.min(PAGE, total - from) }, (_, i) => ({ id: `r-${from + i}`, n: from + i, note: 'x'.repeat(40) }));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ items, next: from + PAGE < total ? String(from + PAGE) : null }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server })));
}

describe('GET /api/v1/snapshots/:id pages by seeking to the part a cursor names', () => {
  let t: TestHub;
  let source: Awaited<ReturnType<typeof startSource>>;
  let big: { id: string; sha256: string };
  let small: { id: string };

  beforeAll(async () => {
    t = await startTestHub();
    source = await startSource();
    const pagination = { type: 'cursor', cursor_path: '$.next', cursor_param: 'cursor' };
    const connection = await createConnection(t.call, {
      type: 'http',
      config: { base_url: source.url, auth: { type: 'none' }, datasets: [{ name: 'big', path: '/big', records_path: '$.items', pagination }, { name: 'small', path: '/small', records_path: '$.items', pagination }] },
    });
    const result = await collect(t.call, connection, ['http.big', 'http.small']);
    expect(result.status, result.error ?? '').toBe('succeeded');
    big = result.snapshots.find((s) => s.dataset === 'http.big')!;
    small = result.snapshots.find((s) => s.dataset === 'http.small')!;
    expect(big).toMatchObject({ record_count: TOTAL });
  });
  afterAll(async () => { source?.server.close(); await t?.stop(); });

  async function pageThrough(limit: number): Promise<{ ns: number[]; cursors: string[] }> {
    const ns: number[] = [];
    const cursors: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.call('GET', `/api/v1/snapshots/${big.id}?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status, res.text).toBe(200);
      ns.push(...(res.body.records as { n: number }[]).map((r) => r.n));
      cursor = res.body.next_cursor;
      if (cursor) cursors.push(cursor);
    } while (cursor);
    return { ns, cursors };
  }

  it('gives every record exactly once and in order, whatever the page size', async () => {
    const all = Array.from({ length: TOTAL }, (_, i) => i);
    for (const limit of [1000, 333, 50]) {
      const { ns, cursors } = await pageThrough(limit);
      expect(ns, `limit=${limit}`).toEqual(all);
      expect(cursors).toHaveLength(Math.ceil(TOTAL / limit) - 1);
      for (const cursor of cursors) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    }
    const last = await t.call('GET', `/api/v1/snapshots/${big.id}?limit=1000&cursor=${(await pageThrough(1000)).cursors.at(-1)}`);
    expect(last.body.records).toHaveLength(700);
    expect(last.body.next_cursor).toBeNull();
  });

  it('reads only the part blob a deep page lies in, not the snapshot from record 0', async () => {
    const { cursors } = await pageThrough(500); // the index is built by now
    const reads = vi.spyOn(t.hub.blobs, 'stream');
    const writes = vi.spyOn(t.hub.blobs, 'put');
    try {
      // Cursor 9 starts at record 5000: part 2 (records 4000 … 5999), offset 1000.
      const deep = await t.call('GET', `/api/v1/snapshots/${big.id}?limit=500&cursor=${cursors[9]}`);
      expect(deep.status, deep.text).toBe(200);
      expect((deep.body.records as { n: number }[]).map((r) => r.n)).toEqual(Array.from({ length: 500 }, (_, i) => 5000 + i));
      expect(reads).toHaveBeenCalledTimes(1);
      expect(reads.mock.calls[0]![0]).not.toBe(big.sha256);

      // A page across a part boundary (records 5900 … 6099) reads the two parts it covers.
      reads.mockClear();
      const across = await t.call('GET', `/api/v1/snapshots/${big.id}?limit=200&cursor=${Buffer.from(JSON.stringify({ s: big.sha256.slice(0, 16), p: 2, o: 1900 })).toString('base64url')}`);
      expect((across.body.records as { n: number }[]).map((r) => r.n)).toEqual(Array.from({ length: 200 }, (_, i) => 5900 + i));
      expect(reads).toHaveBeenCalledTimes(2);
      expect(reads.mock.calls.map((c) => c[0])).not.toContain(big.sha256);
      // The source's pages made 2000-record collection parts: the index reuses those blobs.
      expect(writes).not.toHaveBeenCalled();
    } finally {
      reads.mockRestore();
      writes.mockRestore();
    }
  });

  it('answers a cursor it did not issue for this snapshot with a 400 problem', async () => {
    const fromSmall = await t.call('GET', `/api/v1/snapshots/${small.id}?limit=3`);
    expect(fromSmall.body.next_cursor).toEqual(expect.any(String));
    const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const s = big.sha256.slice(0, 16);
    for (const cursor of [
      'garbage', '%%%', '1000', fromSmall.body.next_cursor as string,
      forged({ s, p: -1, o: 0 }), forged({ s, p: 0, o: 2000 }), forged({ s, p: 3, o: 700 }), forged({ s, p: 1.5, o: 0 }), forged({ s, p: '1', o: 0 }), forged([1, 2]),
    ]) {
      const res = await t.call('GET', `/api/v1/snapshots/${big.id}?limit=10&cursor=${encodeURIComponent(cursor)}`);
      expect(res.status, cursor).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 400, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
    }
    const ok = await t.call('GET', `/api/v1/snapshots/${big.id}?limit=10&cursor=${forged({ s, p: 3, o: 699 })}`);
    expect((ok.body.records as { n: number }[]).map((r) => r.n)).toEqual([6699]);
    expect(ok.body.next_cursor).toBeNull();
  });
});
