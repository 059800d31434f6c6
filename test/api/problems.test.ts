import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub, type CallResult } from '../helpers/hub.js';

function expectProblem(res: CallResult, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, type: expect.stringMatching(/^https:\/\//), title: expect.any(String), detail: expect.any(String), instance: expect.any(String) });
  expect(res.text).not.toMatch(/at .*\.(ts|js):\d+/); // never a stack trace
  expect(res.headers.get('x-request-id')).toBe(res.body.request_id);
}

describe('RFC 7807 problems for every error path', () => {
  let t: TestHub;
  beforeAll(async () => { t = await startTestHub({ env: { HUB_JSON_BODY_LIMIT_BYTES: String(64 * 1024) } }); });
  afterAll(async () => { await t?.stop(); });

  it('unknown route → 404', async () => {
    const res = await t.call('GET', '/api/v1/nothing-here');
    expectProblem(res, 404);
    expect(res.body.instance).toBe('/api/v1/nothing-here');
  });

  it('known path, wrong method → 405 with Allow', async () => {
    const res = await t.call('PUT', '/api/v1/api-keys', { json: {} });
    expectProblem(res, 405);
    expect(res.headers.get('allow')).toBe('POST, GET');
  });

  it('malformed JSON → 400', async () => {
    const res = await t.call('POST', '/api/v1/api-keys', { body: '{"name": "x", scopes: [}', contentType: 'application/json' });
    expectProblem(res, 400);
    expect(res.body.title).toBe('Malformed JSON');
  });

  it('a JSON scalar where an object is expected → 400, not 500', async () => {
    expectProblem(await t.call('POST', '/api/v1/api-keys', { body: '"just a string"', contentType: 'application/json' }), 400);
    expectProblem(await t.call('POST', '/api/v1/api-keys', { body: '[1,2]', contentType: 'application/json' }), 400);
    expectProblem(await t.call('POST', '/api/v1/api-keys', { body: 'null', contentType: 'application/json' }), 400);
  });

  it('body over the limit → 413', async () => {
    const res = await t.call('POST', '/api/v1/api-keys', { json: { name: 'x'.repeat(100 * 1024), scopes: ['admin'] } });
    expectProblem(res, 413);
  });

  it('wrong content type → 415', async () => {
    expectProblem(await t.call('POST', '/api/v1/api-keys', { body: 'name=x&scopes=admin', contentType: 'application/x-www-form-urlencoded' }), 415);
    expectProblem(await t.call('POST', '/api/v1/api-keys', { body: '{"name":"x","scopes":["admin"]}', contentType: 'text/plain' }), 415);
    expectProblem(await t.call('POST', '/api/v1/api-keys', { body: '{"name":"x","scopes":["admin"]}' }), 415);
  });

  it('schema violations → 400 with a JSON Pointer per fault', async () => {
    const res = await t.call('POST', '/api/v1/api-keys', { json: { name: 42, scopes: ['admin', 'root'], colour: 'blue' } });
    expectProblem(res, 400);
    expect(res.body.title).toBe('Validation Failed');
    const pointers = res.body.errors.map((e: { pointer: string }) => e.pointer);
    expect(pointers).toEqual(expect.arrayContaining(['/name', '/scopes/1', '/colour']));
    const scopeError = res.body.errors.find((e: { pointer: string }) => e.pointer === '/scopes/1');
    expect(scopeError.message).toContain('must be one of');

    const missing = await t.call('POST', '/api/v1/api-keys', { json: {} });
    expect(missing.body.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual(['/name', '/scopes']);
  });

  it('a body on an operation that takes none → 400', async () => {
    const res = await t.call('POST', '/api/v1/diagnostics', { json: { surprise: true } });
    expectProblem(res, 400);
  });

  it('nothing is half-written by a rejected request', async () => {
    const before = await t.hub.db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_keys');
    await t.call('POST', '/api/v1/api-keys', { json: { name: 'bad', scopes: ['admin'], extra: 1 } });
    await t.call('POST', '/api/v1/api-keys', { body: '{"name":', contentType: 'application/json' });
    const after = await t.hub.db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_keys');
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  it('echoes a safe X-Request-Id and replaces an unsafe one', async () => {
    const mine = await t.call('GET', '/api/v1/me', { headers: { 'x-request-id': 'flow-123' } });
    expect(mine.headers.get('x-request-id')).toBe('flow-123');
    const unsafe = await t.call('GET', '/api/v1/me', { headers: { 'x-request-id': 'a b<script>' } });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^req_/);
    expect(t.logs.some((line) => line.includes('"flow-123"'))).toBe(true);
  });

  it('odd bytes and numbers in paths, queries and bodies are 4xx problems, never 500', async () => {
    expectProblem(await t.call('GET', '/api/v1/jobs/%00'), 400);
    expectProblem(await t.call('GET', '/api/v1/runs?job_id=%00'), 400);
    expectProblem(await t.call('GET', '/api/v1/jobs/%E0%A4%A'), 400);
    expectProblem(await t.call('GET', '/api/v1/mappings/map_x/versions/3000000000'), 404);
    const cursor = Buffer.from(JSON.stringify({ after: '\u0000' })).toString('base64url');
    expectProblem(await t.call('GET', `/api/v1/api-keys?cursor=${cursor}`), 400);
    expectProblem(await t.call('POST', '/api/v1/workspaces', { json: { name: 'nul \u0000 byte' } }), 400);
    const preview = await t.call('POST', '/api/v1/mappings/preview', { json: { rules: [{ id: 'r', dataset: 'okta.users', control_ref: 'c', question_match: 'q', title: 't', mode: 'info' }], data: { 'okta.users': [] }, now: '2016-12-31T23:59:60Z' } });
    expect([200, 400]).toContain(preview.status);
    expect(preview.status === 400 ? preview.body.errors[0].pointer : '/now').toBe('/now');
  });
});
