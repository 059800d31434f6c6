/**
 * Procedures on the embedded database's thread (Db.run, store/pglite-thread.ts): a store's
 * transaction run whole next to the database, with the same outcome as on any other Db.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalSha256 } from '../../lib/canonical-json.js';
import { newId } from '../../lib/ids.js';
import { AuditLogVerifier } from '../../store/audit-log/verify.js';
import { defineProcedure, openDb, type Db } from '../../store/db.js';
import { claimedItem, EvidenceStore, SETTLE_LEDGER, settleOutcomes } from '../../store/evidence.js';
import { migrate } from '../../store/migrate.js';
import { DEFAULT_WORKSPACE_ID, WorkspaceStore } from '../../store/workspaces.js';

describe('procedures on the embedded database thread', () => {
  let dir: string;
  let db: Db;
  let evidence: EvidenceStore;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hub-procedures-'));
    db = await openDb({ databaseUrl: null, dataDir: dir });
    await migrate(db);
    await new WorkspaceStore(db).ensureDefault();
    evidence = new EvidenceStore(db);
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const pending = async (n: number) => (await evidence.recordMany(Array.from({ length: n }, (_, i) => {
    const payload = { i };
    return {
      id: newId('ev'), workspaceId: DEFAULT_WORKSPACE_ID, run_id: 'run_p', job_id: null, rule_id: null, dataset: null, control_ref: 'Access Control', question_match: null,
      question_id: null, title: `item ${i}`, source: 'procedures test', result: 'pass' as const, payload, payload_sha256: canonicalSha256(payload),
      collected_at: new Date(), allow_multiple: false, destination_id: null, target: null, identity: `procedures:${newId('x')}`,
    };
  }))).map((r) => r.id);

  it('runs the delivery settle on the thread: ledger rows, events and audit entries in one transaction, the chain intact', async () => {
    expect(db.kind).toBe('pglite');
    const ids = await pending(3);
    await evidence.settleMany([
      { id: ids[0]!, status: 'delivered', destinationIds: ['d1'] },
      { id: ids[1]!, status: 'rejected', error: 'no' },
      { id: ids[2]!, status: 'ambiguous', candidates: [{ id: 'q1' }], error: 'two questions' },
    ]);
    const rows = await Promise.all(ids.map(async (id) => (await evidence.getById(id))!));
    expect(rows.map((r) => r.status)).toEqual(['delivered', 'rejected', 'ambiguous']);
    expect(rows[0]!.destination_evidence_ids).toEqual(['d1']);
    const events = await db.query<{ type: string; data: Record<string, unknown> }>(`SELECT type, data FROM events WHERE data->>'evidence_id' = ANY($1) ORDER BY data->>'evidence_id'`, [ids]);
    expect(events.map((e) => e.type)).toEqual(['evidence.added', 'evidence.rejected', 'evidence.ambiguous']);
    expect(events[0]!.data).toMatchObject({ evidence_id: ids[0], status: 'delivered', destination_evidence_ids: ['d1'], title: 'item 0' });
    const audited = await db.query<{ action: string }>('SELECT action FROM audit_log WHERE resource_id = ANY($1) ORDER BY seq', [ids]);
    expect(audited.map((a) => a.action)).toEqual(['evidence.delivered', 'evidence.rejected', 'evidence.ambiguous']);
    const report = await new AuditLogVerifier(db).verify(DEFAULT_WORKSPACE_ID);
    expect(report.chain_valid).toBe(true);
    expect(report.logs_checked).toBeGreaterThanOrEqual(3);

    // Settling again changes nothing (a retried activity).
    await evidence.settleMany([{ id: ids[0]!, status: 'failed', error: 'late' }]);
    expect((await evidence.getById(ids[0]!))!.status).toBe('delivered');
    expect(await db.query('SELECT 1 FROM audit_log WHERE resource_id = $1', [ids[0]])).toHaveLength(1);
  });

  it('a procedure that fails reports the database error with its code and leaves nothing written', async () => {
    const ids = await pending(2);
    const audited = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log'))[0]!.n;
    const before = await audited();
    // The second outcome breaks the ledger's status constraint: the first is rolled back with it.
    const err = await evidence.settleMany([{ id: ids[0]!, status: 'delivered', destinationIds: ['d'] }, { id: ids[1]!, status: 'bogus' as 'failed' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as { code?: string }).code).toBe('23514');
    expect((await Promise.all(ids.map((id) => evidence.getById(id)))).map((r) => r!.status)).toEqual(['pending', 'pending']);
    expect(await audited()).toBe(before);
    // The thread goes on serving, and the procedure's prepared statements with it.
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await evidence.settleMany([{ id: ids[0]!, status: 'delivered', destinationIds: ['d'] }, { id: ids[1]!, status: 'rejected', error: 'no' }]);
    expect((await Promise.all(ids.map((id) => evidence.getById(id)))).map((r) => r!.status)).toEqual(['delivered', 'rejected']);
    expect(await audited()).toBe(before + 2);
  });

  it('an outcome settled with the item as its delivery claimed it is recorded as one read back from the ledger', async () => {
    const ids = await pending(2);
    const claimed = await evidence.beginAttempts(ids);
    expect(claimed.map((c) => c.attempts)).toEqual([1, 1]);
    expect(claimed[0]!.collected_at).toBeInstanceOf(Date);
    const outcome = { status: 'ambiguous' as const, candidates: [{ id: 'q1', score: 0.5, tags: { b: 1, a: 2 } }], error: 'two questions' };
    await evidence.settleMany([{ id: ids[0]!, claimed: claimedItem(claimed[0]!), ...outcome }, { id: ids[1]!, ...outcome }]);
    const events = await db.query<{ data: Record<string, unknown> }>(`SELECT data FROM events WHERE data->>'evidence_id' = ANY($1) ORDER BY data->>'evidence_id'`, [ids]);
    const audited = await db.query<{ resource_id: string; changes: Record<string, unknown> }>('SELECT resource_id, changes FROM audit_log WHERE resource_id = ANY($1) ORDER BY resource_id', [ids]);
    const differing = new Set(['evidence_id', 'title', 'payload_sha256']);
    const same = (data: Record<string, unknown>) => Object.fromEntries(Object.entries(data).filter(([k]) => !differing.has(k)));
    expect(events).toHaveLength(2);
    expect(same(events[0]!.data)).toEqual(same(events[1]!.data));
    expect(events[0]!.data).toMatchObject({ evidence_id: ids[0], title: 'item 0', status: 'ambiguous', candidates: outcome.candidates, control_ref: 'Access Control' });
    expect(audited.map((a) => a.changes)).toEqual([
      { status: 'ambiguous', run_id: 'run_p', destination_id: null, destination_evidence_ids: null, error: 'two questions', attempts: 1 },
      { status: 'ambiguous', run_id: 'run_p', destination_id: null, destination_evidence_ids: null, error: 'two questions', attempts: 1 },
    ]);
    expect((await new AuditLogVerifier(db).verify(DEFAULT_WORKSPACE_ID)).chain_valid).toBe(true);
  });

  it('an item given twice in one settle is recorded once, with the first outcome, its event and its audit entry', async () => {
    const [id] = await pending(1);
    await evidence.settleMany([{ id: id!, status: 'delivered', destinationIds: ['first'] }, { id: id!, status: 'rejected', error: 'second' }]);
    const row = (await evidence.getById(id!))!;
    expect(row).toMatchObject({ status: 'delivered', destination_evidence_ids: ['first'] });
    expect((await db.query<{ type: string }>(`SELECT type FROM events WHERE data->>'evidence_id' = $1`, [id])).map((e) => e.type)).toEqual(['evidence.added']);
    expect((await db.query<{ action: string }>('SELECT action FROM audit_log WHERE resource_id = $1', [id])).map((a) => a.action)).toEqual(['evidence.delivered']);
  });

  it('the settle finds its ledger rows through the primary key, whatever the ledger holds (no scan per settle)', async () => {
    for (let i = 0; i < 4; i++) await pending(500);
    await db.exec('ANALYZE evidence');
    // The plan the prepared statement keeps (procedures' statements use a generic plan).
    const plan = await db.transaction(async (tx) => {
      await tx.exec(`SET LOCAL plan_cache_mode = force_generic_plan; PREPARE settle_plan AS ${SETTLE_LEDGER}`);
      const rows = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE settle_plan('{x}', '{delivered}', '{NULL}', '{NULL}', '{NULL}')`);
      await tx.exec('DEALLOCATE settle_plan');
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toMatch(/Index Scan using evidence_pkey on evidence/);
    expect(plan).not.toMatch(/Seq Scan on evidence/);
  });

  it('loads procedures from the store\'s own modules only, and only what a module exports as one', async () => {
    const elsewhere = defineProcedure(new URL('../helpers/activities.ts', import.meta.url).href, 'startActivityWorld', async () => 'ran');
    await expect(db.run(elsewhere, {})).rejects.toThrow(/procedures are loaded from the store's modules/);
    const notExported = defineProcedure(new URL('../../store/evidence.ts', import.meta.url).href, 'EvidenceStore', async () => 'ran');
    await expect(db.run(notExported, {})).rejects.toThrow(/exports no procedure EvidenceStore/);
    expect(settleOutcomes.name).toBe('settleOutcomes');
  });
});
