import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, entryHash, sanitizeChanges } from '../../lib/audit-chain.js';
import { AuditLogStore, type AuditLogEntry, type NewAuditEntry } from '../../store/audit-log/index.js';
import { WorkspaceStore } from '../../store/workspaces.js';
import { BACKENDS, startTestHub, type TestHub } from '../helpers/hub.js';

const DAY_MS = 86_400_000;
const alice = { type: 'api_key' as const, id: 'key_alice', name: 'alice' };
const bob = { type: 'api_key' as const, id: 'key_bob', name: 'bob' };

/** The documented verification_hash: SHA-256 over each checked hash followed by "\n". */
function expectedVerificationHash(entries: AuditLogEntry[]): string {
  return createHash('sha256').update(entries.map((e) => e.hash + '\n').join('')).digest('hex');
}

/** Lets the database clock move on, so that entries on either side of a boundary differ in time. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 15));

describe('audit log changes sanitising', () => {
  it('redacts secret-looking fields at any depth, keeps the names under a secret object, and yields plain JSON', () => {
    const cleaned = sanitizeChanges({
      name: 'okta', config: { base_url: 'https://a.okta.com', client_secret: 'cs-1', nested: [{ password: 'pw', ok: 1 }] },
      secrets: { api_token: 'tok-1', private_key: { pem: 'KEY' }, removed: null },
      headers: { Authorization: 'Bearer abc', 'X-Api-Key': 'ehk_zzz' }, note: 'ehk_live_key_in_a_note', hook: 'whsec_abc',
      when: new Date('2024-01-02T03:04:05.678Z'), big: 12n, nan: Number.NaN, gone: undefined, list: [undefined, 1],
      nul: 'a\u0000b', lone: 'x\uD800y',
    });
    expect(cleaned).toEqual({
      name: 'okta', config: { base_url: 'https://a.okta.com', client_secret: '[REDACTED]', nested: [{ password: '[REDACTED]', ok: 1 }] },
      secrets: { api_token: '[REDACTED]', private_key: { pem: '[REDACTED]' }, removed: null },
      headers: { Authorization: '[REDACTED]', 'X-Api-Key': '[REDACTED]' }, note: '[REDACTED]', hook: '[REDACTED]',
      when: '2024-01-02T03:04:05.678Z', big: '12', nan: null, list: [null, 1], nul: 'ab', lone: 'x\uFFFDy',
    });
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let i = 0; i < 100; i++) cursor = (cursor.next = {}) as Record<string, unknown>;
    expect(JSON.stringify(sanitizeChanges(deep))).toContain('[TRUNCATED]');
  });
});

describe.each(BACKENDS)('audit log store (%s)', (backend) => {
  let t: TestHub;
  let log: AuditLogStore;
  let workspaces: WorkspaceStore;
  beforeAll(async () => {
    t = await startTestHub({ backend });
    log = new AuditLogStore(t.hub.db);
    workspaces = new WorkspaceStore(t.hub.db);
  });
  afterAll(async () => { await t?.stop(); });

  /** Every test gets its own workspace, hence its own chain. */
  const newChain = async () => (await workspaces.create(`audit-${backend}`)).id;
  const entry = (workspaceId: string, i: number, extra: Partial<NewAuditEntry> = {}): NewAuditEntry => ({
    workspaceId, actor: i % 2 ? bob : alice, action: 'connection.updated', resourceType: 'connection', resourceId: `conn_${i}`,
    changes: { name: { from: `n${i}`, to: `n${i + 1}` } }, ip: '203.0.113.9', userAgent: 'vitest', requestId: `req_${i}`, ...extra,
  });
  const appendMany = async (workspaceId: string, n: number, from = 1) => {
    const out: AuditLogEntry[] = [];
    for (let i = from; i < from + n; i++) out.push(await log.appendOwnTx(entry(workspaceId, i)));
    return out;
  };

  it('chains entries from genesis: seq 1..n, each previous_hash the hash before, hashes recompute; an untouched log verifies', async () => {
    const ws = await newChain();
    const entries = await appendMany(ws, 6);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(entries[0]!.previous_hash).toBe(GENESIS_HASH);
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.previous_hash).toBe(entries[i - 1]!.hash);
    for (const e of entries) {
      expect(e.id).toMatch(/^aud_/);
      expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
      // What was written is what comes back, and it still hashes the same.
      const stored = (await log.get(ws, e.id))!;
      expect(stored).toEqual(e);
      expect(entryHash(stored)).toBe(e.hash);
    }
    const report = await log.verify(ws);
    expect(report).toMatchObject({ verified: true, chain_valid: true, logs_checked: 6, hash_mismatches: 0, gaps_detected: 0, links_broken: 0, first_seq: 1, last_seq: 6, last_hash: entries[5]!.hash });
    expect(report.first_broken).toBeUndefined();
    expect(report.verification_hash).toBe(expectedVerificationHash(entries));
    expect(Date.parse(report.verified_at)).not.toBeNaN();
    // An empty log verifies too, over nothing.
    const empty = await log.verify(await newChain());
    expect(empty).toMatchObject({ verified: true, logs_checked: 0, verification_hash: createHash('sha256').digest('hex') });
  });

  it('writes nothing when the caller’s transaction rolls back, and the next entry takes the seq', async () => {
    const ws = await newChain();
    await appendMany(ws, 2);
    await expect(t.hub.db.transaction(async (tx) => {
      await log.append(tx, entry(ws, 3));
      throw new Error('the change failed');
    })).rejects.toThrow('the change failed');
    const next = await log.appendOwnTx(entry(ws, 4));
    expect(next.seq).toBe(3);
    expect((await log.verify(ws)).verified).toBe(true);
  });

  it('stores changes with secret values removed, and the sanitised entry still verifies', async () => {
    const ws = await newChain();
    const secret = `s3cr3t-${Date.now()}`;
    const e = await log.appendOwnTx(entry(ws, 1, {
      action: 'connection.created',
      changes: { config: { base_url: 'https://x.okta.com', client_secret: secret }, secrets: { api_token: secret }, headers: { authorization: `Bearer ${secret}` }, text: 'nul\u0000here' },
    }));
    const [raw] = await t.hub.db.query<{ changes: unknown }>('SELECT changes FROM audit_log WHERE id = $1', [e.id]);
    expect(JSON.stringify(raw)).not.toContain(secret);
    expect(raw!.changes).toEqual({ config: { base_url: 'https://x.okta.com', client_secret: '[REDACTED]' }, secrets: { api_token: '[REDACTED]' }, headers: { authorization: '[REDACTED]' }, text: 'nulhere' });
    expect((await log.verify(ws)).verified).toBe(true);
  });

  it('reports an entry edited directly in the database as a hash mismatch and the first broken entry', async () => {
    const ws = await newChain();
    const entries = await appendMany(ws, 5);
    await t.hub.db.query(`UPDATE audit_log SET changes = '{"name": {"from": "n3", "to": "forged"}}' WHERE id = $1`, [entries[2]!.id]);
    const report = await log.verify(ws);
    expect(report).toMatchObject({ verified: false, chain_valid: false, logs_checked: 5, hash_mismatches: 1, gaps_detected: 0, links_broken: 0 });
    expect(report.first_broken).toMatchObject({ id: entries[2]!.id, seq: 3, reason: 'hash_mismatch' });

    // Recomputing the forged entry's hash only moves the break to the next link.
    const [forged] = await t.hub.db.query<AuditLogEntry>('SELECT * FROM audit_log WHERE id = $1', [entries[2]!.id]);
    await t.hub.db.query('UPDATE audit_log SET hash = $2 WHERE id = $1', [entries[2]!.id, entryHash({ ...forged!, seq: 3, occurred_at: new Date(forged!.occurred_at) })]);
    const relinked = await log.verify(ws);
    expect(relinked).toMatchObject({ verified: false, chain_valid: false, hash_mismatches: 0, links_broken: 1 });
    expect(relinked.first_broken).toMatchObject({ id: entries[3]!.id, seq: 4, reason: 'previous_hash_mismatch' });

    // The last entry has no successor to betray it: its own hash does.
    const other = await newChain();
    const tail = await appendMany(other, 3);
    await t.hub.db.query(`UPDATE audit_log SET actor = '{"type": "system", "id": "someone-else", "name": null}' WHERE id = $1`, [tail[2]!.id]);
    expect((await log.verify(other)).first_broken).toMatchObject({ id: tail[2]!.id, seq: 3, reason: 'hash_mismatch' });
  });

  it('reports a deleted entry as a gap at the entry after it, whose previous_hash no longer matches', async () => {
    const ws = await newChain();
    const entries = await appendMany(ws, 5);
    await t.hub.db.query('DELETE FROM audit_log WHERE id = $1', [entries[2]!.id]);
    const report = await log.verify(ws);
    expect(report).toMatchObject({ verified: false, chain_valid: false, logs_checked: 4, hash_mismatches: 0, gaps_detected: 1, links_broken: 1 });
    expect(report.first_broken).toMatchObject({ id: entries[3]!.id, seq: 4, reason: 'gap' });
    expect(report.first_broken!.detail).toContain('1 entry is missing');

    // The very first entry is covered as well: the chain must start at seq 1 from genesis.
    const other = await newChain();
    const head = await appendMany(other, 3);
    await t.hub.db.query('DELETE FROM audit_log WHERE id = $1', [head[0]!.id]);
    expect((await log.verify(other)).first_broken).toMatchObject({ id: head[1]!.id, seq: 2, reason: 'gap' });
  });

  it('verifies a from/to range, linking its first entry to the one before it', async () => {
    const ws = await newChain();
    const before = await appendMany(ws, 3, 1);
    await tick();
    const inside = await appendMany(ws, 3, 4);
    await tick();
    const after = await appendMany(ws, 2, 7);
    const range = { from: inside[0]!.occurred_at, to: inside[2]!.occurred_at };
    expect(inside[0]!.occurred_at > before[2]!.occurred_at && after[0]!.occurred_at > inside[2]!.occurred_at).toBe(true);

    const report = await log.verify(ws, range);
    expect(report).toMatchObject({ verified: true, logs_checked: 3, first_seq: 4, last_seq: 6 });
    expect(report.verification_hash).toBe(expectedVerificationHash(inside));
    expect((await log.verify(ws, { from: range.from })).logs_checked).toBe(5);
    expect((await log.verify(ws, { to: range.to })).logs_checked).toBe(6);
    expect((await log.verify(ws, { from: new Date(Date.now() + DAY_MS) })).logs_checked).toBe(0);

    // Out of range, a forged entry is not this range's business; a missing predecessor is.
    await t.hub.db.query(`UPDATE audit_log SET action = 'forged' WHERE id = $1`, [before[0]!.id]);
    expect((await log.verify(ws, range)).verified).toBe(true);
    expect((await log.verify(ws)).verified).toBe(false);
    await t.hub.db.query('DELETE FROM audit_log WHERE id = $1', [before[2]!.id]);
    const cut = await log.verify(ws, range);
    expect(cut).toMatchObject({ verified: false, gaps_detected: 1 });
    expect(cut.first_broken).toMatchObject({ id: inside[0]!.id, seq: 4, reason: 'gap' });

    // The list takes the same period.
    const listed = await log.list(ws, { limit: 50, after: null }, range);
    expect(listed.data.map((e) => e.seq)).toEqual([4, 5, 6]);
  });

  it('counts events by action, resource type and actor over a period', async () => {
    const ws = await newChain();
    await log.appendOwnTx(entry(ws, 1, { action: 'connection.created', actor: alice }));
    await log.appendOwnTx(entry(ws, 2, { action: 'connection.created', actor: alice }));
    await log.appendOwnTx(entry(ws, 3, { action: 'mapping.version_published', resourceType: 'mapping', actor: bob }));
    await tick();
    const late = await log.appendOwnTx(entry(ws, 4, { action: 'webhook.delivery_failed', resourceType: 'webhook', actor: { type: 'system', id: 'worker', name: null } }));
    const all = await log.statistics(ws);
    expect(all).toMatchObject({
      period: { from: null, to: null },
      total_events: 4,
      events_by_action: { 'connection.created': 2, 'mapping.version_published': 1, 'webhook.delivery_failed': 1 },
      events_by_resource_type: { connection: 2, mapping: 1, webhook: 1 },
      events_by_actor_type: { api_key: 3, system: 1 },
    });
    expect(all.events_by_actor).toEqual([
      { type: 'api_key', id: 'key_alice', name: 'alice', event_count: 2 },
      { type: 'api_key', id: 'key_bob', name: 'bob', event_count: 1 },
      { type: 'system', id: 'worker', name: null, event_count: 1 },
    ]);
    const lateOnly = await log.statistics(ws, { from: late.occurred_at });
    expect(lateOnly).toMatchObject({ total_events: 1, events_by_action: { 'webhook.delivery_failed': 1 }, period: { from: late.occurred_at.toISOString(), to: null } });
    expect(await log.statistics(ws, { to: new Date(0) })).toMatchObject({ total_events: 0, events_by_action: {}, events_by_actor: [] });
  });

  it('archives old entries without breaking the chain: live and archived parts both verify and stay retrievable', async () => {
    const ws = await newChain();
    const old = await appendMany(ws, 4);
    await tick();
    const recent = await appendMany(ws, 3, 5);
    // As if 30 days passed since the boundary between the two groups.
    const now = new Date(recent[0]!.occurred_at.getTime() - 1 + 30 * DAY_MS);
    const result = await log.archive(ws, 30, { now });
    expect(result).toMatchObject({ archived: 4, checkpoint: { seq: 4, hash: old[3]!.hash } });
    expect(await t.hub.db.query('SELECT id FROM audit_log WHERE workspace_id = $1 AND seq <= 4', [ws])).toEqual([]);
    const archivedRows = await t.hub.db.query<{ id: string }>('SELECT id FROM audit_log_archive WHERE workspace_id = $1 ORDER BY seq', [ws]);
    expect(archivedRows.map((r) => r.id)).toEqual(old.map((e) => e.id));

    // The run is itself on the record, after the live entries.
    const live = await log.list(ws, { limit: 50, after: null });
    expect(live.data.map((e) => e.seq)).toEqual([5, 6, 7, 8]);
    expect(live.data[3]).toMatchObject({ action: 'audit_log.archived', actor: { type: 'system' }, changes: { archived_count: 4, through_seq: 4, through_hash: old[3]!.hash } });

    expect(await log.verify(ws)).toMatchObject({ verified: true, scope: 'live', logs_checked: 4, first_seq: 5 });
    const whole = await log.verify(ws, { scope: 'all' });
    expect(whole).toMatchObject({ verified: true, scope: 'all', logs_checked: 8, first_seq: 1, last_seq: 8 });
    expect(await log.get(ws, old[0]!.id)).toEqual({ ...old[0], archived: true });
    const withArchive = await log.list(ws, { limit: 50, after: null }, { includeArchived: true });
    expect(withArchive.data.map((e) => [e.seq, e.archived])).toEqual([[1, true], [2, true], [3, true], [4, true], [5, false], [6, false], [7, false], [8, false]]);

    // Archiving again moves nothing; archiving everything leaves the next append linked to the checkpoint.
    expect(await log.archive(ws, 30, { now })).toMatchObject({ archived: 0, checkpoint: null });
    const everything = await log.archive(ws, 0, { now: new Date(Date.now() + DAY_MS) });
    expect(everything).toMatchObject({ archived: 4, checkpoint: { seq: 8 } });
    // Only the record of that archive run is live now; it continues the chain from the checkpoint.
    const [head] = (await log.list(ws, { limit: 50, after: null })).data;
    expect(head).toMatchObject({ seq: 9, previous_hash: everything.checkpoint!.hash, action: 'audit_log.archived' });
    expect((await log.verify(ws)).verified).toBe(true);
    expect((await log.verify(ws, { scope: 'all' })).logs_checked).toBe(9);

    // Tampering in the archive is found by a whole-chain check; the live check rests on the checkpoint.
    await t.hub.db.query(`UPDATE audit_log_archive SET resource_id = 'conn_forged' WHERE id = $1`, [old[1]!.id]);
    expect((await log.verify(ws, { scope: 'all' })).first_broken).toMatchObject({ id: old[1]!.id, seq: 2, reason: 'hash_mismatch' });
    expect((await log.verify(ws)).verified).toBe(true);
  });

  it('finds entries cut from the end of the archive, and a live log that no longer meets its checkpoint', async () => {
    const ws = await newChain();
    await appendMany(ws, 5);
    await log.archive(ws, 0, { now: new Date(Date.now() + DAY_MS) });
    await t.hub.db.query('DELETE FROM audit_log_archive WHERE workspace_id = $1 AND seq >= 4', [ws]);
    const whole = await log.verify(ws, { scope: 'all' });
    expect(whole).toMatchObject({ verified: false, gaps_detected: 1 });
    expect(whole.first_broken).toMatchObject({ seq: 6, reason: 'gap' });
    // Rewriting the archived row the checkpoint names is a checkpoint mismatch.
    const other = await newChain();
    await appendMany(other, 3);
    await log.archive(other, 0, { now: new Date(Date.now() + DAY_MS) });
    await t.hub.db.query(`UPDATE audit_log_archive SET hash = $2 WHERE workspace_id = $1 AND seq = 3`, [other, 'f'.repeat(64)]);
    const report = await log.verify(other, { scope: 'all' });
    expect(report.verified).toBe(false);
    expect(report.first_broken).toMatchObject({ seq: 3, reason: 'hash_mismatch' });
    // Deleting the first live entries after the checkpoint leaves a gap in the live log.
    const third = await newChain();
    await appendMany(third, 3);
    await log.archive(third, 0, { now: new Date(Date.now() + DAY_MS) });
    await appendMany(third, 2, 4);
    await t.hub.db.query('DELETE FROM audit_log WHERE workspace_id = $1 AND seq = 4', [third]);
    expect((await log.verify(third)).first_broken).toMatchObject({ seq: 5, reason: 'gap' });
  });

  it('keeps a retention setting per workspace and archives what is past it on the scheduled run', async () => {
    const ws = await newChain();
    expect(await log.retention(ws)).toMatchObject({ days: null, archived_through: null });
    await appendMany(ws, 2);
    const set = await log.setRetention(ws, 7, { actor: alice, requestId: 'req_ret' });
    expect(set.days).toBe(7);
    const results = await log.runRetention(new Date(Date.now() + 8 * DAY_MS));
    const mine = results.find((r) => r.workspace_id === ws);
    // The two entries and the record of the retention change are all older than 7 days by then.
    expect(mine).toMatchObject({ archived: 3, checkpoint: { seq: 3 } });
    expect((await log.retention(ws)).archived_through).toMatchObject({ seq: 3 });
    const [changed] = (await log.list(ws, { limit: 10, after: null }, { includeArchived: true, action: 'audit_log.retention_updated' })).data;
    expect(changed).toMatchObject({ actor: alice, request_id: 'req_ret', changes: { retention_days: { from: null, to: 7 } }, archived: true });
    expect((await log.verify(ws, { scope: 'all' })).verified).toBe(true);
    await log.setRetention(ws, null, { actor: alice });
    expect((await log.retention(ws)).days).toBeNull();
  });

  it('filters, searches (parameterised) and pages the list in seq order', async () => {
    const ws = await newChain();
    await log.appendOwnTx(entry(ws, 1, { action: 'connection.created', actor: alice, changes: { name: 'Okta prod' } }));
    await log.appendOwnTx(entry(ws, 2, { action: 'connection.deleted', actor: bob, resourceId: 'conn_x' }));
    await log.appendOwnTx(entry(ws, 3, { action: 'mapping.version_published', actor: alice, resourceType: 'mapping', resourceId: 'map_1', changes: { note: '100%_done' } }));
    const seqs = async (f: Parameters<AuditLogStore['list']>[2], limit = 50) => (await log.list(ws, { limit, after: null }, f)).data.map((e) => e.seq);
    expect(await seqs({ action: 'connection.*' })).toEqual([1, 2]);
    expect(await seqs({ action: 'connection.deleted' })).toEqual([2]);
    expect(await seqs({ actor: 'key_bob' })).toEqual([2]);
    expect(await seqs({ resourceType: 'mapping', resourceId: 'map_1' })).toEqual([3]);
    expect(await seqs({ q: 'okta PROD' })).toEqual([1]);
    expect(await seqs({ q: '%_' })).toEqual([3]);
    expect(await seqs({ q: `'); DROP TABLE audit_log; --` })).toEqual([]);
    expect(await seqs({ order: 'desc' })).toEqual([3, 2, 1]);
    const first = await log.list(ws, { limit: 2, after: null });
    expect(first.data.map((e) => e.seq)).toEqual([1, 2]);
    const cursorSeq = JSON.parse(Buffer.from(first.next_cursor!, 'base64url').toString()).after as string;
    const second = await log.list(ws, { limit: 2, after: cursorSeq });
    expect(second).toMatchObject({ data: [{ seq: 3 }], next_cursor: null });
    await expect(log.list(ws, { limit: 2, after: 'aud_not_a_seq' })).rejects.toMatchObject({ status: 400 });
  });

  it(`keeps one unbroken chain under ${backend === 'postgres' ? 1000 : 200} concurrent appends, each in its own transaction`, async () => {
    const ws = await newChain();
    const n = backend === 'postgres' ? 1000 : 200;
    const appended = await Promise.all(Array.from({ length: n }, (_, i) => t.hub.db.transaction(async (tx) => {
      // The change the entry records would be written here, in the same transaction.
      await tx.query('SELECT 1');
      return log.append(tx, entry(ws, i, { requestId: `req_concurrent_${i}` }));
    })));
    expect(appended.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const [stats] = await t.hub.db.query<{ n: number | string; seqs: number | string; links: number | string; max: number | string }>(
      'SELECT count(*) AS n, count(DISTINCT seq) AS seqs, count(DISTINCT previous_hash) AS links, max(seq) AS max FROM audit_log WHERE workspace_id = $1',
      [ws],
    );
    // No fork (two entries naming the same predecessor) and no gap.
    expect([stats!.n, stats!.seqs, stats!.links, stats!.max].map(Number)).toEqual([n, n, n, n]);
    const report = await log.verify(ws);
    expect(report).toMatchObject({ verified: true, chain_valid: true, logs_checked: n, hash_mismatches: 0, gaps_detected: 0, last_seq: n });
  });
});
