import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { startAudigydSimulator, type AudigydSimulator } from '../simulators/audigyd.js';
import { eventually, spawnWorker, startTestHub, type TestHub } from '../helpers/hub.js';
import { createConnection, runToEnd } from '../helpers/collect.js';
import { OKTA_ASSESSMENT } from '../helpers/fixtures.js';

const PUSH = /\/evidence\/push$/;


async function makeJob(t: TestHub, okta: OktaSimulator, audigyd: AudigydSimulator, questionMatches: string[]): Promise<string> {
  const connection = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token', enrich: false }, secrets: { api_token: okta.apiToken } });
  const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'AUDIGYD', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } } });
  const rules = questionMatches.map((question_match, i) => ({
    id: `users-${i}`, dataset: 'okta.users', control_ref: 'Access Control', question_match,
    title: `Okta users (${i})`, mode: 'info', payload: { users: { count: '$' } },
  }));
  const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: `m-${questionMatches.join('-')}`, rules } });
  expect(mapping.status, mapping.text).toBe(201);
  const job = await t.call('POST', '/api/v1/jobs', { json: { name: 'faults', connection_id: connection, datasets: ['okta.users'], mapping_id: mapping.body.id, destination_id: destination.body.id, target: { assessment_id: 'asm_okta' } } });
  expect(job.status, job.text).toBe(201);
  return job.body.id;
}

describe('delivery faults at the destination (docs/architecture.md, "Delivery")', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  let audigyd: AudigydSimulator;
  beforeAll(async () => {
    t = await startTestHub({ backend: 'postgres', role: 'api', env: { HUB_DELIVERY_RETRY_INITIAL_MS: '200', HUB_DELIVERY_RETRY_MAX_MS: '1000', HUB_DELIVERY_MAX_ATTEMPTS: '6' } });
    okta = await startOktaSimulator({ population: { total: 50 }, rateLimit: false });
    audigyd = await startAudigydSimulator({ assessments: [OKTA_ASSESSMENT], rateLimit: false, uploadRateLimit: false });
  });
  afterAll(async () => { await okta?.close(); await audigyd?.close(); await t?.stop(); });

  it('429 with Retry-After: the wait is honoured, then delivered; 503 three times: delivered on the fourth attempt', async () => {
    const worker = await spawnWorker(t, { HUB_DELIVERY_RETRY_INITIAL_MS: '200' });
    try {
      const jobId = await makeJob(t, okta, audigyd, ['MFA admin']);
      audigyd.faults.inject({ kind: 'rateLimit', retryAfterSeconds: 2 }, 1, { path: PUSH });
      const run = await runToEnd(t.call, jobId);
      expect(run.status).toBe('succeeded');
      const pushes = audigyd.requests.filter((r) => PUSH.test(r.path));
      expect(pushes).toHaveLength(2);
      expect(pushes[1]!.receivedAtMs - pushes[0]!.receivedAtMs).toBeGreaterThanOrEqual(2000);
      expect(run.items[0]).toMatchObject({ status: 'delivered', attempts: 2 });

      const before = audigyd.requests.filter((r) => PUSH.test(r.path)).length;
      audigyd.faults.inject({ kind: 'status', status: 503 }, 3, { path: PUSH });
      const retried = await runToEnd(t.call, jobId);
      expect(retried.status).toBe('succeeded');
      expect(audigyd.requests.filter((r) => PUSH.test(r.path)).length - before).toBe(4);
      expect(retried.items[0]).toMatchObject({ status: 'delivered', attempts: 4 });
    } finally {
      await worker.kill();
    }
  });

  it('409 (finalized assessment) is rejected with the destination’s message and not retried; nothing matching is rejected too', async () => {
    const worker = await spawnWorker(t);
    try {
      const jobId = await makeJob(t, okta, audigyd, ['account lockout', 'nothing like this']);
      audigyd.setAssessmentStatus('asm_okta', 'finalized');
      const before = audigyd.requests.filter((r) => PUSH.test(r.path)).length;
      const run = await runToEnd(t.call, jobId);
      audigyd.setAssessmentStatus('asm_okta', 'open');
      expect(run.status).toBe('failed');
      expect(run.counts).toMatchObject({ evidence: 2, rejected: 2, delivered: 0 });
      expect(audigyd.requests.filter((r) => PUSH.test(r.path)).length - before).toBe(2); // one each, no retry
      for (const item of run.items) expect(item.error).toMatch(/AUDIGYD answered 409/);
    } finally {
      await worker.kill();
    }
  });

  it('a worker killed (SIGKILL) mid-delivery: the run completes and AUDIGYD holds each item once', async () => {
    const questions = ['MFA admin', 'account lockout', 'inactive accounts', 'password length', 'deprovisioned users'];
    const jobId = await makeJob(t, okta, audigyd, questions);
    const first = await spawnWorker(t);
    // Slow answers from AUDIGYD: the kill lands while pushes are in flight or answered.
    audigyd.faults.inject({ kind: 'delay', ms: 800 }, questions.length * 2, { path: PUSH });
    const stored = audigyd.state.evidence.length;
    const pushesBefore = audigyd.requests.filter((r) => PUSH.test(r.path)).length;
    const trigger = await t.call('POST', `/api/v1/jobs/${jobId}/runs`);
    await eventually(async () => audigyd.requests.filter((r) => PUSH.test(r.path)).length - pushesBefore >= 2, { timeoutMs: 60_000, intervalMs: 10 });
    await first.kill();
    const second = await spawnWorker(t);
    try {
      const run = await eventually(async () => {
        const res = await t.call('GET', `/api/v1/runs/${trigger.body.id}`);
        return ['queued', 'running'].includes(res.body.status) ? null : res.body;
      }, { timeoutMs: 120_000, intervalMs: 250 });
      expect(run.status, JSON.stringify(run)).toBe('succeeded');
      expect(run.counts).toMatchObject({ evidence: 5, delivered: 5 });
      const fromThisRun = audigyd.state.evidence.slice(stored);
      // Each title exactly once: a re-sent push carried the same identity and was reconciled.
      expect(fromThisRun.map((e) => e.title).sort()).toEqual(questions.map((_, i) => `Okta users (${i})`).sort());
      // Some pushes were sent again after the kill.
      expect(run.items.some((i: { attempts: number }) => i.attempts >= 2)).toBe(true);
      // The duplicates an auditor would see before AUDIGYD reconciles them: pushes sent twice,
      // at most the items the killed worker had sent without their outcome committed.
      const pushes = audigyd.requests.filter((r) => PUSH.test(r.path)).length - pushesBefore;
      const resent = pushes - questions.length;
      console.log(`SIGKILL mid-delivery: ${pushes} pushes for ${questions.length} items, ${resent} re-sent after the kill`);
      expect(resent).toBeGreaterThanOrEqual(0);
    } finally {
      await second.kill();
    }
  }, 180_000);
});
