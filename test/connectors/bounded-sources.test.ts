import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { collect, createConnection } from '../helpers/collect.js';

const MB = 1024 * 1024;
/** Where a hostile source gives up on its own, so that a client without caps fails the test instead of taking it down. */
const SAFETY_BYTES = 256 * MB;
const SAFETY_REQUESTS = 400;

/** One request as the source saw it: bytes written and whether the client hung up before the end. */
interface Exchange { path: string; written: number; closed: boolean; ended: boolean }

interface Source { url: string; server: Server; exchanges: Exchange[] }

/** A local source system: `handle` answers, every exchange is recorded. */
function serve(handle: (req: IncomingMessage, res: ServerResponse, exchange: Exchange, index: number) => void): Promise<Source> {
  const exchanges: Exchange[] = [];
  const server = createServer((req, res) => {
    const exchange: Exchange = { path: req.url!, written: 0, closed: false, ended: false };
    exchanges.push(exchange);
    res.on('finish', () => { exchange.ended = true; });
    res.on('close', () => { exchange.closed = true; });
    handle(req, res, exchange, exchanges.length - 1);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server, exchanges })));
}

/** A JSON array of `item`s that never ends (until SAFETY_BYTES), written as fast as the client reads. */
function endlessArray(res: ServerResponse, exchange: Exchange, item: (i: number) => unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  let i = 0;
  const write = (text: string) => { exchange.written += Buffer.byteLength(text); return res.write(text); };
  write('[');
  const pump = () => {
    while (!exchange.closed && exchange.written < SAFETY_BYTES) {
      let chunk = '';
      for (let n = 0; n < 64; n++) chunk += `${i++ ? ',' : ''}${JSON.stringify(item(i))}`;
      if (!write(chunk)) return void res.once('drain', pump);
    }
    if (!exchange.closed) res.end(']');
  };
  pump();
}

/** Headers at once, then one byte of JSON every 100 ms, forever. */
function trickle(res: ServerResponse, exchange: Exchange): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  const timer = setInterval(() => { exchange.written++; res.write(' '); }, 100);
  res.on('close', () => clearInterval(timer));
}

