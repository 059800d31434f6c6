import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newWorkspace, startTestHub, type TestHub } from '../helpers/hub.js';

describe('connections API', () => {
  let t: TestHub;
  // The flag is off here, as in production.
  beforeAll(async () => { t = await startTestHub({ env: { HUB_ALLOW_PRIVATE_NETWORKS: 'false' } }); });
  afterAll(async () => { await t?.stop(); });

  const okta = (base_url: string) => ({ name: 'okta', type: 'okta', config: { base_url, auth_method: 'api_token' }, secrets: { api_token: 'tok-123456' } });

  it('refuses private, loopback, link-local and local-name URLs with a 4xx problem pointing at the field', async () => {
    for (const url of ['http://127.0.0.1:8080', 'http://169.254.169.254/latest', 'http://[::1]:9', 'https://localhost', 'http://10.1.2.3', 'http://[::ffff:192.168.0.1]']) {
      const res = await t.call('POST', '/api/v1/connections', { json: okta(url) });
      expect(res.status, url).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.errors).toEqual([{ pointer: '/config/base_url', message: expect.stringContaining('HUB_ALLOW_PRIVATE_NETWORKS') }]);
    }
    const created = await t.call('POST', '/api/v1/connections', { json: okta('https://acme.okta.com') });
    expect(created.status).toBe(201);
    const patched = await t.call('PATCH', `/api/v1/connections/${created.body.id}`, { json: { config: { base_url: 'http://127.0.0.1' } } });
    expect(patched.status).toBe(400);
    expect((await t.call('GET', `/api/v1/connections/${created.body.id}`)).body.config.base_url).toBe('https://acme.okta.com');
  });

  it('validates config and secrets against the connector’s schemas, with pointers', async () => {
    const unknownType = await t.call('POST', '/api/v1/connections', { json: { name: 'x', type: 'nope', config: {} } });
    expect(unknownType.status).toBe(400);
    expect(unknownType.body.errors[0]).toMatchObject({ pointer: '/type', message: expect.stringContaining('okta') });
    const bad = await t.call('POST', '/api/v1/connections', { json: { name: 'x', type: 'okta', config: { base_url: 'https://a.okta.com', auth_method: 'magic', colour: 1 }, secrets: { api_token: 5 } } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(expect.arrayContaining(['/config/auth_method', '/config/colour', '/secrets/api_token']));
    const oauthWithoutClient = await t.call('POST', '/api/v1/connections', { json: { name: 'x', type: 'okta', config: { base_url: 'https://a.okta.com', auth_method: 'oauth' } } });
    expect(oauthWithoutClient.body.errors.map((e: { pointer: string }) => e.pointer)).toContain('/config/client_id');
  });

  it('creates, lists, patches (merge; secrets write-only) and deletes; other workspaces see 404', async () => {
    const created = await t.call('POST', '/api/v1/connections', { json: okta('https://crud.okta.com') });
    expect(created.body).toMatchObject({ type: 'okta', secret_fields: ['api_token'] });
    expect(created.text).not.toContain('tok-123456');
    const id = created.body.id;
    const patched = await t.call('PATCH', `/api/v1/connections/${id}`, { json: { name: 'renamed', config: { enrich_concurrency: 4 }, secrets: { api_token: null } } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'renamed', config: { base_url: 'https://crud.okta.com', auth_method: 'api_token', enrich_concurrency: 4 }, secret_fields: [] });
    const listed = await t.call('GET', '/api/v1/connections?type=okta&limit=500');
    expect(listed.body.data.map((c: { id: string }) => c.id)).toContain(id);

    const other = await newWorkspace(t, 'conn-other');
    for (const [method, path] of [['GET', `/api/v1/connections/${id}`], ['PATCH', `/api/v1/connections/${id}`], ['DELETE', `/api/v1/connections/${id}`], ['POST', `/api/v1/connections/${id}/test`], ['POST', `/api/v1/connections/${id}/collect`]] as const) {
      const res = await other.call(method, path, method === 'PATCH' ? { json: { name: 'x' } } : method === 'POST' && path.endsWith('collect') ? { json: { datasets: ['okta.users'] } } : {});
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect((await other.call('GET', '/api/v1/connections')).body.data).toEqual([]);

    expect((await t.call('DELETE', `/api/v1/connections/${id}`)).status).toBe(204);
    expect((await t.call('GET', `/api/v1/connections/${id}`)).status).toBe(404);
    expect(await t.hub.db.query('SELECT * FROM secrets WHERE owner_id = $1', [id])).toEqual([]);
  });

  it('lists connector types with config and secret schemas and datasets with record schemas', async () => {
    const res = await t.call('GET', '/api/v1/connectors');
    expect(res.status).toBe(200);
    const types = res.body.data.map((c: { type: string }) => c.type);
    expect(types).toEqual(expect.arrayContaining(['okta', 'jamf', 'auditcomply', 'http']));
    const oktaType = res.body.data.find((c: { type: string }) => c.type === 'okta');
    expect(oktaType.secrets_schema.properties).toHaveProperty('api_token');
    expect(oktaType.datasets.map((d: { name: string }) => d.name)).toEqual(['okta.users', 'okta.password_policies', 'okta.system_log']);
    expect(oktaType.datasets[0].record_schema.properties).toHaveProperty('mfa_enrolled');
  });

  it('scopes: config:read may read and test, not write; runs:write may collect', async () => {
    const reader = await t.call('POST', '/api/v1/api-keys', { json: { name: 'reader', scopes: ['config:read'] } });
    const asReader = (await import('../helpers/hub.js')).caller(t.url, reader.body.key);
    expect((await asReader('GET', '/api/v1/connections')).status).toBe(200);
    expect((await asReader('POST', '/api/v1/connections', { json: okta('https://r.okta.com') })).status).toBe(403);
  });

  it('renaming a destination needs no secrets again; an unusable key is a failed test, not a 500; inherited names are no datasets', async () => {
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'a', type: 'audigyd', config: { base_url: 'https://audigyd.example.com' }, secrets: { api_key: 'k-1' } } });
    expect(destination.status, destination.text).toBe(201);
    const renamed = await t.call('PATCH', `/api/v1/destinations/${destination.body.id}`, { json: { name: 'renamed' } });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'renamed', secret_fields: ['api_key'] });

    const { privateKey } = (await import('node:crypto')).generateKeyPairSync('ed25519');
    const edKey = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const oauth = await t.call('POST', '/api/v1/connections', { json: { name: 'o', type: 'okta', config: { base_url: 'https://acme.okta.com', auth_method: 'oauth', client_id: 'c' }, secrets: { private_key: edKey } } });
    const test = await t.call('POST', `/api/v1/connections/${oauth.body.id}/test`);
    expect(test.status).toBe(200);
    expect(test.body.ok).toBe(false);

    const collect = await t.call('POST', `/api/v1/connections/${oauth.body.id}/collect`, { json: { datasets: ['constructor'] } });
    expect(collect.status).toBe(400);
    expect(collect.body.errors[0].pointer).toBe('/datasets/0');
  });
});
