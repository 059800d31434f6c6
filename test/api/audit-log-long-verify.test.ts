import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore } from '../../store/api-keys.js';
import type { Db, Queryable } from '../../store/db.js';
import { WorkspaceStore } from '../../store/workspaces.js';
import { appendBulkChain } from '../helpers/audit-bulk.js';
import { caller, startTestHub, type ApiCaller, type CallResult, type TestHub } from '../helpers/hub.js';

/**
 * Resolves once the hub has opened `count` read-only REPEATABLE READ snapshots (what a verify
 * reads in), watching the hub's own database handle; the watch ends there.
 */
function whenVerifyReads(db: Db, count = 1): Promise<void> {
  return new Promise((resolve) => {
    const original = db.transaction;
    let opened = 0;
    const watched = <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> => original.call(db, (tx: Queryable) => fn({
      query: (sql, params) => {
        if (/REPEATABLE READ READ ONLY/i.test(sql) && db.transaction === watched && ++opened >= count) {
          db.transaction = original;
          resolve();
        }
        return tx.query(sql, params);
      },
      exec: (sql) => tx.exec(sql),
    })) as Promise<T>;
    (db as { transaction: Db['transaction'] }).transaction = watched;
  });
}

/** The order in which the tracked requests answered. */
function tracker() {
  const order: string[] = [];
  return {
    order,
    track<T>(name: string, request: Promise<T>): Promise<T> {
      return request.then((value) => { order.push(name); return value; });
    },
  };
}

const sha256Lines = (hashes: string[]) => createHash('sha256').update(hashes.map((h) => `${h}\n`).join('')).digest('hex');
const readyzOf = (t: TestHub) => fetch(`${t.url}/readyz`).then(async (r) => ({ status: r.status, body: await r.json() as unknown }));
/** /readyz answered and found the database answering (Temporal's own check is not what a verify could hold up). */
const READY = { body: { checks: expect.objectContaining({ database: 'ok' }) } };

/** A workspace with a long chain (admin key) and a neighbour workspace (a reader). */
async function setUp(t: TestHub, entries: number) {
  const workspaces = new WorkspaceStore(t.hub.db);
  const keys = new ApiKeyStore(t.hub.db);
  const ws = await workspaces.create('big-chain');
  const big = { id: ws.id, call: caller(t.url, (await keys.create({ workspaceId: ws.id, name: 'admin', scopes: ['admin'] })).key) };
  const other = await workspaces.create('neighbour');
  const neighbour = caller(t.url, (await keys.create({ workspaceId: other.id, name: 'reader', scopes: ['audit:read'] })).key);
  await appendBulkChain(t.hub.db, ws.id, entries, { keepHashes: false });
  const hashes = (await t.hub.db.query<{ hash: string }>('SELECT hash FROM audit_log WHERE workspace_id = $1 ORDER BY seq', [ws.id])).map((r) => r.hash);
  return { big, neighbour, hashes };
}

describe('a long audit log verify on PGlite (one connection)', () => {
  let t: TestHub;
  let big: { id: string; call: ApiCaller };
  let neighbour: ApiCaller;
  let hashes: string[];

  beforeAll(async () => {
    t = await startTestHub({ backend: 'pglite' });
    ({ big, neighbour, hashes } = await setUp(t, 20_000));
  }, 120_000);
  afterAll(async () => { await t?.stop(); });

  it('walks in short snapshots: /readyz, another workspace and an archive run answer while it runs, and archiving mid-walk is no gap', async () => {
    const { order, track } = tracker();
    const reading = whenVerifyReads(t.hub.db);
    const verify = track('verify', big.call('POST', '/api/v1/audit-log/verify', { json: {} }));
    await reading;
    // The walk has begun: everything below is asked for while it runs.
    const [ready, me, archive] = await Promise.all([
      track('readyz', readyzOf(t)),
      track('me', neighbour('GET', '/api/v1/me')),
      // Retention moves the entries the walk has not reached yet into the archive.
      track('archive', big.call('POST', '/api/v1/audit-log/archive', { json: { older_than_days: 0 } })),
    ]);
    const report: CallResult = await verify;

    expect(ready).toMatchObject(READY);
    expect(me.status, me.text).toBe(200);
    expect(archive.status, archive.text).toBe(200);
    expect(archive.body.archived).toBe(hashes.length);
    expect(order).toEqual([expect.any(String), expect.any(String), expect.any(String), 'verify']);

    // Every entry that was live when the walk began is checked, wherever it was by the time the
    // walk reached it: no gap, the same verification hash as an undisturbed walk.
    expect(report.status, report.text).toBe(200);
    expect(report.body).toMatchObject({ verified: true, chain_valid: true, gaps_detected: 0, links_broken: 0, hash_mismatches: 0, logs_checked: hashes.length, first_seq: 1, last_seq: hashes.length });
    expect(report.body.verification_hash).toBe(sha256Lines(hashes));
    // And afterwards the live log (the archive run's own entry) still rests on the checkpoint.
    expect((await big.call('POST', '/api/v1/audit-log/verify', { json: {} })).body).toMatchObject({ verified: true, logs_checked: 1 });
  }, 120_000);
});

describe('long audit log verifies on PostgreSQL (a pool of 10 connections)', () => {
  // As many verifies as the pool has connections: one snapshot each for a whole walk would hold them all.
  const VERIFIES = 10;
  let t: TestHub;
  let big: { id: string; call: ApiCaller };
  let neighbour: ApiCaller;
  let hashes: string[];

  beforeAll(async () => {
    t = await startTestHub({ backend: 'postgres' });
    ({ big, neighbour, hashes } = await setUp(t, 6_000));
  }, 120_000);
  afterAll(async () => { await t?.stop(); });

  it('hold no connection for a whole walk: /readyz and another workspace answer before any of them ends', async () => {
    const { order, track } = tracker();
    const reading = whenVerifyReads(t.hub.db, VERIFIES);
    const verifies = Array.from({ length: VERIFIES }, () => track('verify', big.call('POST', '/api/v1/audit-log/verify', { json: {} })));
    await reading;
    const [ready, me] = await Promise.all([track('readyz', readyzOf(t)), track('me', neighbour('GET', '/api/v1/me'))]);
    const reports = await Promise.all(verifies);

    expect(ready).toMatchObject(READY);
    expect(me.status, me.text).toBe(200);
    expect(order.slice(0, 2).sort()).toEqual(['me', 'readyz']);
    for (const report of reports) {
      expect(report.status, report.text).toBe(200);
      expect(report.body).toMatchObject({ verified: true, gaps_detected: 0, logs_checked: hashes.length, verification_hash: sha256Lines(hashes) });
    }
  }, 120_000);
});