function json(res: ServerResponse, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const padding = 'p'.repeat(1024);
const oktaUser = (i: number) => ({ id: `00u${String(i).padStart(17, '0')}`, status: 'ACTIVE', created: '2024-01-01T00:00:00.000Z', profile: { login: `user${i}@example.com`, email: `user${i}@example.com`, note: padding } });

/** The attempts the collection activity made for a connection, from the worker's log lines. */
function failedAttempts(t: TestHub, connectionId: string): number[] {
  return t.logs
    .map((line) => { try { return JSON.parse(line) as { msg?: string; connection_id?: string; attempt?: number }; } catch { return {}; } })
    .filter((entry) => entry.msg === 'collection attempt failed' && entry.connection_id === connectionId)
    .map((entry) => entry.attempt!);
}

function httpConnection(source: Source, dataset: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { type: 'http', config: { base_url: source.url, auth: { type: 'none' }, datasets: [{ name: 'items', ...dataset }], ...extra } };
}

const sources: Source[] = [];
async function source(handle: Parameters<typeof serve>[0]): Promise<Source> {
  const s = await serve(handle);
  sources.push(s);
  return s;
}
afterAll(() => { for (const s of sources) { s.server.closeAllConnections(); s.server.close(); } });

describe('collections from hostile sources stop with a clear, non-retried error', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_MAX_RESPONSE_BYTES: String(2 * MB), HUB_COLLECTION_MAX_RECORDS: '50', HUB_CONNECTION_TEST_TIMEOUT: '2s', HUB_RATE_LIMIT_PER_MINUTE: '100000' } });
  });
  afterAll(async () => { await t?.stop(); });

  it('an endless JSON body passes the connection\'s max_response_mb: failed, said in words, read no further than the cap', async () => {
    const endless = await source((_req, res, exchange) => endlessArray(res, exchange, (i) => ({ id: `item-${i}`, padding })));
    const id = await createConnection(t.call, httpConnection(endless, { path: '/items' }, { max_response_mb: 1 }));
    const result = await collect(t.call, id, ['http.items']);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/The response from HTTP source \(127\.0\.0\.1:\d+\) while reading \/items passed the 1 MB cap; the hub stopped reading it\. If answers this large are expected, raise max_response_mb in the connection's config/);
    // The worker hung up instead of reading on: the source never got to its safety stop.
    expect(endless.exchanges).toHaveLength(1);
    await expect.poll(() => endless.exchanges[0]!.closed).toBe(true);
    expect(endless.exchanges[0]!.ended).toBe(false);
    expect(endless.exchanges[0]!.written).toBeLessThan(64 * MB);
    expect(failedAttempts(t, id)).toEqual([1]);
  });

  it('an endless Okta user list passes the hub\'s default cap (HUB_MAX_RESPONSE_BYTES)', async () => {
    const okta = await source((_req, res, exchange) => endlessArray(res, exchange, oktaUser));
    const id = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token', enrich: false }, secrets: { api_token: 'tok' } });
    const result = await collect(t.call, id, ['okta.users']);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/The response from Okta \(127\.0\.0\.1:\d+\) while listing users passed the 2 MB cap.*raise max_response_mb/);
    await expect.poll(() => okta.exchanges[0]!.closed).toBe(true);
    expect(okta.exchanges[0]!.ended).toBe(false);
    expect(failedAttempts(t, id)).toEqual([1]);
  });

  it('a source that sends the same next cursor forever: failed with a repeated-cursor error', async () => {
    const loop = await source((_req, res, _exchange, index) => json(res, { items: [{ id: randomUUID() }], next: index < SAFETY_REQUESTS ? 'again' : null }));
    const id = await createConnection(t.call, httpConnection(loop, { path: '/items', records_path: '$.items', pagination: { type: 'cursor', cursor_path: '$.next', cursor_param: 'cursor' } }));
    const result = await collect(t.call, id, ['http.items']);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/Generic JSON API sent a next cursor it had already sent while collecting http\.items \("again" at page 2\), and the collection was stopped/);
    expect(loop.exchanges).toHaveLength(2);
    expect(failedAttempts(t, id)).toEqual([1]);
  });

  it('a source that ignores the page parameter and sends the same page forever: failed with a repeated-page error', async () => {
    const same = await source((_req, res, _exchange, index) => json(res, { results: index < SAFETY_REQUESTS ? [{ id: 'a' }, { id: 'b' }] : [] }));
    const id = await createConnection(t.call, httpConnection(same, { path: '/things', records_path: '$.results', pagination: { type: 'page', page_param: 'page' } }));
    const result = await collect(t.call, id, ['http.items']);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/Generic JSON API sent the same page again while collecting http\.items \(page 2 repeats page 1 byte for byte\)/);
    expect(same.exchanges.map((e) => e.path)).toEqual(['/things?page=1', '/things?page=2']);
    expect(failedAttempts(t, id)).toEqual([1]);
  });

  it('Okta answering Link rel="next" to the same URL forever: failed with a repeated-cursor error', async () => {
    const okta = await source((req, res, _exchange, index) => {
      const base = `http://${req.headers.host}`;
      json(res, [oktaUser(index)], index < SAFETY_REQUESTS ? { link: `<${base}/api/v1/users?after=same&limit=200>; rel="next"` } : {});
    });
    const id = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token', enrich: false }, secrets: { api_token: 'tok' } });
    const result = await collect(t.call, id, ['okta.users']);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/Okta sent a next cursor it had already sent while collecting okta\.users .*after=same/);
    expect(okta.exchanges.length).toBeLessThan(4);
    expect(failedAttempts(t, id)).toEqual([1]);
  });

  it('a collection past HUB_COLLECTION_MAX_RECORDS fails once, not retried', async () => {
    const big = await source((req, res) => {
      const from = Number(new URL(req.url!, 'http://x').searchParams.get('cursor') ?? 0);
      json(res, { items: Array.from({ length: 20 }, (_, i) => ({ id: `r-${from + i}` })), next: from + 20 < 200 ? String(from + 20) : null });
    });
    const id = await createConnection(t.call, httpConnection(big, { path: '/items', records_path: '$.items', pagination: { type: 'cursor', cursor_path: '$.next', cursor_param: 'cursor' } }));
    const result = await collect(t.call, id, ['http.items']);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/The collection of http\.items passed the cap of 50 records \(HUB_COLLECTION_MAX_RECORDS\) at page 3 and was stopped/);
    expect(big.exchanges).toHaveLength(3);
    expect(failedAttempts(t, id)).toEqual([1]);
  });

  it('a Link header whose next is not a valid URL is a classified, non-retried error (not a TypeError)', async () => {
    const okta = await source((_req, res, _exchange, index) => json(res, [oktaUser(index)], { link: '<https://[::1/api/v1/users?after=x>; rel="next"' }));
    const id = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token', enrich: false }, secrets: { api_token: 'tok' } });
    const result = await collect(t.call, id, ['okta.users']);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/Okta sent a link that is not a valid URL while listing users \("https:\/\/\[::1\/api\/v1\/users\?after=x"\)/);
    expect(result.error).not.toMatch(/TypeError|Invalid URL/);
    expect(failedAttempts(t, id)).toEqual([1]);
  });

  it('a connection test against a source that trickles bytes forever: ok:false within the test deadline, with a clear error', async () => {
    const slow = await source((_req, res, exchange) => trickle(res, exchange));
    const id = await createConnection(t.call, httpConnection(slow, { path: '/items' }));
    const res = await t.call('POST', `/api/v1/connections/${id}/test`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: false, error: { kind: 'unavailable' } });
    expect(res.body.error.message).toBe('Generic JSON API did not finish answering within 2 s, the limit of a connection test: the system is slow, unreachable, or sends its answer a trickle at a time.');
    await expect.poll(() => slow.exchanges[0]!.closed).toBe(true);
  });

  it('a destination test against a trickling server: ok:false within the test deadline', async () => {
    const slow = await source((_req, res, exchange) => trickle(res, exchange));
    const created = await t.call('POST', '/api/v1/destinations', { json: { name: 'slow audigyd', type: 'audigyd', config: { base_url: slow.url }, secrets: { api_key: 'k' } } });
    expect(created.status, created.text).toBe(201);
    const res = await t.call('POST', `/api/v1/destinations/${created.body.id}/test`);
    expect(res.body).toMatchObject({ ok: false, error: { kind: 'unavailable' } });
    expect(res.body.error.message).toMatch(/^AUDIGYD did not finish answering within 2 s, the limit of a connection test/);
    await expect.poll(() => slow.exchanges[0]!.closed).toBe(true);
  });

  it('a connection test reads at most 1 MB of an answer, whatever max_response_mb says', async () => {
    const big = await source((_req, res) => json(res, Array.from({ length: 40 }, (_, i) => ({ id: `r-${i}`, padding: padding.repeat(40) }))));
    const id = await createConnection(t.call, httpConnection(big, { path: '/items' }, { max_response_mb: 10 }));
    const res = await t.call('POST', `/api/v1/connections/${id}/test`);
    expect(res.body).toMatchObject({ ok: false, error: { kind: 'bad_response' } });
    expect(res.body.error.message).toMatch(/passed the 1 MB cap.*A connection test reads at most 1 MB of an answer/);
    // The same answer is fine for a collection, which allows the connection's 10 MB.
    const result = await collect(t.call, id, ['http.items']);
    expect(result.status, result.error ?? '').toBe('succeeded');
    expect(result.snapshots[0]!.record_count).toBe(40);
  });

  it('max_response_mb is validated like any config field', async () => {
    const res = await t.call('POST', '/api/v1/connections', { json: { name: 'bad', type: 'okta', config: { base_url: 'https://acme.okta.com', auth_method: 'api_token', max_response_mb: 0 }, secrets: { api_token: 'x' } } });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ pointer: '/config/max_response_mb' })]));
  });
});

