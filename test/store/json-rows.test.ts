/**
 * Reads returned as one JSON document built by the database (store/json-rows.ts), as a
 * delivery's claim and a run's view read their rows: the same rows, in order, on each store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, openPglite, openPostgres, type Db } from '../../store/db.js';
import { rowsAsJson } from '../../store/json-rows.js';
import { freshPostgresDatabase } from '../helpers/hub.js';

const STORES: Record<string, (dir: string) => Promise<Db>> = {
  'PGlite on its thread': (dir) => openDb({ databaseUrl: null, dataDir: dir }),
  'PGlite in process': () => openPglite(),
  PostgreSQL: async () => openPostgres(await freshPostgresDatabase()),
};

describe.each(Object.keys(STORES))('rows as JSON (%s)', (store) => {
  let dir: string;
  let db: Db;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hub-json-rows-'));
    db = await STORES[store]!(dir);
    await db.exec(`CREATE TABLE items (id text PRIMARY KEY, n int NOT NULL, raw json, doc jsonb, at timestamptz NOT NULL, note text)`);
    await db.query(`INSERT INTO items SELECT 'i' || lpad(g::text, 3, '0'), g, '{"b": 1, "a": 2, "a": 3}', '{"k": [1, "two", null]}', '2026-01-02T03:04:05.678Z', CASE WHEN g = 2 THEN E'quote " and \\\\ and \\u00e9' END FROM generate_series(1, 5) AS g`);
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('gives the rows a query would, in the order asked, json as stored and timestamps as ISO 8601', async () => {
    const rows = await rowsAsJson<{ id: string; n: number; raw: unknown; doc: unknown; at: string; note: string | null }>(db,
      'SELECT id, n, raw, doc, at, note FROM items WHERE n > $1 ORDER BY id DESC LIMIT $2', [1, 3], 'r.id DESC');
    expect(rows.map((r) => r.id)).toEqual(['i005', 'i004', 'i003']);
    expect(rows[0]).toMatchObject({ n: 5, doc: { k: [1, 'two', null] }, note: null });
    // A json column is embedded as written: the last of a repeated key wins, as JSON.parse of the text.
    expect(rows[0]!.raw).toEqual({ b: 1, a: 3 });
    expect(new Date(rows[0]!.at).toISOString()).toBe('2026-01-02T03:04:05.678Z');
    const [odd] = await rowsAsJson<{ note: string }>(db, 'SELECT note FROM items WHERE n = $1', [2], 'r.note');
    expect(odd!.note).toBe('quote " and \\ and é');
  });

  it('returns what a data-modifying statement changed, and nothing as an empty list', async () => {
    const changed = await rowsAsJson<{ id: string; n: number }>(db, 'UPDATE items SET n = n + 10 WHERE id = ANY($1) RETURNING id, n', [['i001', 'i003', 'nope']], 'r.id');
    expect(changed).toEqual([{ id: 'i001', n: 11 }, { id: 'i003', n: 13 }]);
    expect(await rowsAsJson(db, 'UPDATE items SET n = n + 1 WHERE id = $1 RETURNING id', ['nope'], 'r.id')).toEqual([]);
    expect((await db.query<{ n: number }>(`SELECT n FROM items WHERE id = 'i001'`))[0]!.n).toBe(11);
  });
});
