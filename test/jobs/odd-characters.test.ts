import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAudigydSimulator, type AudigydSimulator } from '../simulators/audigyd.js';
import { eventually, startTestHub, type TestHub } from '../helpers/hub.js';
import { createConnection } from '../helpers/collect.js';
import { OKTA_ASSESSMENT } from '../helpers/fixtures.js';
import { canonicalSha256 } from '../../lib/canonical-json.js';

describe('records with NUL bytes and lone surrogates', () => {
  let t: TestHub;
  let audigyd: AudigydSimulator;
  beforeAll(async () => {
    t = await startTestHub();
    audigyd = await startAudigydSimulator({ assessments: [OKTA_ASSESSMENT], rateLimit: false, uploadRateLimit: false });
  });
  afterAll(async () => { await audigyd?.close(); await t?.stop(); });

  it('are stored, hashed and delivered faithfully: the run succeeds and the destination gets the same characters', async () => {
    const records = [
      { login: 'nul\u0000byte@example.com', note: 'a\u0000b' },
      { login: 'lone\ud800surrogate@example.com', note: 'trail\udc00ing' },
      { login: 'pair😀@example.com', note: 'ok' },
    ];
    const connection = await createConnection(t.call, { type: 'push', config: { datasets: [{ name: 'users' }] } });
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'AUDIGYD', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } } });
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: 'odd', rules: [{ id: 'odd', dataset: 'push.users', control_ref: 'Access Control', question_match: 'MFA admin', title: 'Odd users: {{count}}', mode: 'info', payload: { users: { list: '$[*]', fields: ['login', 'note'] } } }] } });
    const job = await t.call('POST', '/api/v1/jobs', { json: { name: 'odd', connection_id: connection, datasets: ['push.users'], mapping_id: mapping.body.id, destination_id: destination.body.id, target: { assessment_id: 'asm_okta' } } });
    expect(job.status, job.text).toBe(201);
    const trigger = await t.call('POST', `/api/v1/jobs/${job.body.id}/runs`, { json: { input: { 'push.users': records } } });
    expect(trigger.status, trigger.text).toBe(202);
    const run = await eventually(async () => {
      const res = await t.call('GET', `/api/v1/runs/${trigger.body.id}`);
      return ['queued', 'running'].includes(res.body.status) ? null : res.body;
    });
    expect(run.status, run.error ?? JSON.stringify(run.items)).toBe('succeeded');
    const item = await t.call('GET', `/api/v1/evidence/${run.items[0].id}`);
    expect(item.body.payload.users.items).toEqual(records);
    expect(item.body.payload_sha256).toBe(canonicalSha256(item.body.payload));
    const delivered = audigyd.state.evidence.find((e) => e.title === 'Odd users: 3');
    expect(JSON.stringify(delivered)).toContain(JSON.stringify(records[0]!.login).slice(1, -1));
    expect(JSON.stringify(delivered)).toContain('lone\\ud800surrogate');
  });

  it('deep records are hashed without running out of stack', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    expect(canonicalSha256(deep)).toMatch(/^[0-9a-f]{64}$/);
    let list: unknown = [];
    for (let i = 0; i < 100_000; i++) list = [list];
    expect(canonicalSha256(list)).not.toBe(canonicalSha256(deep));
  });
});