describe('collections have a deadline, and every request a total one', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_COLLECTION_DEADLINE: '3s', HUB_OUTBOUND_REQUEST_TIMEOUT: '1s', HUB_RATE_LIMIT_PER_MINUTE: '100000' } });
  });
  afterAll(async () => { await t?.stop(); });

  it('a source that keeps sending new pages slowly: failed past HUB_COLLECTION_DEADLINE, not retried', async () => {
    const slow = await source((req, res, _exchange, index) => {
      const from = Number(new URL(req.url!, 'http://x').searchParams.get('cursor') ?? 0);
      setTimeout(() => json(res, { items: [{ id: `r-${from}` }], next: index < SAFETY_REQUESTS ? String(from + 1) : null }), 300);
    });
    const id = await createConnection(t.call, httpConnection(slow, { path: '/items', records_path: '$.items', pagination: { type: 'cursor', cursor_path: '$.next', cursor_param: 'cursor' } }));
    const result = await collect(t.call, id, ['http.items']);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/The collection of http\.items ran past its deadline of 3 s \(HUB_COLLECTION_DEADLINE\) with \d+ records read, and was stopped/);
    expect(slow.exchanges.length).toBeLessThan(SAFETY_REQUESTS);
    expect(failedAttempts(t, id)).toEqual([1]);
  });

  it('a source that trickles its answer: each request cut off at HUB_OUTBOUND_REQUEST_TIMEOUT, the collection at its deadline', async () => {
    const slow = await source((_req, res, exchange) => trickle(res, exchange));
    const id = await createConnection(t.call, httpConnection(slow, { path: '/items' }));
    const result = await collect(t.call, id, ['http.items']);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/ran past its deadline of 3 s \(HUB_COLLECTION_DEADLINE\)/);
    const timeouts = t.logs.filter((line) => line.includes(id) && line.includes('HTTP source did not finish answering within 1 s while reading /items (HUB_OUTBOUND_REQUEST_TIMEOUT)'));
    expect(timeouts.length).toBeGreaterThan(0);
    for (const exchange of slow.exchanges) expect(exchange.closed).toBe(true);
  });
});
