import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { newWorkspace, startTestHub, type TestHub } from '../helpers/hub.js';
import { collect, createConnection } from '../helpers/collect.js';

const adminRule = (threshold = 1) => ({
  id: 'admins-mfa',
  dataset: 'okta.users',
  control_ref: 'Access Control',
  question_match: 'MFA admin',
  title: 'MFA for {{matched}} of {{count}} admins',
  select: '$[?(@.is_admin == true)]',
  pass_when: [{ count: { op: 'gte', value: threshold } }, { all: { field: 'mfa_enrolled', eq: true } }],
});

describe('mapping sets: versions, packs and preview', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  beforeAll(async () => {
    t = await startTestHub();
    okta = await startOktaSimulator({ population: { total: 300, admins: 8, adminsWithoutMfa: 2, withoutMfa: 20 }, rateLimit: false });
  });
  afterAll(async () => { await okta?.close(); await t?.stop(); });

  it('PUT makes version n + 1, old versions stay readable, restore copies an old version forward', async () => {
    const created = await t.call('POST', '/api/v1/mappings', { json: { name: 'admins', rules: [adminRule(1)] } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ version: 1, rules: [adminRule(1)] });
    const id = created.body.id;
    const v2 = await t.call('PUT', `/api/v1/mappings/${id}`, { json: { rules: [adminRule(2)] } });
    expect(v2.body.version).toBe(2);
    expect((await t.call('GET', `/api/v1/mappings/${id}/versions/1`)).body.rules).toEqual([adminRule(1)]);
    expect((await t.call('GET', `/api/v1/mappings/${id}`)).body).toMatchObject({ version: 2, rules: [adminRule(2)] });

    const restored = await t.call('POST', `/api/v1/mappings/${id}/versions/1/restore`);
    expect(restored.status).toBe(201);
    expect(restored.body).toMatchObject({ version: 3, restored_from: 1, rules: [adminRule(1)] });
    const versions = await t.call('GET', `/api/v1/mappings/${id}/versions`);
    expect(versions.body.data.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
    expect((await t.call('GET', `/api/v1/mappings/${id}/versions/9`)).status).toBe(404);

    // Concurrent saves get consecutive versions, never the same number.
    const saves = await Promise.all(Array.from({ length: 5 }, (_, i) => t.call('PUT', `/api/v1/mappings/${id}`, { json: { rules: [adminRule(i + 3)] } })));
    expect(saves.map((s) => s.body.version).sort()).toEqual([4, 5, 6, 7, 8]);
  });

  it('invalid rules get a 400 problem with pointers at the faulty field; code in a JSONPath filter is refused', async () => {
    const bad = { ...adminRule(), pass_when: [{ count: { op: 'about', value: 'many' } }] };
    const res = await t.call('POST', '/api/v1/mappings', { json: { name: 'bad', rules: [adminRule(), bad] } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const pointers = res.body.errors.map((e: { pointer: string }) => e.pointer);
    expect(pointers.some((p: string) => p.startsWith('/rules/1/pass_when/0/count'))).toBe(true);

    for (const select of ["$[?(@.constructor.constructor('return process')().exit())]", "$[?(this.process)]", "$[?(require('fs'))]"]) {
      const injected = await t.call('POST', '/api/v1/mappings', { json: { name: 'evil', rules: [{ ...adminRule(), select }] } });
      expect(injected.status, select).toBe(400);
      expect(injected.body.errors[0].pointer).toBe('/rules/0/select');
    }
    const created = await t.call('POST', '/api/v1/mappings', { json: { name: 'ok', rules: [adminRule()] } });
    const put = await t.call('PUT', `/api/v1/mappings/${created.body.id}`, { json: { rules: [{ ...adminRule(), dataset: 5 }] } });
    expect(put.status).toBe(400);
    expect((await t.call('GET', `/api/v1/mappings/${created.body.id}`)).body.version).toBe(1); // nothing half-written
  });

  it('starts from a built-in pack with overrides', async () => {
    const packs = await t.call('GET', '/api/v1/mapping-packs');
    expect(packs.body.data.map((p: { id: string }) => p.id).sort()).toEqual(['agentaudit', 'auditcomply', 'aws', 'complianceagent', 'entra', 'github', 'intune', 'jamf', 'okta']);
    const okta = packs.body.data.find((p: { id: string }) => p.id === 'okta');
    const res = await t.call('POST', '/api/v1/mappings', {
      json: { name: 'okta tuned', pack: 'okta', overrides: [{ id: 'okta-password-lockout', enabled: false }, { id: 'okta-admin-mfa', question_match: 'Administrator MFA' }] },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.pack).toBe('okta');
    expect(res.body.rules).toHaveLength(okta.rules.length - 1);
    expect(res.body.rules.find((r: { id: string }) => r.id === 'okta-admin-mfa').question_match).toBe('Administrator MFA');
    expect((await t.call('POST', '/api/v1/mappings', { json: { name: 'x', pack: 'nope' } })).body.errors[0].pointer).toBe('/pack');
  });

  it('previews the okta pack on a real collected snapshot, agreeing with the source’s truth, with no side effect', async () => {
    const connection = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token' }, secrets: { api_token: okta.apiToken } });
    const collection = await collect(t.call, connection, ['okta.users', 'okta.password_policies']);
    expect(collection.status).toBe('succeeded');
    const pack = await t.call('POST', '/api/v1/mappings', { json: { name: 'okta', pack: 'okta' } });

    const tables = ['mappings', 'mapping_versions', 'snapshots', 'collections', 'connections'];
    const count = async () => Promise.all(tables.map(async (table) => (await t.hub.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n));
    const before = await count();
    const preview = await t.call('POST', '/api/v1/mappings/preview', { json: { mapping_id: pack.body.id, snapshot_ids: collection.snapshots.map((s) => s.id) } });
    expect(preview.status, preview.text).toBe(200);
    expect(await count()).toEqual(before);

    const truth = okta.truth();
    const admin = preview.body.evidence.find((e: { rule_id: string }) => e.rule_id === 'okta-admin-mfa');
    expect(admin).toMatchObject({ control_ref: 'Access Control', question_match: 'MFA admin', result: 'fail' });
    expect(admin.payload_sha256).toMatch(/^[0-9a-f]{64}$/);
    const mfa = preview.body.evidence.find((e: { rule_id: string }) => e.rule_id === 'okta-mfa-active-users');
    expect(mfa.result).toBe(truth.activeUsers.withoutMfa > 0 ? 'fail' : 'pass');
    expect(mfa.payload.users_without_mfa.total).toBe(truth.activeUsers.withoutMfa);

    // The same preview by collection id, and again (cached): byte-identical evidence.
    const byCollection = await t.call('POST', '/api/v1/mappings/preview', { json: { mapping_id: pack.body.id, collection_id: collection.id } });
    expect(byCollection.status, byCollection.text).toBe(200);
    expect(byCollection.body.evidence).toEqual(preview.body.evidence);
  });

  it('previews inline rules on inline data, and reports a missing dataset as an error result, never a pass', async () => {
    const res = await t.call('POST', '/api/v1/mappings/preview', {
      json: {
        rules: [adminRule(1), { ...adminRule(1), id: 'other', dataset: 'okta.nothing' }],
        data: { 'okta.users': [{ id: 'u1', is_admin: true, mfa_enrolled: true }, { id: 'u2', is_admin: true, mfa_enrolled: false }] },
        now: '2026-11-01T00:00:00Z',
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.evidence.map((e: { rule_id: string; result: string }) => [e.rule_id, e.result])).toEqual([['admins-mfa', 'fail'], ['other', 'error']]);
    expect(res.body.errors.length).toBeGreaterThan(0);
    const both = await t.call('POST', '/api/v1/mappings/preview', { json: { rules: [adminRule()] } });
    expect(both.status).toBe(400);
  });

  it('other workspaces see 404; deleting keeps versions out of reach', async () => {
    const created = await t.call('POST', '/api/v1/mappings', { json: { name: 'mine', rules: [adminRule()] } });
    const other = await newWorkspace(t, 'mapping-other');
    expect((await other.call('GET', `/api/v1/mappings/${created.body.id}`)).status).toBe(404);
    expect((await other.call('PUT', `/api/v1/mappings/${created.body.id}`, { json: { rules: [adminRule()] } })).status).toBe(404);
    expect((await other.call('POST', '/api/v1/mappings/preview', { json: { mapping_id: created.body.id, data: {} } })).status).toBe(400);
    expect((await t.call('DELETE', `/api/v1/mappings/${created.body.id}`)).status).toBe(204);
    expect((await t.call('GET', `/api/v1/mappings/${created.body.id}/versions/1`)).status).toBe(404);
  });
});
