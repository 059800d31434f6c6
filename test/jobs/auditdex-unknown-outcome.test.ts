import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { startAuditdexSimulator, type AuditdexSimulator } from '../simulators/auditdex.js';
import { eventually, spawnWorker, startTestHub, type TestHub } from '../helpers/hub.js';
import { createConnection, runToEnd } from '../helpers/collect.js';

// AUDITDEX takes no idempotency key and files every upload as a new immutable item: when an
// upload's outcome is unknown, the hub reads the control's linked evidence before sending again.

const ENGAGEMENT = 'eng_xyz789';
const CONTROL = 'ctrl_abc123';
const UPLOAD = /\/evidence$/;
const CONTROL_STATUS = `/v1/engagements/${ENGAGEMENT}/controls/${CONTROL}`;

describe('AUDITDEX: an upload whose outcome is unknown is not sent twice', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  let auditdex: AuditdexSimulator;
  let jobId: string;
  beforeAll(async () => {
    t = await startTestHub({ backend: 'postgres', role: 'api', env: { HUB_DELIVERY_RETRY_INITIAL_MS: '200', HUB_DELIVERY_RETRY_MAX_MS: '1000', HUB_DELIVERY_MAX_ATTEMPTS: '6' } });
    okta = await startOktaSimulator({ population: { total: 30 }, rateLimit: false });
    auditdex = await startAuditdexSimulator({ rateLimit: false });
    const connection = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token', enrich: false }, secrets: { api_token: okta.apiToken } });
    const destination = await t.call('POST', '/api/v1/destinations', {
      json: { name: 'AUDITDEX', type: 'auditdex', config: { base_url: auditdex.apiBaseUrl, token_url: auditdex.tokenUrl, client_id: auditdex.clientId }, secrets: { client_secret: auditdex.clientSecret } },
    });
    expect(destination.status, destination.text).toBe(201);
    const mapping = await t.call('POST', '/api/v1/mappings', {
      json: { name: 'users', rules: [{ id: 'okta-users', dataset: 'okta.users', control_ref: 'Access Control', question_match: 'access review', title: 'Okta users', mode: 'info', payload: { users: { count: '$' } } }] },
    });
    expect(mapping.status, mapping.text).toBe(201);
    const job = await t.call('POST', '/api/v1/jobs', {
      json: { name: 'to auditdex', connection_id: connection, datasets: ['okta.users'], mapping_id: mapping.body.id, destination_id: destination.body.id, target: { engagement_id: ENGAGEMENT, control_map: { 'Access Control': CONTROL } } },
    });
    expect(job.status, job.text).toBe(201);
    jobId = job.body.id;
  });
  afterAll(async () => { await okta?.close(); await auditdex?.close(); await t?.stop(); });

  it('a worker killed while the answer to a stored upload is lost: the retry finds the file on the control and settles the item delivered', async () => {
    const first = await spawnWorker(t);
    const stored = auditdex.state.evidence.length;
    auditdex.loseAnswers(1);
    const trigger = await t.call('POST', `/api/v1/jobs/${jobId}/runs`);
    expect(trigger.status, trigger.text).toBe(202);
    // AUDITDEX has the file; its answer never reaches the worker, which dies waiting for it.
    await eventually(async () => auditdex.state.evidence.length > stored, { timeoutMs: 60_000, intervalMs: 20 });
    await first.kill();
    const requestsAtKill = auditdex.requests.length;

    const second = await spawnWorker(t);
    try {
      const run = await eventually(async () => {
        const res = await t.call('GET', `/api/v1/runs/${trigger.body.id}`);
        return ['queued', 'running'].includes(res.body.status) ? null : res.body;
      }, { timeoutMs: 120_000, intervalMs: 250 });
      expect(run.status, JSON.stringify(run)).toBe('succeeded');

      // Exactly one file at AUDITDEX, and the ledger says delivered, with AUDITDEX's id for it.
      const files = auditdex.state.evidence.slice(stored);
      expect(files).toHaveLength(1);
      expect(run.items).toHaveLength(1);
      expect(run.items[0]).toMatchObject({ status: 'delivered' });
      expect(run.items[0].attempts).toBeGreaterThanOrEqual(2);
      const item = await t.call('GET', `/api/v1/evidence/${run.items[0].id}`);
      expect(item.body).toMatchObject({ status: 'delivered', destination_evidence_ids: [files[0]!.evidenceId] });
      expect(files[0]!.file.sha256).toBe(item.body.payload_sha256);

      // The second worker read the control's linked evidence and uploaded nothing.
      const after = auditdex.requests.slice(requestsAtKill);
      expect(after.some((r) => r.method === 'GET' && r.path === CONTROL_STATUS && r.status === 200)).toBe(true);
      expect(after.filter((r) => UPLOAD.test(r.path))).toEqual([]);
    } finally {
      await second.kill();
    }
  }, 180_000);

  it('an upload that failed is sent again when the control holds no such file; the same payload filed by an earlier run is not taken for it', async () => {
    const worker = await spawnWorker(t);
    try {
      const earlier = await runToEnd(t.call, jobId);
      expect(earlier.status, JSON.stringify(earlier)).toBe('succeeded');
      const stored = auditdex.state.evidence.length;
      const requestsBefore = auditdex.requests.length;

      // The first upload fails (503): its outcome is known, but the retry asks the control all the same.
      auditdex.faults.inject({ kind: 'status', status: 503 }, 1, { path: UPLOAD, method: 'POST' });
      const run = await runToEnd(t.call, jobId);
      expect(run.status, JSON.stringify(run)).toBe('succeeded');
      expect(run.items[0]).toMatchObject({ status: 'delivered', attempts: 2 });

      const requests = auditdex.requests.slice(requestsBefore);
      expect(requests.filter((r) => r.method === 'GET' && r.path === CONTROL_STATUS).length).toBeGreaterThanOrEqual(1);
      expect(requests.filter((r) => UPLOAD.test(r.path)).map((r) => r.status)).toEqual([503, 201]);

      // The earlier run's file has the same bytes (the same users) but is another item: one new file.
      const files = auditdex.state.evidence.slice(stored);
      expect(files).toHaveLength(1);
      const previous = auditdex.state.evidence.filter((e) => e.controlId === CONTROL && e.file.sha256 === files[0]!.file.sha256);
      expect(previous.length).toBeGreaterThanOrEqual(2);
      expect(new Set(previous.map((e) => e.file.filename)).size).toBe(previous.length);
    } finally {
      await worker.kill();
    }
  }, 180_000);
});
