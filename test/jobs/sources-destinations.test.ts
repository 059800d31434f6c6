import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJamfSimulator, startOktaSimulator, type JamfSimulator, type OktaSimulator } from '../simulators/index.js';
import { startAudigydSimulator, type AudigydSimulator } from '../simulators/audigyd.js';
import { startAuditdexSimulator, type AuditdexSimulator } from '../simulators/auditdex.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { createConnection, runToEnd } from '../helpers/collect.js';
import { ASSESSMENT } from '../helpers/fixtures.js';



describe('jobs from every source to both destinations', () => {
  let t: TestHub;
  let audigyd: AudigydSimulator;
  let destination: string;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_DELIVERY_RETRY_INITIAL_MS: '200' } });
    audigyd = await startAudigydSimulator({ assessments: [ASSESSMENT], rateLimit: false, uploadRateLimit: false });
    destination = (await t.call('POST', '/api/v1/destinations', { json: { name: 'AUDIGYD', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } } })).body.id;
  });
  afterAll(async () => { await audigyd?.close(); await t?.stop(); });

  async function packJob(pack: string, connection: string, datasets: string[]) {
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: pack, pack } });
    const job = await t.call('POST', '/api/v1/jobs', { json: { name: pack, connection_id: connection, datasets, mapping_id: mapping.body.id, destination_id: destination, target: { assessment_id: 'asm_all' } } });
    expect(job.status, job.text).toBe(201);
    return job.body.id as string;
  }

  it('Jamf simulator → jamf pack → AUDIGYD: FileVault and firewall results agree with the fleet', async () => {
    const jamf: JamfSimulator = await startJamfSimulator({ fleet: { total: 250, unencrypted: 7, firewallDisabled: 0 } });
    try {
      const connection = await createConnection(t.call, { type: 'jamf', config: { base_url: jamf.url, client_id: jamf.clientId }, secrets: { client_secret: jamf.clientSecret } });
      const run = await runToEnd(t.call, await packJob('jamf', connection, ['jamf.computers']));
      expect(run.status, JSON.stringify(run.items)).toBe('succeeded');
      const arrived = Object.fromEntries(audigyd.state.evidence.filter((e) => e.source.toLowerCase().includes('jamf')).map((e) => [e.questionId, e] as const));
      expect(arrived.q_disk!.result).toBe('fail');
      expect(arrived.q_fw!.result).toBe(jamf.truth().firewallDisabled === 0 ? 'pass' : 'fail');
      expect(arrived.q_disk!.body).toMatchObject({ control_ref: 'Endpoint Security', question_match: 'disk encryption' });
    } finally {
      await jamf.close();
    }
  });

});

describe('AUDITDEX destination', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  let auditdex: AuditdexSimulator;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_DELIVERY_RETRY_INITIAL_MS: '200', HUB_DELIVERY_MAX_ATTEMPTS: '3' } });
    okta = await startOktaSimulator({ population: { total: 40, admins: 3, adminsWithoutMfa: 1 }, rateLimit: false });
    // Tokens that expire within the run.
    auditdex = await startAuditdexSimulator({ tokenTtlSeconds: 1, rateLimit: false });
  });
  afterAll(async () => { await okta?.close(); await auditdex?.close(); await t?.stop(); });

  it('uploads each item as a file to its control, refreshes an expired token, and checks the returned SHA-256', async () => {
    const connection = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token' }, secrets: { api_token: okta.apiToken } });
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'AUDITDEX', type: 'auditdex', config: { base_url: auditdex.apiBaseUrl, token_url: auditdex.tokenUrl, client_id: auditdex.clientId }, secrets: { client_secret: auditdex.clientSecret } } });
    expect((await t.call('POST', `/api/v1/destinations/${destination.body.id}/test`)).body).toMatchObject({ ok: true });
    const rules = ['a', 'b', 'c', 'd'].map((id, i) => ({ id: `admins-${id}`, dataset: 'okta.users', control_ref: 'Access Control', question_match: 'admins', title: `Admins ${i}`, select: '$[?(@.is_admin == true)]', pass_when: [{ all: { field: 'mfa_enrolled', eq: true } }], payload: { admins: { list: '$[*]', fields: ['id', 'mfa_enrolled'] } } }));
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: 'admins', rules } });
    const job = await t.call('POST', '/api/v1/jobs', { json: { name: 'to auditdex', connection_id: connection, datasets: ['okta.users'], mapping_id: mapping.body.id, destination_id: destination.body.id, target: { engagement_id: 'eng_xyz789', control_map: { 'Access Control': 'ctrl_abc123' } } } });
    expect(job.status, job.text).toBe(201);

    // A slow upload makes the 1 s token expire between deliveries.
    auditdex.faults.inject({ kind: 'delay', ms: 1200 }, 2, { path: /\/evidence$/ });
    const tokensBefore = auditdex.tokensIssued;
    const run = await runToEnd(t.call, job.body.id);
    expect(run.status, JSON.stringify(run.items)).toBe('succeeded');
    expect(auditdex.tokensIssued - tokensBefore).toBeGreaterThanOrEqual(2);
    const stored = auditdex.state.evidence.filter((e) => e.fields.control_id === 'ctrl_abc123');
    expect(stored).toHaveLength(4);
    const ledger = await t.call('GET', `/api/v1/evidence/${run.items[0].id}`);
    expect(stored.map((s) => s.file.sha256)).toContain(ledger.body.payload_sha256);

    // A different hash from AUDITDEX is an error, never "delivered".
    auditdex.reportWrongHash(1);
    const mismatch = await runToEnd(t.call, job.body.id);
    expect(mismatch.status).toBe('partial');
    const failed = mismatch.items.find((i: { status: string }) => i.status === 'failed');
    expect(failed.error).toMatch(/SHA-256/);
  });

  it('the lanes of a delivery share one session: one access token for items sent together', async () => {
    // Tokens that outlive the run: every token issued during it is a sign-in of its own.
    const longTokens = await startAuditdexSimulator({ rateLimit: false });
    try {
      const connection = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token' }, secrets: { api_token: okta.apiToken } });
      const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'AUDITDEX (long tokens)', type: 'auditdex', config: { base_url: longTokens.apiBaseUrl, token_url: longTokens.tokenUrl, client_id: longTokens.clientId }, secrets: { client_secret: longTokens.clientSecret } } });
      const rules = Array.from({ length: 8 }, (_, i) => ({ id: `users-${i}`, dataset: 'okta.users', control_ref: 'Access Control', question_match: 'users', title: `Users ${i}`, mode: 'info', payload: { users: { count: '$' } } }));
      const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: 'eight items', rules } });
      const job = await t.call('POST', '/api/v1/jobs', { json: { name: 'eight to auditdex', connection_id: connection, datasets: ['okta.users'], mapping_id: mapping.body.id, destination_id: destination.body.id, target: { engagement_id: 'eng_xyz789', control_map: { 'Access Control': 'ctrl_abc123' } } } });
      expect(job.status, job.text).toBe(201);
      const tokensBefore = longTokens.tokensIssued;
      const run = await runToEnd(t.call, job.body.id);
      expect(run.status, JSON.stringify(run.items)).toBe('succeeded');
      expect(longTokens.state.evidence).toHaveLength(8);
      // One delivery activity, its lanes started together: one sign-in, not one per lane.
      expect(longTokens.tokensIssued - tokensBefore).toBe(1);
    } finally {
      await longTokens.close();
    }
  });
});
