import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAudigydSimulator, type AudigydSimulator } from '../simulators/audigyd.js';
import { eventually, freshPostgresDatabase, startTestHub, type TestHub } from '../helpers/hub.js';
import { OKTA_ASSESSMENT } from '../helpers/fixtures.js';

describe('an evidence push whose delivery cannot start', () => {
  let down: TestHub;
  let up: TestHub;
  let audigyd: AudigydSimulator;
  beforeAll(async () => {
    // Two API processes on one database: one cannot reach Temporal, the other can.
    const databaseUrl = await freshPostgresDatabase();
    const masterKey = randomBytes(32).toString('base64');
    const adminKey = `ehk_${randomBytes(32).toString('base64url')}`;
    const env = { HUB_MASTER_KEY: masterKey, HUB_ADMIN_KEY: adminKey };
    down = await startTestHub({ databaseUrl, role: 'api', env: { ...env, TEMPORAL_ADDRESS: '127.0.0.1:9' } });
    up = await startTestHub({ databaseUrl, env });
    audigyd = await startAudigydSimulator({ assessments: [OKTA_ASSESSMENT], rateLimit: false, uploadRateLimit: false });
  });
  afterAll(async () => { await audigyd?.close(); await down?.stop(); await up?.stop(); });

  it('answers 503 and leaves the item failed, never pending; the same push, once Temporal answers, delivers it once', async () => {
    const destination = await up.call('POST', '/api/v1/destinations', { json: { name: 'AUDIGYD', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } } });
    const body = {
      destination_id: destination.body.id, target: { assessment_id: 'asm_okta' }, control_ref: 'Access Control', question_match: 'MFA admin',
      title: 'Pushed during an outage', source: 'power-automate', result: 'pass', payload: { admins: 2 }, collected_at: '2026-11-21T10:00:00Z',
    };
    const refused = await down.call('POST', '/api/v1/evidence/push', { json: body });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.body.detail).toContain('Push the same item again');
    const ledger = await up.call('GET', '/api/v1/evidence?limit=10');
    expect(ledger.body.data).toEqual([expect.objectContaining({ title: body.title, status: 'failed', error: expect.stringContaining('did not start') })]);

    const retried = await up.call('POST', '/api/v1/evidence/push', { json: body });
    expect(retried.status, retried.text).toBe(202);
    expect(retried.body).toMatchObject({ id: ledger.body.data[0].id, status: 'pending' });
    await eventually(async () => (await up.call('GET', `/api/v1/evidence/${retried.body.id}`)).body.status === 'delivered');
    expect(audigyd.state.evidence.filter((e) => e.title === body.title)).toHaveLength(1);
  });
});
