import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestHub, type TestHub } from '../helpers/hub.js';
import { createConnection } from '../helpers/collect.js';

describe('listings never load payloads', () => {
  let t: TestHub;
  beforeAll(async () => { t = await startTestHub(); });
  afterAll(async () => { await t?.stop(); });

  it('GET /runs, /runs/:id and /evidence read no payload column; GET /evidence/:id does', async () => {
    const connection = await createConnection(t.call, { type: 'push', config: { datasets: [{ name: 'admins' }] } });
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'd', type: 'audigyd', config: { base_url: 'http://127.0.0.1:9' }, secrets: { api_key: 'k' } } });
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: 'm', rules: [{ id: 'r', dataset: 'push.admins', control_ref: 'C', question_match: 'q', title: 't', mode: 'info', payload: { admins: '$[*]' } }] } });
    const job = await t.call('POST', '/api/v1/jobs', { json: { name: 'j', connection_id: connection, datasets: ['push.admins'], mapping_id: mapping.body.id, destination_id: destination.body.id, target: { assessment_id: 'a' } } });
    const run = await t.call('POST', `/api/v1/jobs/${job.body.id}/runs`, { json: { input: { 'push.admins': Array.from({ length: 50 }, (_, i) => ({ login: `u${i}`, blob: 'x'.repeat(1000) })) } } });
    await eventually(async () => (await t.call('GET', `/api/v1/evidence?run_id=${run.body.id}`)).body.data.length > 0);

    // Every statement the store sends, as the database receives it.
    const statements: string[] = [];
    const db = t.hub.db;
    const original = db.query.bind(db);
    db.query = ((sql: string, params?: unknown[]) => { statements.push(sql); return original(sql, params); }) as typeof db.query;
    try {
      const listed = await t.call('GET', '/api/v1/evidence');
      const runs = await t.call('GET', '/api/v1/runs');
      const one = await t.call('GET', `/api/v1/runs/${run.body.id}`);
      expect([listed.status, runs.status, one.status]).toEqual([200, 200, 200]);
      expect(listed.body.data[0]).not.toHaveProperty('payload');
      expect(one.body.items.length).toBeGreaterThan(0);
      const evidenceReads = statements.filter((sql) => /FROM evidence/i.test(sql));
      expect(evidenceReads.length).toBeGreaterThan(0);
      for (const sql of evidenceReads) {
        expect(sql, sql).not.toMatch(/SELECT \*/i);
        expect(sql, sql).not.toMatch(/\bpayload\b(?!_sha256)/);
      }
      statements.length = 0;
      const item = await t.call('GET', `/api/v1/evidence/${listed.body.data[0].id}`);
      expect(item.body.payload.admins).toHaveLength(50);
    } finally {
      db.query = original;
    }
  });
});
