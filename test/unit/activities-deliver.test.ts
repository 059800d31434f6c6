import { ApplicationFailure } from '@temporalio/activity';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { canonicalSha256 } from '../../lib/canonical-json.js';
import { newId } from '../../lib/ids.js';
import { failActivity, inWorkflow, runActivity, startActivityWorld, type ActivityWorld } from '../helpers/activities.js';
import { eventually } from '../helpers/hub.js';
import { OKTA_ASSESSMENT } from '../helpers/fixtures.js';
import { startAudigydSimulator, type AudigydSimulator } from '../simulators/index.js';

const PUSH = /\/evidence\/push$/;
const QUESTIONS = ['MFA admin', 'account lockout', 'inactive accounts'];

describe('delivery activities, built by createActivities over PGlite (MockActivityEnvironment)', () => {
  let w: ActivityWorld;
  let audigyd: AudigydSimulator;
  let destination: string;

  /** Ledger items as POST /api/v1/evidence/push records them (pending, for the AUDIGYD destination). */
  async function pushed(n: number, label: string): Promise<string[]> {
    const collectedAt = new Date();
    const rows = await w.stores.evidence.recordMany(Array.from({ length: n }, (_, i) => {
      const payload = { label, i };
      return {
        id: newId('ev'), workspaceId: w.workspaceId, run_id: null, job_id: null, rule_id: null, dataset: null, control_ref: 'Access Control',
        question_match: QUESTIONS[i % QUESTIONS.length]!, question_id: null, title: `${label} ${i}`, source: 'activities-test', result: 'pass' as const,
        payload, payload_sha256: canonicalSha256(payload), collected_at: collectedAt, allow_multiple: false,
        destination_id: destination, target: { assessment_id: OKTA_ASSESSMENT.id }, identity: `test:${label}:${i}`,
      };
    }));
    return rows.map((r) => r.id);
  }
  const statuses = async (ids: string[]) => Promise.all(ids.map(async (id) => {
    const e = (await w.stores.evidence.getById(id))!;
    return { status: e.status, attempts: e.attempts };
  }));
  const stored = (label: string) => audigyd.state.evidence.filter((e) => e.title?.startsWith(`${label} `));

  beforeAll(async () => {
    [w, audigyd] = await Promise.all([
      startActivityWorld(),
      startAudigydSimulator({ assessments: [OKTA_ASSESSMENT], rateLimit: false, uploadRateLimit: false }),
    ]);
    destination = await w.addConnection('destination', 'audigyd', { base_url: audigyd.url }, { api_key: audigyd.apiKey });
  });
  afterEach(() => {
    audigyd.faults.clear();
    audigyd.setAssessmentStatus(OKTA_ASSESSMENT.id, 'open');
  });
  afterAll(async () => {
    await audigyd?.close();
    await w?.close();
  });

  it('deliverEvidenceBatch delivers each item to AUDIGYD and settles it delivered; the batch run again sends nothing twice', async () => {
    const ids = await pushed(5, 'batch');
    const info = inWorkflow('run-batch');
    await runActivity(() => w.activities.deliverEvidenceBatch({ evidenceIds: ids, concurrency: 2 }), info);
    expect(await statuses(ids)).toEqual(ids.map(() => ({ status: 'delivered', attempts: 1 })));
    expect(stored('batch')).toHaveLength(5);
    for (const id of ids) {
      const e = (await w.stores.evidence.getById(id))!;
      expect(e.destination_evidence_ids).toHaveLength(1);
      expect(stored('batch').map((s) => s.evidenceId)).toContain((e.destination_evidence_ids as string[])[0]);
    }

    // A retried activity skips what is settled.
    const pushes = audigyd.requests.filter((r) => PUSH.test(r.path)).length;
    await runActivity(() => w.activities.deliverEvidenceBatch({ evidenceIds: ids, concurrency: 2 }), inWorkflow('run-batch', 2));
    expect(audigyd.requests.filter((r) => PUSH.test(r.path)).length).toBe(pushes);
    expect(await statuses(ids)).toEqual(ids.map(() => ({ status: 'delivered', attempts: 1 })));
  });

  it('a batch larger than one claim chunk: every item is delivered once with its attempt counted once, and a retried activity claims and sends none again', async () => {
    const ids = await pushed(130, 'large');
    await runActivity(() => w.activities.deliverEvidenceBatch({ evidenceIds: ids, concurrency: 8 }), inWorkflow('run-large'));
    expect(await statuses(ids)).toEqual(ids.map(() => ({ status: 'delivered', attempts: 1 })));
    expect(stored('large')).toHaveLength(130);
    expect(new Set(stored('large').map((e) => e.title)).size).toBe(130);
    // Run again (a retried activity): nothing is claimed or sent twice.
    const pushes = audigyd.requests.filter((r) => PUSH.test(r.path)).length;
    await runActivity(() => w.activities.deliverEvidenceBatch({ evidenceIds: ids, concurrency: 8 }), inWorkflow('run-large', 2));
    expect(audigyd.requests.filter((r) => PUSH.test(r.path)).length).toBe(pushes);
    expect(await statuses(ids)).toEqual(ids.map(() => ({ status: 'delivered', attempts: 1 })));
  });

  it('markEvidenceBatchFailed records the still-pending items of a batch as failed, with their events and audit entries, and leaves the settled ones as they were', async () => {
    const ids = await pushed(4, 'exhausted');
    await runActivity(() => w.activities.deliverEvidenceBatch({ evidenceIds: ids.slice(0, 1), concurrency: 1 }), inWorkflow('run-exhausted'));
    await runActivity(() => w.activities.markEvidenceBatchFailed({ evidenceIds: ids, error: 'retries ran out' }), inWorkflow('run-exhausted'));
    const rows = await Promise.all(ids.map(async (id) => (await w.stores.evidence.getById(id))!));
    expect(rows.map((e) => [e.status, e.error])).toEqual([['delivered', null], ['failed', 'retries ran out'], ['failed', 'retries ran out'], ['failed', 'retries ran out']]);
    const rejected = await w.db.query<{ data: { evidence_id: string; error: string } }>(`SELECT data FROM events WHERE type = 'evidence.rejected' AND data->>'evidence_id' = ANY($1)`, [ids]);
    expect(rejected.map((e) => e.data.evidence_id).sort()).toEqual(ids.slice(1).sort());
    expect(rejected.every((e) => e.data.error === 'retries ran out')).toBe(true);
    const audited = await w.db.query<{ resource_id: string; action: string }>(`SELECT resource_id, action FROM audit_log WHERE resource_id = ANY($1) ORDER BY seq`, [ids]);
    expect(audited).toEqual([{ resource_id: ids[0], action: 'evidence.delivered' }, ...ids.slice(1).map((id) => ({ resource_id: id, action: 'evidence.failed' }))]);
  });

  it('a 429 with Retry-After: the batch fails with a retryable ApplicationFailure whose next retry waits the Retry-After; the next attempt delivers what was left', async () => {
    const ids = await pushed(3, 'throttled');
    audigyd.faults.inject({ kind: 'rateLimit', retryAfterSeconds: 7 }, 1, { path: PUSH });
    const { error } = await failActivity(() => w.activities.deliverEvidenceBatch({ evidenceIds: ids, concurrency: 1 }), inWorkflow('run-throttled'));
    expect(error).toBeInstanceOf(ApplicationFailure);
    const failure = error as ApplicationFailure;
    expect(failure.nonRetryable).toBe(false);
    expect(failure.type).toBe('destination.rate_limited');
    expect(failure.nextRetryDelay).toBe(7_000);
    expect(failure.message).toMatch(/^1 of 3 items to retry: /);
    // The others were delivered; the throttled one is still pending, its attempt counted.
    const after = await statuses(ids);
    expect(after.filter((s) => s.status === 'delivered')).toHaveLength(2);
    expect(after.filter((s) => s.status === 'pending')).toEqual([{ status: 'pending', attempts: 1 }]);

    await runActivity(() => w.activities.deliverEvidenceBatch({ evidenceIds: ids, concurrency: 1 }), inWorkflow('run-throttled', 2));
    expect((await statuses(ids)).map((s) => s.status)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(stored('throttled')).toHaveLength(3);
  });

  it('a 503 without Retry-After: retryable, and the retry is left to the activity\'s backoff', async () => {
    const [id] = await pushed(1, 'unavailable');
    audigyd.faults.inject({ kind: 'status', status: 503 }, 1, { path: PUSH });
    const { error } = await failActivity(() => w.activities.deliverEvidence({ evidenceId: id! }), inWorkflow(`deliver-${id}`));
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(false);
    expect((error as ApplicationFailure).type).toBe('destination.unavailable');
    expect((error as ApplicationFailure).nextRetryDelay).toBeUndefined();
    expect(await statuses([id!])).toEqual([{ status: 'pending', attempts: 1 }]);
    expect((await runActivity(() => w.activities.deliverEvidence({ evidenceId: id! }), inWorkflow(`deliver-${id}`, 2))).result).toBe('delivered');
  });

  it('deliverEvidence heartbeats while a slow destination answers, then returns delivered', async () => {
    const [id] = await pushed(1, 'slow');
    audigyd.faults.inject({ kind: 'delay', ms: 2_500 }, 1, { path: PUSH });
    const { result, heartbeats } = await runActivity(() => w.activities.deliverEvidence({ evidenceId: id! }), inWorkflow(`deliver-${id}`));
    expect(result).toBe('delivered');
    expect(heartbeats.length).toBeGreaterThanOrEqual(1);
    expect(stored('slow')).toHaveLength(1);
  });

  it('a refusal that will not change (409, finalized assessment) is settled rejected with the destination\'s reason, not retried', async () => {
    const [id] = await pushed(1, 'finalized');
    audigyd.setAssessmentStatus(OKTA_ASSESSMENT.id, 'finalized');
    const pushes = audigyd.requests.filter((r) => PUSH.test(r.path)).length;
    const { result } = await runActivity(() => w.activities.deliverEvidence({ evidenceId: id! }), inWorkflow(`deliver-${id}`));
    expect(result).toBe('rejected');
    expect(audigyd.requests.filter((r) => PUSH.test(r.path)).length - pushes).toBe(1);
    const e = (await w.stores.evidence.getById(id!))!;
    expect(e).toMatchObject({ status: 'rejected', attempts: 1 });
    expect(e.error).toMatch(/AUDIGYD answered 409/);
  });

  it('while outcomes cannot commit, an activity has at most twice its concurrency sent and unrecorded, and uses all of it', async () => {
    const ids = await pushed(40, 'bound');
    const evidence = w.stores.evidence;
    const settleMany = evidence.settleMany.bind(evidence);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => { open = resolve; });
    // The database stops committing outcomes (a long checkpoint, a lock): the settles wait.
    evidence.settleMany = async (outcomes) => { await gate; return settleMany(outcomes); };
    try {
      const pushesBefore = audigyd.requests.filter((r) => PUSH.test(r.path)).length;
      const pushes = () => audigyd.requests.filter((r) => PUSH.test(r.path)).length - pushesBefore;
      const delivering = runActivity(() => w.activities.deliverEvidenceBatch({ evidenceIds: ids, concurrency: 4 }), inWorkflow('run-bound'));
      await eventually(async () => pushes() >= 8, { timeoutMs: 20_000, intervalMs: 10 });
      // Stays there: what a worker dying now would send again is bounded.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(pushes()).toBe(8);
      open();
      await delivering;
      expect(pushes()).toBe(40);
      expect(await statuses(ids)).toEqual(ids.map(() => ({ status: 'delivered', attempts: 1 })));
    } finally {
      open();
      evidence.settleMany = settleMany;
    }
  });
});
