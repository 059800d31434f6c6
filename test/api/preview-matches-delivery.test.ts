import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalSha256 } from '../../lib/canonical-json.js';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { startAudigydSimulator, type AudigydSimulator } from '../simulators/audigyd.js';
import { OKTA_ASSESSMENT } from '../helpers/fixtures.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { createConnection, runToEnd } from '../helpers/collect.js';

/**
 * What the mapping studio shows is what the GRC platform gets: a preview of a version on the
 * snapshots a run collected, at the run's evaluation time, gives byte for byte the payloads
 * that run delivered to the AUDIGYD simulator.
 */
describe('the preview shown equals the payload the destination receives', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  let audigyd: AudigydSimulator;
  beforeAll(async () => {
    t = await startTestHub();
    okta = await startOktaSimulator({ population: { total: 80, admins: 5, adminsWithoutMfa: 1, withoutMfa: 7, deprovisioned: 4 }, rateLimit: false });
    audigyd = await startAudigydSimulator({ assessments: [OKTA_ASSESSMENT], rateLimit: false, uploadRateLimit: false });
  });
  afterAll(async () => { await okta?.close(); await audigyd?.close(); await t?.stop(); });

  it('for every item of a run of the Okta pack', async () => {
    const connection = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token' }, secrets: { api_token: okta.apiToken } });
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'AUDIGYD', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } } });
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: 'okta', pack: 'okta' } });
    const job = await t.call('POST', '/api/v1/jobs', {
      json: { name: 'okta', connection_id: connection, datasets: ['okta.users', 'okta.password_policies'], mapping_id: mapping.body.id, destination_id: destination.body.id, target: { assessment_id: 'asm_okta' } },
    });
    const run = await runToEnd(t.call, job.body.id);
    expect(run.status).toBe('succeeded');
    const snapshotIds = run.steps.flatMap((s: { snapshot_ids: string[] }) => s.snapshot_ids);
    const preview = await t.call('POST', '/api/v1/mappings/preview', { json: { mapping_id: mapping.body.id, version: run.mapping_version, snapshot_ids: snapshotIds, now: run.started_at } });
    expect(preview.status, preview.text).toBe(200);
    expect(preview.body.evidence).toHaveLength(run.counts.delivered);

    const delivered = new Map(audigyd.state.evidence.map((e) => [e.title, e]));
    for (const item of preview.body.evidence) {
      const arrived = delivered.get(item.title);
      expect(arrived, item.title).toBeDefined();
      expect(JSON.stringify(arrived!.payload)).toBe(JSON.stringify(item.payload));
      expect(canonicalSha256(arrived!.payload)).toBe(item.payload_sha256);
      expect(arrived!.result).toBe(item.result);
    }
    const ledger = await t.call('GET', `/api/v1/evidence?run_id=${run.id}`);
    for (const row of ledger.body.data) {
      expect(preview.body.evidence.find((e: { rule_id: string }) => e.rule_id === row.rule_id).payload_sha256).toBe(row.payload_sha256);
    }
  });
});
