import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { startAudigydSimulator, type AudigydSimulator } from '../simulators/audigyd.js';
import { eventually, newWorkspace, startTestHub, type TestHub } from '../helpers/hub.js';
import { createConnection, runToEnd } from '../helpers/collect.js';
import { OKTA_ASSESSMENT } from '../helpers/fixtures.js';
import { WebhookReceiver, type ReceivedWebhook } from '../helpers/webhook-receiver.js';

interface Envelope { id: string; type: string; timestamp: string; data: Record<string, unknown> }
const parse = (h: ReceivedWebhook) => JSON.parse(h.body) as Envelope;

describe('webhook events: catalog, signing, rotation, fan-out', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  let audigyd: AudigydSimulator;
  let receiver: WebhookReceiver;
  let secret: string;
  let webhookId: string;

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_WEBHOOK_RETRY_SCHEDULE: '300ms,500ms,1s', HUB_WEBHOOK_DISPATCH_INTERVAL: '50ms', HUB_DELIVERY_RETRY_INITIAL_MS: '100', HUB_DELIVERY_MAX_ATTEMPTS: '2' } });
    okta = await startOktaSimulator({ population: { total: 30 }, rateLimit: false });
    audigyd = await startAudigydSimulator({ assessments: [OKTA_ASSESSMENT], rateLimit: false, uploadRateLimit: false });
    receiver = await WebhookReceiver.start();
    const created = await t.call('POST', '/api/v1/webhooks', { json: { url: receiver.url, description: 'everything' } });
    expect(created.status, created.text).toBe(201);
    secret = created.body.secret;
    webhookId = created.body.id;
  });
  afterAll(async () => {
    if (process.env.DEBUG_WEBHOOKS) console.log(t.logs.filter((l) => /"level":(40|50)/.test(l)).join('\n'));
    await receiver?.down(); await okta?.close(); await audigyd?.close(); await t?.stop(); });

  it('publishes a catalog of at least ten event types, each with a schema its example satisfies', async () => {
    const res = await t.call('GET', '/api/v1/event-types');
    expect(res.status).toBe(200);
    const types = res.body.data.map((e: { type: string }) => e.type);
    expect(types).toEqual(expect.arrayContaining(['run.started', 'run.completed', 'run.failed', 'evidence.added', 'control.failed', 'evidence.rejected',
      'evidence.ambiguous', 'connection.failed', 'mapping.published', 'webhook.endpoint_disabled', 'webhook.test']));
    const ajv = new Ajv2020.default({ strict: false });
    addFormats.default(ajv);
    for (const e of res.body.data) expect(ajv.validate(e.schema, e.example), `${e.type}: ${ajv.errorsText()}`).toBe(true);
  });

  it('creates endpoints with a whsec_ secret shown once and sealed at rest; bad input is a 400 problem', async () => {
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const raw = Buffer.from(secret.slice('whsec_'.length), 'base64');
    expect(raw.length).toBeGreaterThanOrEqual(24);
    expect(raw.length).toBeLessThanOrEqual(64);
    const got = await t.call('GET', `/api/v1/webhooks/${webhookId}`);
    expect(got.status).toBe(200);
    expect(got.text).not.toContain(secret);
    expect(got.body).toMatchObject({ id: webhookId, url: receiver.url, events: [], enabled: true });
    expect((await t.call('GET', '/api/v1/webhooks')).text).not.toContain(secret.slice(10));
    expect(JSON.stringify(await t.hub.db.query('SELECT * FROM secrets'))).not.toContain(secret.slice(10));
    expect(t.logs.join('\n')).not.toContain(secret.slice(10));

    const bad = [
      { url: 'not a url' }, { url: 'ftp://example.com/x' }, { url: receiver.url, events: ['run.exploded'] }, { url: receiver.url, colour: 'blue' },
      { url: receiver.url, events: 'run.started' }, {},
    ];
    for (const body of bad) {
      const res = await t.call('POST', '/api/v1/webhooks', { json: body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    const malformed = await t.call('POST', '/api/v1/webhooks', { body: '{"url": ', contentType: 'application/json' });
    expect(malformed.status).toBe(400);

    const reader = await t.call('POST', '/api/v1/api-keys', { json: { name: 'reader', scopes: ['config:read'] } });
    expect((await t.call('POST', '/api/v1/webhooks', { key: reader.body.key, json: { url: receiver.url } })).status).toBe(403);
    expect((await t.call('GET', '/api/v1/webhooks', { key: reader.body.key })).status).toBe(200);
    const other = await newWorkspace(t, 'webhooks-other');
    expect((await other.call('GET', `/api/v1/webhooks/${webhookId}`)).status).toBe(404);
    expect((await other.call('PATCH', `/api/v1/webhooks/${webhookId}`, { json: { enabled: false } })).status).toBe(404);
    expect((await other.call('POST', `/api/v1/webhooks/${webhookId}/rotate-secret`)).status).toBe(404);
    expect((await other.call('GET', `/api/v1/webhooks/${webhookId}/deliveries`)).status).toBe(404);
  });

  it('a run’s events arrive signed to the Standard Webhooks specification and match the catalog', async () => {
    const catalog = (await t.call('GET', '/api/v1/event-types')).body.data as { type: string; schema: object }[];
    const connection_id = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token', enrich: false }, secrets: { api_token: okta.apiToken } });
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'AUDIGYD', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } } });
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: 'events', rules: [
      { id: 'lockout', dataset: 'okta.users', control_ref: 'Access Control', question_match: 'account lockout', title: 'Users: {{count}}', mode: 'info', payload: { users: { count: '$' } } },
      { id: 'none-inactive', dataset: 'okta.users', control_ref: 'Access Control', question_match: 'inactive accounts', title: 'No users at all', pass_when: [{ count: { op: 'eq', value: 0 } }], payload: { users: { count: '$' } } },
      { id: 'mfa-ambiguous', dataset: 'okta.users', control_ref: 'Access Control', question_match: 'MFA enforced', title: 'MFA', mode: 'info', payload: { users: { count: '$' } } },
    ] } });
    expect(mapping.status, mapping.text).toBe(201);
    const base = { connection_id, datasets: ['okta.users'], mapping_id: mapping.body.id, destination_id: destination.body.id };
    const job = await t.call('POST', '/api/v1/jobs', { json: { ...base, name: 'events', target: { assessment_id: 'asm_okta' } } });
    const run = await runToEnd(t.call, job.body.id);
    expect(run.status).toBe('partial');
    const missing = await t.call('POST', '/api/v1/jobs', { json: { ...base, name: 'no such assessment', target: { assessment_id: 'asm_missing' } } });
    const failedRun = await runToEnd(t.call, missing.body.id);
    expect(failedRun.status).toBe('failed');
    const badConnection = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token', enrich: false }, secrets: { api_token: 'wrong' } });
    expect((await t.call('POST', `/api/v1/connections/${badConnection}/collect`, { json: { datasets: ['okta.users'] } })).status).toBeLessThan(300);

    await eventually(async () => receiver.ofType('run.failed').length >= 1 && receiver.ofType('run.completed').length >= 1 && receiver.ofType('connection.failed').length >= 1, { timeoutMs: 40_000 });
    const verifier = new Webhook(secret);
    const ajv = new Ajv2020.default({ strict: false });
    addFormats.default(ajv);
    for (const hook of receiver.received) {
      // The third-party implementation accepts what the hub signed, byte for byte.
      const verified = verifier.verify(hook.body, { 'webhook-id': hook.id, 'webhook-timestamp': hook.timestamp, 'webhook-signature': hook.signature }) as Envelope;
      expect(verified.id).toBe(hook.id);
      expect(hook.signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(Math.abs(Number(hook.timestamp) - Date.now() / 1000)).toBeLessThan(60);
      const schema = catalog.find((c) => c.type === verified.type)!.schema;
      expect(ajv.validate(schema, verified.data), `${verified.type}: ${ajv.errorsText()}`).toBe(true);
      expect(Object.keys(verified).sort()).toEqual(['data', 'id', 'timestamp', 'type']);
    }
    const ofRun = (type: string) => receiver.ofType(type).map(parse).filter((e) => e.data.run_id === run.id);
    expect(ofRun('run.started')).toHaveLength(1);
    expect(ofRun('run.completed')[0]!.data).toMatchObject({ status: 'partial', counts: { delivered: 2, ambiguous: 1 } });
    expect(ofRun('control.failed').map((e) => e.data.rule_id)).toEqual(['none-inactive']);
    expect(ofRun('evidence.added').map((e) => e.data.rule_id).sort()).toEqual(['lockout', 'none-inactive']);
    const added = ofRun('evidence.added').find((e) => e.data.rule_id === 'lockout')!;
    expect(added.data).toMatchObject({ source: 'Evidence Hub: okta.users', result: 'info', status: 'delivered' });
    expect(audigyd.state.evidence.map((e) => e.evidenceId)).toContain((added.data.destination_evidence_ids as string[])[0]);
    expect(ofRun('evidence.ambiguous')[0]!.data.candidates).toHaveLength(2);
    const rejected = receiver.ofType('evidence.rejected').map(parse).filter((e) => e.data.run_id === failedRun.id);
    expect(rejected).toHaveLength(3);
    expect(receiver.ofType('run.failed').map(parse).find((e) => e.data.run_id === failedRun.id)).toBeTruthy();
    expect(receiver.ofType('mapping.published').map(parse).find((e) => e.data.mapping_id === mapping.body.id)?.data).toMatchObject({ version: 1, rule_count: 3 });
    expect(receiver.ofType('connection.failed').map(parse)[0]!.data).toMatchObject({ connection_id: badConnection, connection_type: 'okta', datasets: ['okta.users'] });

    // Every delivery is logged with its attempt.
    const deliveries = await t.call('GET', `/api/v1/webhooks/${webhookId}/deliveries?status=delivered&limit=500`);
    expect(deliveries.body.data.length).toBe(new Set(receiver.received.map((h) => h.id)).size);
    expect(deliveries.body.data[0].attempts[0]).toMatchObject({ status_code: 204, error: null });

    // Delivery outcomes of evidence and webhooks are on the audit trail, and the chain verifies.
    const evidenceAudit = await t.call('GET', `/api/v1/audit-log?action=evidence.delivered&limit=500`);
    expect(evidenceAudit.body.data.map((e: { resource_id: string }) => e.resource_id)).toEqual(expect.arrayContaining(ofRun('evidence.added').map((e) => e.data.evidence_id)));
    expect(evidenceAudit.body.data[0].actor).toMatchObject({ type: 'system' });
    const rejectedAudit = await t.call('GET', `/api/v1/audit-log?action=evidence.rejected&limit=500`);
    expect(rejectedAudit.body.data).toHaveLength(3);
    await eventually(async () => (await t.call('GET', `/api/v1/audit-log?action=webhook.delivery_delivered&limit=500`)).body.data.length >= deliveries.body.data.length);
    const verified = await t.call('POST', '/api/v1/audit-log/verify', { json: {} });
    expect(verified.body).toMatchObject({ verified: true, chain_valid: true, hash_mismatches: 0, gaps_detected: 0 });
  });

  it('filters by event type and sends webhook.test to that endpoint only', async () => {
    const filtered = await WebhookReceiver.start();
    const only = await t.call('POST', '/api/v1/webhooks', { json: { url: filtered.url, events: ['mapping.published'] } });
    const before = receiver.received.length;
    await t.call('POST', '/api/v1/mappings', { json: { name: 'filter', rules: [{ id: 'x', dataset: 'okta.users', control_ref: 'A', question_match: 'x', title: 'x', mode: 'info', payload: {} }] } });
    const test = await t.call('POST', `/api/v1/webhooks/${only.body.id}/test`);
    expect(test.status).toBe(202);
    await eventually(async () => filtered.received.length >= 2);
    expect(filtered.received.map((h) => parse(h).type).sort()).toEqual(['mapping.published', 'webhook.test']);
    expect(filtered.received.find((h) => parse(h).type === 'webhook.test')!.id).toBe(test.body.event_id);
    await eventually(async () => receiver.received.length > before);
    expect(receiver.received.slice(before).map((h) => parse(h).type)).toEqual(['mapping.published']);
    await t.call('DELETE', `/api/v1/webhooks/${only.body.id}`);
    expect((await t.call('GET', `/api/v1/webhooks/${only.body.id}`)).status).toBe(404);
    await filtered.down();
  });

  it('after rotate-secret both secrets verify during the grace period; afterwards only the new one', async () => {
    const rotated = await t.call('POST', `/api/v1/webhooks/${webhookId}/rotate-secret`, { json: { grace_period_seconds: 3 } });
    expect(rotated.status, rotated.text).toBe(200);
    const fresh = rotated.body.secret as string;
    expect(fresh).not.toBe(secret);
    expect(new Date(rotated.body.previous_secret_expires_at).getTime()).toBeGreaterThan(Date.now());

    const during = await t.call('POST', `/api/v1/webhooks/${webhookId}/test`);
    const hook = await eventually(async () => receiver.received.find((h) => h.id === during.body.event_id));
    expect(hook.signature.split(' ')).toHaveLength(2);
    const headers = (h: ReceivedWebhook) => ({ 'webhook-id': h.id, 'webhook-timestamp': h.timestamp, 'webhook-signature': h.signature });
    expect(() => new Webhook(secret).verify(hook.body, headers(hook))).not.toThrow();
    expect(() => new Webhook(fresh).verify(hook.body, headers(hook))).not.toThrow();

    await new Promise((r) => setTimeout(r, 3_200));
    const after = await t.call('POST', `/api/v1/webhooks/${webhookId}/test`);
    const later = await eventually(async () => receiver.received.find((h) => h.id === after.body.event_id));
    expect(later.signature.split(' ')).toHaveLength(1);
    expect(() => new Webhook(fresh).verify(later.body, headers(later))).not.toThrow();
    expect(() => new Webhook(secret).verify(later.body, headers(later))).toThrow();
    // A tampered body fails verification.
    expect(() => new Webhook(fresh).verify(later.body.replace('test', 'TEST'), headers(later))).toThrow();
    secret = fresh;
  });
});
