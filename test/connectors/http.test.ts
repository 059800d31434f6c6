import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { collect, createConnection, snapshotRecords } from '../helpers/collect.js';

/** A small JSON API with cursor and page pagination behind a bearer token or a basic password. */
function startTinyApi(): Promise<{ url: string; server: Server; seen: string[] }> {
  const items = Array.from({ length: 95 }, (_, i) => ({ id: `item-${i}`, ok: i % 3 !== 0 }));
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    seen.push(url.pathname + url.search);
    const auth = req.headers.authorization ?? '';
    const send = (status: number, body: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    if (url.pathname === '/v2/items') {
      if (auth !== 'Bearer tiny-token') return send(401, { message: 'bad token' });
      const from = Number(url.searchParams.get('cursor') ?? 0);
      const next = from + 20 < items.length ? String(from + 20) : null;
      return send(200, { data: { items: items.slice(from, from + 20) }, meta: { next } });
    }
    if (url.pathname === '/v2/limited') {
      // The first call of each run is throttled for one second.
      if (!seen.some((s, i) => i < seen.length - 1 && s.startsWith('/v2/limited'))) {
        res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
        return res.end('{}');
      }
      return send(200, [{ id: 'x' }]);
    }
    if (url.pathname === '/v2/paged') {
      if (auth !== `Basic ${Buffer.from('svc:pw').toString('base64')}`) return send(401, {});
      const page = Number(url.searchParams.get('p'));
      const size = Number(url.searchParams.get('n'));
      return send(200, { results: items.slice((page - 1) * size, page * size) });
    }
    send(404, {});
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server, seen })));
}

describe('generic JSON API connector (declarative auth and pagination)', () => {
  let t: TestHub;
  let tiny: Awaited<ReturnType<typeof startTinyApi>>;
  let okta: OktaSimulator;
  beforeAll(async () => {
    t = await startTestHub();
    tiny = await startTinyApi();
    okta = await startOktaSimulator({ population: { total: 450 }, rateLimit: false });
  });
  afterAll(async () => { tiny?.server.close(); await okta?.close(); await t?.stop(); });

  it('follows a next-cursor JSONPath with a bearer token, and page numbers with basic auth', async () => {
    const id = await createConnection(t.call, {
      type: 'http',
      config: {
        base_url: tiny.url, auth: { type: 'bearer' },
        datasets: [{ name: 'items', path: '/v2/items', records_path: '$.data.items', pagination: { type: 'cursor', cursor_path: '$.meta.next', cursor_param: 'cursor' } }],
      },
      secrets: { token: 'tiny-token' },
    });
    expect((await t.call('POST', `/api/v1/connections/${id}/test`)).body).toMatchObject({ ok: true });
    const result = await collect(t.call, id, ['http.items']);
    expect(result.status, result.error ?? '').toBe('succeeded');
    const records = await snapshotRecords<{ id: string }>(t.call, result.snapshots[0]!.id);
    expect(records.map((r) => r.id)).toEqual(Array.from({ length: 95 }, (_, i) => `item-${i}`));

    const paged = await createConnection(t.call, {
      type: 'http',
      config: { base_url: tiny.url, auth: { type: 'basic', username: 'svc' }, datasets: [{ name: 'paged', path: '/v2/paged', records_path: '$.results', pagination: { type: 'page', page_param: 'p', page_size_param: 'n', page_size: 30 } }] },
      secrets: { password: 'pw' },
    });
    const pagedResult = await collect(t.call, paged, ['http.paged']);
    expect(pagedResult.snapshots[0]!.record_count).toBe(95);
    expect(tiny.seen.filter((s) => s.startsWith('/v2/paged'))).toEqual(['/v2/paged?p=1&n=30', '/v2/paged?p=2&n=30', '/v2/paged?p=3&n=30', '/v2/paged?p=4&n=30', '/v2/paged?p=5&n=30']);
  });

  it('follows Link rel="next" with an API-key header (Okta as a plain JSON API)', async () => {
    const id = await createConnection(t.call, {
      type: 'http',
      config: { base_url: okta.url, auth: { type: 'api_key_header', header_name: 'Authorization' }, datasets: [{ name: 'users', path: '/api/v1/users', query: { limit: '200' }, pagination: { type: 'link_header' } }] },
      secrets: { api_key: `SSWS ${okta.apiToken}` },
    });
    const result = await collect(t.call, id, ['http.users']);
    expect(result.snapshots[0]!.record_count).toBe(okta.truth().users.listedByDefault);
  });

  it('waits out a 429 Retry-After, and fails a collection with a wrong token without retrying', async () => {
    const id = await createConnection(t.call, { type: 'http', config: { base_url: tiny.url, auth: { type: 'none' }, datasets: [{ name: 'limited', path: '/v2/limited' }] } });
    const before = Date.now();
    const result = await collect(t.call, id, ['http.limited']);
    expect(result.status).toBe('succeeded');
    expect(result.snapshots[0]!.record_count).toBe(1);
    expect(Date.now() - before).toBeGreaterThanOrEqual(1000);

    const wrong = await createConnection(t.call, { type: 'http', config: { base_url: tiny.url, auth: { type: 'bearer' }, datasets: [{ name: 'items', path: '/v2/items', records_path: '$.data.items' }] }, secrets: { token: 'nope' } });
    const calls = tiny.seen.length;
    const failed = await collect(t.call, wrong, ['http.items']);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/HTTP source rejected the credentials \(401\)/);
    expect(tiny.seen.length - calls).toBe(1);
  });

  it('rejects unknown datasets, bad pagination config and a wrong token with pointers and readable errors', async () => {
    const bad = await t.call('POST', '/api/v1/connections', { json: { name: 'x', type: 'http', config: { base_url: tiny.url, auth: { type: 'bearer' }, datasets: [{ name: 'Bad Name', path: '/x', pagination: { type: 'cursor' } }] } } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(expect.arrayContaining(['/config/datasets/0/name']));

    const id = await createConnection(t.call, { type: 'http', config: { base_url: tiny.url, auth: { type: 'bearer' }, datasets: [{ name: 'items', path: '/v2/items', records_path: '$.data.items' }] }, secrets: { token: 'nope' } });
    const unknown = await t.call('POST', `/api/v1/connections/${id}/collect`, { json: { datasets: ['http.nothing'] } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0]).toMatchObject({ pointer: '/datasets/0', message: expect.stringContaining('http.items') });
    const test = await t.call('POST', `/api/v1/connections/${id}/test`);
    expect(test.body).toMatchObject({ ok: false, error: { kind: 'auth', status: 401 } });
  });
});
