import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newWorkspace, startTestHub, type ApiCaller, type TestHub } from '../helpers/hub.js';
import { createConnection } from '../helpers/collect.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const GARBAGE_IDS = ['nope', 'conn_00000000000000000000000000', "' OR 1=1 --", '..%2F..%2Fetc%2Fpasswd', '%00', 'x'.repeat(3000), '%F0%9F%92%A9', '1e309', '-1'];

describe('bad input on every route of the OpenAPI document', () => {
  let t: TestHub;
  let other: { id: string; key: string; call: ApiCaller };
  /** Ids of resources in the default workspace, which the other workspace must never reach. */
  const ownIds: string[] = [];
  let paths: string[] = [];
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_RATE_LIMIT_PER_MINUTE: '1000000' } });
    other = await newWorkspace(t, 'sweeper');
    const connection = await createConnection(t.call, { type: 'push', config: { datasets: [{ name: 'admins' }] } });
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'd', type: 'audigyd', config: { base_url: 'https://grc.example.com' }, secrets: { api_key: 'k' } } });
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: 'm', rules: [{ id: 'r', dataset: 'push.admins', control_ref: 'C', question_match: 'q', title: 't', mode: 'info' }] } });
    const job = await t.call('POST', '/api/v1/jobs', { json: { name: 'j', connection_id: connection, datasets: ['push.admins'], mapping_id: mapping.body.id, destination_id: destination.body.id, target: { assessment_id: 'a' } } });
    const run = await t.call('POST', `/api/v1/jobs/${job.body.id}/runs`, { json: { input: { 'push.admins': [{ login: 'ann' }] } } });
    const webhook = await t.call('POST', '/api/v1/webhooks', { json: { url: 'https://hooks.example.com/x', events: ['run.completed'] } });
    const key = await t.call('POST', '/api/v1/api-keys', { json: { name: 'k', scopes: ['runs:read'] } });
    const audit = await t.call('GET', '/api/v1/audit-log?limit=1');
    ownIds.push(connection, destination.body.id, mapping.body.id, job.body.id, run.body.id, webhook.body.id, key.body.id, audit.body.data[0].id, 'default');
    for (const id of ownIds) expect(id, 'fixture').toBeTruthy();
    const doc = await t.call('GET', '/api/v1/openapi.json', { key: null });
    paths = Object.keys(doc.body.paths as Record<string, unknown>);
    expect(paths.length).toBeGreaterThan(30);
  });
  afterAll(async () => { await t?.stop(); });

  /** Each templated segment of a path filled with `value`. */
  const fill = (template: string, value: string) => template.replace(/\{[^}]+\}/g, value);

  async function expectNoServerError(call: ApiCaller, method: string, path: string, options: Parameters<ApiCaller>[2] = {}): Promise<number> {
    const res = await call(method, path, options);
    const what = `${method} ${path.slice(0, 120)} → ${res.status} ${res.text.slice(0, 300)}`;
    expect(res.status, what).toBeLessThan(500);
    if (res.status >= 400) {
      expect(res.headers.get('content-type'), what).toContain('application/problem+json');
      expect(res.body, what).toMatchObject({ status: res.status, title: expect.any(String) });
      expect(res.text, what).not.toMatch(/\n\s+at /); // no stack trace
    }
    return res.status;
  }

  it("another workspace's ids: never found, never changed, on every templated route and method", async () => {
    for (const template of paths.filter((p) => p.includes('{'))) {
      for (const id of ownIds) {
        for (const method of METHODS) {
          const status = await expectNoServerError(other.call, method, fill(template, id), method === 'GET' || method === 'DELETE' ? {} : { json: {} });
          expect(status < 200 || status >= 300 || template.endsWith('/status'), `${method} ${fill(template, id)} gave ${status}`).toBe(true);
        }
      }
    }
    // Everything of the default workspace is still there.
    for (const path of ['/api/v1/connections', '/api/v1/destinations', '/api/v1/mappings', '/api/v1/jobs', '/api/v1/webhooks']) {
      expect((await t.call('GET', path)).body.data.length, path).toBeGreaterThan(0);
    }
  });

  it('garbage ids and every method: a 4xx problem, never a 5xx', async () => {
    for (const template of paths) {
      const targets = template.includes('{') ? GARBAGE_IDS.map((id) => fill(template, id)) : [template];
      for (const path of targets) {
        for (const method of METHODS) {
          await expectNoServerError(t.call, method, path, method === 'GET' || method === 'DELETE' ? {} : { json: { id: ["' OR 1=1"], limit: -1 } });
        }
      }
    }
  });

  it('malformed JSON, wrong types and nested bodies on every route that takes a body: a 4xx problem', async () => {
    const bodies: [string, string][] = [['{"a":', 'application/json'], ['[]', 'application/json'], ['"text"', 'application/json'], ['null', 'application/json'], ['a=1', 'application/x-www-form-urlencoded'], ['{"name": {"$gt": ""}}', 'application/json'], ['{"__proto__": {"admin": true}}', 'application/json']];
    for (const template of paths) {
      for (const method of ['POST', 'PUT', 'PATCH'] as const) {
        for (const [body, contentType] of bodies) {
          await expectNoServerError(t.call, method, fill(template, 'x'), { body, contentType });
        }
      }
    }
  });
});
