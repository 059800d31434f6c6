import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiPath } from '../../api/route.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

describe('OpenAPI document', () => {
  let t: TestHub;
  beforeAll(async () => { t = await startTestHub(); });
  afterAll(async () => { await t?.stop(); });

  it('is a valid OpenAPI 3.1 document listing every route the app serves', async () => {
    const res = await t.call('GET', '/api/v1/openapi.json', { key: null });
    expect(res.status).toBe(200);
    const validator = new Validator();
    const result = await validator.validate(res.body);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(res.body.openapi).toBe('3.1.0');

    // The routes the running app mounts, compared with the document's operations.
    const { routes } = t.hub;
    const documented = Object.entries(res.body.paths as Record<string, object>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    expect(documented.sort()).toEqual(routes.map((r) => `${r.method} ${openApiPath(r.path)}`).sort());
    for (const required of ['post /api/v1/api-keys', 'delete /api/v1/api-keys/{id}', 'post /api/v1/workspaces/{id}/api-keys', 'get /readyz', 'post /api/v1/diagnostics']) {
      expect(documented).toContain(required);
    }
    // Request schemas in the document are the ones that validate requests.
    const createKey = res.body.paths['/api/v1/api-keys'].post;
    expect(createKey.requestBody.content['application/json'].schema.required).toEqual(['name', 'scopes']);
    expect(createKey['x-required-scopes']).toEqual(['admin']);
  });

  it('renders a readable /docs page', async () => {
    const res = await t.call('GET', '/docs', { key: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.text).toContain('/api/v1/api-keys/{id}');
    expect(res.text).toContain('Scope: <code>admin</code>');
  });
});
