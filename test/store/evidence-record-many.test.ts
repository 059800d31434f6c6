/**
 * The ledger write of a run's items (EvidenceStore.recordMany): one set of statements for all
 * of them, with the outcome the items would have had recorded one after the other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalSha256 } from '../../lib/canonical-json.js';
import { newId } from '../../lib/ids.js';
import type { NewEvidence } from '../../store/evidence.js';
import { startActivityWorld, type ActivityWorld } from '../helpers/activities.js';

describe('recording a run\'s evidence items at once', () => {
  let w: ActivityWorld;
  beforeAll(async () => { w = await startActivityWorld(); });
  afterAll(async () => { await w?.close(); });

  const item = (job: string, rule: string, identity: string, result: 'pass' | 'fail', observedAt: string, references: Record<string, unknown> = { soc2: ['CC6.1'] }): NewEvidence => {
    const payload = { rule, result, observedAt };
    return {
      id: newId('ev'), workspaceId: w.workspaceId, run_id: `run_${identity}`, job_id: job, rule_id: rule, dataset: 'okta.users', control_ref: 'Access Control',
      question_match: 'MFA admin', question_id: null, title: `${rule} (${identity})`, source: 'record-many test', result, payload, payload_sha256: canonicalSha256(payload),
      collected_at: new Date(observedAt), allow_multiple: false, destination_id: null, target: null, identity: `${job}:${identity}:${rule}`,
      check: { connectionId: 'con_test', references, freshForMs: 86_400_000 },
    };
  };
  const events = async (type: string, job: string) => (await w.db.query<{ data: Record<string, unknown> }>(
    `SELECT data FROM events WHERE type = $1 AND data->>'job_id' = $2 ORDER BY id`, [type, job])).map((e) => e.data);
  const check = async (job: string, rule: string) => (await w.db.query<{ result: string; evidence_id: string; frameworks: string[]; changed_at: Date }>(
    'SELECT result, evidence_id, frameworks, changed_at FROM checks WHERE id = $1', [`${job}.${rule}`]))[0];
  const requirements = async (job: string, rule: string) => (await w.db.query<{ framework: string; requirement: string; result: string }>(
    'SELECT framework, requirement, result FROM check_requirements WHERE check_id = $1 ORDER BY framework, requirement', [`${job}.${rule}`]));

  it('applies the items in order, as one after the other: a check failing then passing in one call ends passing and recovers once', async () => {
    const items = [
      item('job_a', 'mfa', 'r1', 'fail', '2026-01-01T00:00:00Z'),
      item('job_a', 'lockout', 'r1', 'pass', '2026-01-01T00:00:00Z', { soc2: ['CC6.1', 'CC6.2'], iso27001: 'A.5.17' }),
      item('job_a', 'mfa', 'r2', 'pass', '2026-01-02T00:00:00Z'),
      // Older than what the check already holds by then: recorded in the ledger, not the latest.
      item('job_a', 'lockout', 'r0', 'fail', '2025-12-31T00:00:00Z'),
    ];
    const rows = await w.stores.evidence.recordMany(items);
    expect(rows.map((r) => r.identity)).toEqual(items.map((i) => i.identity));
    expect(rows.map((r) => r.id)).toEqual(items.map((i) => i.id));
    expect(await check('job_a', 'mfa')).toMatchObject({ result: 'pass', evidence_id: items[2]!.id, frameworks: ['soc2'] });
    expect(new Date((await check('job_a', 'mfa'))!.changed_at).toISOString()).toBe('2026-01-02T00:00:00.000Z');
    expect(await check('job_a', 'lockout')).toMatchObject({ result: 'pass', evidence_id: items[1]!.id });
    expect((await check('job_a', 'lockout'))!.frameworks.sort()).toEqual(['iso27001', 'soc2']);
    expect(await requirements('job_a', 'lockout')).toEqual([
      { framework: 'iso27001', requirement: 'A.5.17', result: 'pass' },
      { framework: 'soc2', requirement: 'CC6.1', result: 'pass' },
      { framework: 'soc2', requirement: 'CC6.2', result: 'pass' },
    ]);
    expect((await events('control.failed', 'job_a')).map((e) => e.evidence_id)).toEqual([items[0]!.id, items[3]!.id]);
    const recovered = await events('control.recovered', 'job_a');
    expect(recovered).toHaveLength(1);
    expect(recovered[0]).toMatchObject({ check_id: 'job_a.mfa', evidence_id: items[2]!.id, previous_result: 'fail', failing_since: '2026-01-01T00:00:00.000Z' });
  });

  it('a retried write returns the rows first recorded, in the order asked, and records nothing twice', async () => {
    const first = [item('job_b', 'mfa', 'r1', 'fail', '2026-02-01T00:00:00Z'), item('job_b', 'lockout', 'r1', 'pass', '2026-02-01T00:00:00Z')];
    const recorded = await w.stores.evidence.recordMany(first);
    // The retry: new ids for the same identities, in another order, with one new item among them
    // and one identity given twice.
    const retried = [item('job_b', 'lockout', 'r1', 'pass', '2026-02-01T00:00:00Z'), item('job_b', 'mfa', 'r2', 'pass', '2026-02-02T00:00:00Z'), item('job_b', 'mfa', 'r1', 'fail', '2026-02-01T00:00:00Z')];
    const twice = { ...retried[1]!, id: newId('ev') };
    const rows = await w.stores.evidence.recordMany([...retried, twice]);
    expect(rows.map((r) => r.id)).toEqual([recorded[1]!.id, retried[1]!.id, recorded[0]!.id, retried[1]!.id]);
    const count = await w.db.query<{ n: string }>(`SELECT count(*) AS n FROM evidence WHERE job_id = 'job_b'`);
    expect(Number(count[0]!.n)).toBe(3);
    expect(await events('control.failed', 'job_b')).toHaveLength(1);
    expect(await events('control.recovered', 'job_b')).toHaveLength(1);
    expect(await check('job_b', 'mfa')).toMatchObject({ result: 'pass', evidence_id: retried[1]!.id });
  });

  it('keeps each payload as written: its key order, NUL bytes and lone surrogates (the column is json, not jsonb)', async () => {
    const written = item('job_c', 'mfa', 'r1', 'pass', '2026-03-01T00:00:00Z');
    written.payload = { zeta: 1, alpha: 'nul \u0000 here', middle: { b: 2, a: 1 }, lone: '\ud800' };
    written.payload_sha256 = canonicalSha256(written.payload);
    const [row] = await w.stores.evidence.recordMany([written]);
    const stored = await w.stores.evidence.get(w.workspaceId, row!.id);
    expect(JSON.stringify(stored!.payload)).toBe(JSON.stringify(written.payload));
  });
});
