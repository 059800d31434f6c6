import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLogStore } from '../../store/audit-log/index.js';
import { WorkspaceStore } from '../../store/workspaces.js';
import { appendBulkChain } from '../helpers/audit-bulk.js';
import { BACKENDS, startTestHub, type TestHub } from '../helpers/hub.js';

const DAY_MS = 86_400_000;
const ENTRIES = 1_234;
const verificationHash = (hashes: string[]) => createHash('sha256').update(hashes.map((h) => `${h}\n`).join('')).digest('hex');

describe.each(BACKENDS)('audit log verify in pages (%s)', (backend) => {
  let t: TestHub;
  let log: AuditLogStore;
  beforeAll(async () => {
    t = await startTestHub({ backend });
    log = new AuditLogStore(t.hub.db);
  });
  afterAll(async () => { await t?.stop(); });

  const chain = async (n = ENTRIES) => {
    const ws = (await new WorkspaceStore(t.hub.db).create(`paged-${backend}`)).id;
    return { ws, ...(await appendBulkChain(t.hub.db, ws, n)) };
  };
  const later = () => new Date(Date.now() + DAY_MS);

  it('retention archiving everything between two pages is no gap: the walk reads the rest from the archive, up to the fresh checkpoint', async () => {
    const { ws, hashes } = await chain();
    const seen: number[] = [];
    let archivedAfterPage: number | null = null;
    const report = await log.verify(ws, {
      afterPage: async ({ pages, last_seq }) => {
        seen.push(last_seq);
        if (pages === 2) {
          // Everything, the entries the walk has not reached included, moves to the archive,
          // and the archive run's own entry is appended after the walk's range.
          expect((await log.archive(ws, 0, { now: later() })).archived).toBe(ENTRIES);
          archivedAfterPage = pages;
        }
      },
    });
    expect(archivedAfterPage).toBe(2);
    // The walk went on for pages after the archiving, in short snapshots.
    expect(seen.length).toBeGreaterThan(3);
    expect(seen[seen.length - 1]).toBe(ENTRIES);
    expect(report).toMatchObject({ verified: true, chain_valid: true, gaps_detected: 0, links_broken: 0, hash_mismatches: 0, logs_checked: ENTRIES, first_seq: 1, last_seq: ENTRIES, scope: 'live' });
    expect(report.verification_hash).toBe(verificationHash(hashes));
    // A fresh walk of the live log starts after the checkpoint: only the archive run's entry.
    expect(await log.verify(ws)).toMatchObject({ verified: true, logs_checked: 1, first_seq: ENTRIES + 1 });
  });

  it('the whole chain (scope all) verifies while archiving runs twice during the walk, even past the walk’s last entry', async () => {
    const { ws, hashes } = await chain();
    const report = await log.verify(ws, {
      scope: 'all',
      afterPage: async ({ pages }) => {
        if (pages === 1) await log.archive(ws, 0, { now: later() });
        // The checkpoint now reaches the archive run's own entry, beyond the walk's range:
        // the walk's range was fixed when it began, so that is no missing tail.
        if (pages === 3) expect((await log.archive(ws, 0, { now: later() })).checkpoint).toMatchObject({ seq: ENTRIES + 1 });
      },
    });
    expect(report).toMatchObject({ verified: true, gaps_detected: 0, logs_checked: ENTRIES, last_seq: ENTRIES, scope: 'all' });
    expect(report.verification_hash).toBe(verificationHash(hashes));
    expect(await log.verify(ws, { scope: 'all' })).toMatchObject({ verified: true, logs_checked: ENTRIES + 2 });
  });

  it('still finds what was changed or cut pages into the walk, and entries cut from the archive’s end', async () => {
    const { ws } = await chain();
    await t.hub.db.query(`UPDATE audit_log SET action = 'forged' WHERE workspace_id = $1 AND seq = 700`, [ws]);
    await t.hub.db.query('DELETE FROM audit_log WHERE workspace_id = $1 AND seq = 1001', [ws]);
    const report = await log.verify(ws);
    expect(report).toMatchObject({ verified: false, hash_mismatches: 1, gaps_detected: 1, links_broken: 1, logs_checked: ENTRIES - 1 });
    expect(report.first_broken).toMatchObject({ seq: 700, reason: 'hash_mismatch' });

    const other = await chain(600);
    await log.archive(other.ws, 0, { now: later() });
    await t.hub.db.query('DELETE FROM audit_log_archive WHERE workspace_id = $1 AND seq > 550', [other.ws]);
    const cut = await log.verify(other.ws, { scope: 'all' });
    expect(cut).toMatchObject({ verified: false, gaps_detected: 1 });
    expect(cut.first_broken).toMatchObject({ seq: 601, reason: 'gap' });
  });
});
