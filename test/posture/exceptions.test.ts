import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../store/event-catalog.js';
import { ExceptionStore } from '../../store/exceptions.js';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { startAudigydSimulator, type AudigydSimulator } from '../simulators/audigyd.js';
import { caller, eventually, startTestHub, type TestHub } from '../helpers/hub.js';
import { createConnection, runToEnd } from '../helpers/collect.js';
import { OKTA_ASSESSMENT } from '../helpers/fixtures.js';

// Risk acceptance: an exception mutes the records it names (or the whole check) until it
// expires; at expiry a durable timer evaluates the check again, so the finding comes back.
describe('exceptions', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  let audigyd: AudigydSimulator;
  let jobId: string;
  const checkOf = async (ruleId: string) => (await t.call('GET', `/api/v1/checks?job_id=${jobId}&limit=100`)).body.data.find((c: { rule_id: string }) => c.rule_id === ruleId);
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_DELIVERY_RETRY_INITIAL_MS: '100', HUB_DELIVERY_MAX_ATTEMPTS: '2' } });
    okta = await startOktaSimulator({ population: { total: 40, admins: 4, adminsWithoutMfa: 2 }, rateLimit: false });
    audigyd = await startAudigydSimulator({ assessments: [OKTA_ASSESSMENT], rateLimit: false, uploadRateLimit: false });
    const connection = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token' }, secrets: { api_token: okta.apiToken } });
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'AUDIGYD', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } } });
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: 'okta', pack: 'okta' } });
    const job = await t.call('POST', '/api/v1/jobs', {
      json: { name: 'okta', connection_id: connection, datasets: ['okta.users', 'okta.password_policies'], mapping_id: mapping.body.id, destination_id: destination.body.id, target: { assessment_id: 'asm_okta' } },
    });
    jobId = job.body.id;
    await runToEnd(t.call, jobId);
  });
  afterAll(async () => { await okta?.close(); await audigyd?.close(); await t?.stop(); });

  it('refuses an exception without an expiry, past the maximum, in the past, on no check, or from a key without config:write', async () => {
    const check = await checkOf('okta-admin-mfa');
    const base = { check_id: check.id, reason: 'break-glass accounts', owner: 'ciso@example.com' };
    const refused = [
      await t.call('POST', '/api/v1/exceptions', { json: base }),
      await t.call('POST', '/api/v1/exceptions', { json: { ...base, expires_at: new Date(Date.now() + 366 * 86_400_000).toISOString() } }),
      await t.call('POST', '/api/v1/exceptions', { json: { ...base, expires_at: new Date(Date.now() - 60_000).toISOString() } }),
      await t.call('POST', '/api/v1/exceptions', { json: { ...base, check_id: 'job_x.nope', expires_at: new Date(Date.now() + 86_400_000).toISOString() } }),
    ];
    expect(refused.map((r) => r.status)).toEqual([400, 400, 400, 400]);
    expect(refused.map((r) => r.body.errors?.[0]?.pointer)).toEqual(['/expires_at', '/expires_at', '/expires_at', '/check_id']);
    const reader = await t.call('POST', '/api/v1/api-keys', { json: { name: 'reader', scopes: ['evidence:read'] } });
    expect((await caller(t.url, reader.body.key)('POST', '/api/v1/exceptions', { json: { ...base, expires_at: new Date(Date.now() + 86_400_000).toISOString() } })).status).toBe(403);
    expect((await t.call('GET', '/api/v1/exceptions')).body.data).toEqual([]);
  });

  it('an exception on the two failing admins turns the check into a pass that lists them; after its expiry the check fails again', async () => {
    const check = await checkOf('okta-admin-mfa');
    expect(check).toMatchObject({ status: 'fail', failing_count: 2 });
    const accepted = [...okta.truth().admins.idsWithoutMfa].sort();
    const created = await t.call('POST', '/api/v1/exceptions', {
      json: { check_id: check.id, record_ids: accepted, reason: 'break-glass accounts, hardware keys in the safe', owner: 'ciso@example.com', expires_at: new Date(Date.now() + 12_000).toISOString() },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ status: 'active', record_ids: accepted, check_id: check.id });

    await runToEnd(t.call, jobId);
    const excepted = await checkOf('okta-admin-mfa');
    expect(excepted).toMatchObject({ status: 'pass', failing_count: 0 });
    const item = (await t.call('GET', `/api/v1/evidence/${excepted.evidence_id}`)).body;
    const evaluation = item.payload._evaluation;
    expect(evaluation.excluded.items.map((e: { id: string }) => e.id).sort()).toEqual(accepted);
    expect(evaluation.exceptions).toEqual([expect.objectContaining({ id: created.body.id, owner: 'ciso@example.com', record_ids: accepted })]);

    // The timer fires: the exception ends, the check is evaluated again on the latest snapshot.
    const after = await eventually(async () => {
      const now = await checkOf('okta-admin-mfa');
      return now.status === 'fail' ? now : null;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    expect(after.failing_count).toBe(2);
    const rerun = (await t.call('GET', `/api/v1/evidence/${after.evidence_id}`)).body;
    const run = (await t.call('GET', `/api/v1/runs/${rerun.run_id}`)).body;
    expect(run.trigger).toBe('exception');
    expect((await t.call('GET', `/api/v1/exceptions?status=expired`)).body.data.map((e: { id: string }) => e.id)).toEqual([created.body.id]);
    const audit = await t.call('GET', `/api/v1/audit-log?resource_id=${created.body.id}`);
    expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual(['exception.created', 'exception.expired']);
  });

  it('a whole-check exception passes a failing check, never an error; revoking it re-evaluates at once', async () => {
    const check = await checkOf('okta-admin-mfa');
    const created = await t.call('POST', '/api/v1/exceptions', {
      json: { check_id: check.id, reason: 'accepted for the quarter', owner: 'ciso@example.com', expires_at: new Date(Date.now() + 30 * 86_400_000).toISOString() },
    });
    expect(created.status, created.text).toBe(201);
    await runToEnd(t.call, jobId);
    const passed = await checkOf('okta-admin-mfa');
    expect(passed.status).toBe('pass');
    const item = (await t.call('GET', `/api/v1/evidence/${passed.evidence_id}`)).body;
    expect(item.payload._evaluation).toMatchObject({ result: 'pass', accepted_result: 'fail' });
    expect(item.title).toContain(`accepted under exception ${created.body.id}`);

    expect((await t.call('DELETE', `/api/v1/exceptions/${created.body.id}`)).status).toBe(204);
    await eventually(async () => ((await checkOf('okta-admin-mfa')).status === 'fail' ? true : null), { timeoutMs: 60_000, intervalMs: 500 });
    expect((await t.call('GET', `/api/v1/exceptions?status=revoked`)).body.data.map((e: { id: string }) => e.id)).toEqual([created.body.id]);
    expect((await t.call('DELETE', `/api/v1/exceptions/${created.body.id}`)).status).toBe(204);
    expect((await t.call('DELETE', '/api/v1/exceptions/exc_nope')).status).toBe(404);
  });

  it('exception.expiring is recorded for an active exception only, with the data its schema describes', async () => {
    const check = await checkOf('okta-password-lockout');
    const created = await t.call('POST', '/api/v1/exceptions', {
      json: { check_id: check.id, reason: 'legacy directory', owner: 'it@example.com', expires_at: new Date(Date.now() + 10 * 86_400_000).toISOString() },
    });
    const store = new ExceptionStore(t.hub.db);
    await store.announceExpiring(created.body.id);
    const events = await t.hub.db.query<{ data: Record<string, unknown> }>(`SELECT data FROM events WHERE type = 'exception.expiring' AND data->>'exception_id' = $1`, [created.body.id]);
    expect(events).toHaveLength(1);
    const ajv = new Ajv2020.default({ strict: false });
    addFormats.default(ajv);
    const schema = EVENT_TYPES.find((e) => e.type === 'exception.expiring')!.schema;
    expect(ajv.validate(schema, events[0]!.data), ajv.errorsText()).toBe(true);
    expect((await t.call('DELETE', `/api/v1/exceptions/${created.body.id}`)).status).toBe(204);
    await store.announceExpiring(created.body.id);
    expect(await t.hub.db.query(`SELECT 1 FROM events WHERE type = 'exception.expiring' AND data->>'exception_id' = $1`, [created.body.id])).toHaveLength(1);
  });
});
