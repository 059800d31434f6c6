import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { startAudigydSimulator, type AudigydSimulator } from '../simulators/audigyd.js';
import { eventually, spawnWorker, startTestHub, type TestHub } from '../helpers/hub.js';
import { createConnection } from '../helpers/collect.js';
import { OKTA_ASSESSMENT } from '../helpers/fixtures.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

// A result too old to stand for now reads `stale`, and subscribers hear evidence.stale once
// per check, from a Temporal Schedule: a worker killed in the middle of the window changes nothing.
describe('stale checks', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  let audigyd: AudigydSimulator;
  let receiver: WebhookReceiver;
  let secret: string;
  let jobId: string;
  const workerEnv = { HUB_STALE_CHECK_INTERVAL: '1s', HUB_WEBHOOK_DISPATCH_INTERVAL: '50ms', HUB_DELIVERY_RETRY_INITIAL_MS: '100', HUB_DELIVERY_MAX_ATTEMPTS: '2' };
  beforeAll(async () => {
    t = await startTestHub({ backend: 'postgres', role: 'api', env: workerEnv });
    okta = await startOktaSimulator({ population: { total: 20, admins: 2, adminsWithoutMfa: 1 }, rateLimit: false });
    audigyd = await startAudigydSimulator({ assessments: [OKTA_ASSESSMENT], rateLimit: false, uploadRateLimit: false });
    receiver = await WebhookReceiver.start();
    const hook = await t.call('POST', '/api/v1/webhooks', { json: { url: receiver.url, events: ['evidence.stale'] } });
    expect(hook.status, hook.text).toBe(201);
    secret = hook.body.secret;
    const connection = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token' }, secrets: { api_token: okta.apiToken } });
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'AUDIGYD', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } } });
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: 'okta', pack: 'okta' } });
    const job = await t.call('POST', '/api/v1/jobs', {
      json: {
        name: 'okta, fresh for 6 s', connection_id: connection, datasets: ['okta.users', 'okta.password_policies'], mapping_id: mapping.body.id,
        destination_id: destination.body.id, target: { assessment_id: 'asm_okta' }, fresh_for: '6s',
      },
    });
    expect(job.status, job.text).toBe(201);
    expect(job.body.fresh_for).toBe('6s');
    jobId = job.body.id;
  });
  afterAll(async () => { await receiver?.down(); await okta?.close(); await audigyd?.close(); await t?.stop(); });

  it('checks go stale after their window and evidence.stale is delivered once per check, across a worker killed in the window', async () => {
    expect((await t.call('POST', '/api/v1/jobs', { json: { name: 'x', connection_id: 'c', datasets: ['okta.users'], mapping_id: 'm', destination_id: 'd', target: {}, fresh_for: 'soon' } })).status).toBe(400);
    let worker = await spawnWorker(t, workerEnv);
    try {
      const trigger = await t.call('POST', `/api/v1/jobs/${jobId}/runs`);
      expect(trigger.status, trigger.text).toBe(202);
      await eventually(async () => {
        const run = await t.call('GET', `/api/v1/runs/${trigger.body.id}`);
        return ['queued', 'running'].includes(run.body.status) ? null : run.body;
      }, { timeoutMs: 60_000, intervalMs: 200 });
      const fresh = (await t.call('GET', `/api/v1/checks?job_id=${jobId}&limit=100`)).body.data as { id: string; status: string }[];
      expect(fresh.length).toBeGreaterThan(3);
      expect(fresh.filter((c) => c.status === 'stale')).toEqual([]);

      // The worker dies inside the freshness window; another takes over.
      await worker.kill();
      worker = await spawnWorker(t, workerEnv);

      const stale = await eventually(async () => {
        const checks = (await t.call('GET', `/api/v1/checks?job_id=${jobId}&status=stale&limit=100`)).body.data as { id: string }[];
        return checks.length === fresh.length ? checks : null;
      }, { timeoutMs: 60_000, intervalMs: 500 });
      expect(stale.map((c) => c.id).sort()).toEqual(fresh.map((c) => c.id).sort());
      const events = await eventually(async () => {
        const got = receiver.received.map((h) => new Webhook(secret).verify(h.body, h.headers) as { type: string; data: { check_id: string } });
        return got.length >= fresh.length ? got : null;
      }, { timeoutMs: 30_000, intervalMs: 250 });
      // More passes of the schedule send nothing again.
      await sleep(3_000);
      expect(receiver.received).toHaveLength(fresh.length);
      expect(events.map((e) => e.type)).toEqual(fresh.map(() => 'evidence.stale'));
      expect(events.map((e) => e.data.check_id).sort()).toEqual(fresh.map((c) => c.id).sort());
      const posture = await t.call('GET', '/api/v1/posture');
      expect(posture.body.checks.stale).toBe(fresh.length);
    } finally {
      await worker.kill();
    }
  });
});
