import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboundHttp, connectionResponseBytes, linkedUrl } from '../../connectors/http-client.js';
import { ConnectorError } from '../../connectors/errors.js';

const MB = 1024 * 1024;

/** What the hostile server saw of each request: bytes it wrote and whether the client hung up. */
interface Seen { written: number; closed: boolean }

function startHostileServer(): Promise<{ url: string; server: Server; seen: Map<string, Seen> }> {
  const seen = new Map<string, Seen>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url!, 'http://x').pathname;
    const record: Seen = { written: 0, closed: false };
    seen.set(path, record);
    res.on('close', () => { record.closed = true; });
    const write = (chunk: Buffer) => { record.written += chunk.length; return res.write(chunk); };
    if (path === '/endless') {
      // A JSON array that never ends, sent as fast as the client reads (bounded so that an unbounded client cannot take the test down).
      res.writeHead(200, { 'content-type': 'application/json' });
      write(Buffer.from('['));
      const chunk = Buffer.from('{"id":"x","padding":"' + 'a'.repeat(16 * 1024) + '"},');
      const pump = () => {
        while (!record.closed && record.written < 256 * MB) if (!write(chunk)) return void res.once('drain', pump);
        res.end();
      };
      return pump();
    }
    if (path === '/announced') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(10 * MB) });
      return void res.write('[');
    }
    if (path === '/trickle') {
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => write(Buffer.from(' ')), 50);
      return void res.on('close', () => clearInterval(timer));
    }
    if (path === '/small') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ padding: 'b'.repeat(2 * MB) }));
    }
    res.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server, seen })));
}

async function failure(promise: Promise<unknown>): Promise<ConnectorError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConnectorError);
  return err as ConnectorError;
}

describe('outbound responses are bounded (OutboundHttp)', () => {
  let hostile: Awaited<ReturnType<typeof startHostileServer>>;
  let http: OutboundHttp;
  beforeAll(async () => {
    hostile = await startHostileServer();
    http = new OutboundHttp({ allowPrivateNetworks: true, limits: { maxResponseBytes: MB, maxResponseBytesLimit: 4 * MB, requestTimeoutMs: 500 } });
  });
  afterAll(async () => { await http?.close(); hostile?.server.close(); });

  it('stops reading an endless body as soon as it passes the cap, and hangs up', async () => {
    const err = await failure(http.request(`${hostile.url}/endless`, { system: 'Test API', what: 'listing things' }));
    expect(err.kind).toBe('bad_response');
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/The response from Test API \(127\.0\.0\.1:\d+\) while listing things passed the 1 MB cap/);
    expect(err.message).toMatch(/raise max_response_mb .*up to 4 MB/);
    await expect.poll(() => hostile.seen.get('/endless')?.closed).toBe(true);
    // What the kernel's socket buffers took in before the hang-up, not the 256 MB the server had to give.
    expect(hostile.seen.get('/endless')!.written).toBeLessThan(32 * MB);
  });

  it('refuses a body whose Content-Length is over the cap without reading it', async () => {
    const err = await failure(http.request(`${hostile.url}/announced`, { system: 'Test API', what: 'listing things' }));
    expect(err.message).toMatch(/passed the 1 MB cap \(it announced 10 MB\)/);
  });

  it('gives a trickling answer a total deadline, not only idle timeouts (retryable: it may pass)', async () => {
    const err = await failure(http.request(`${hostile.url}/trickle`, { system: 'Test API', what: 'listing things' }));
    expect(err.kind).toBe('unavailable');
    expect(err.message).toMatch(/Test API did not finish answering within 0\.5 s while listing things \(HUB_OUTBOUND_REQUEST_TIMEOUT\)/);
    await expect.poll(() => hostile.seen.get('/trickle')?.closed).toBe(true);
  });

  it('a connection may raise its cap with max_response_mb, never past the operator maximum', async () => {
    const raised = http.forConnection({ max_response_mb: 3 });
    expect(raised.limits.maxResponseBytes).toBe(3 * MB);
    expect((await raised.request(`${hostile.url}/small`, { system: 'Test API', what: 'reading' })).json<{ padding: string }>().padding).toHaveLength(2 * MB);
    await failure(http.request(`${hostile.url}/small`, { system: 'Test API', what: 'reading' }));
    expect(connectionResponseBytes({ max_response_mb: 1000 }, http.limits)).toBe(4 * MB);
    const atMaximum = http.forConnection({ max_response_mb: 1000 });
    const err = await failure(atMaximum.request(`${hostile.url}/endless`, { system: 'Test API', what: 'reading' }));
    expect(err.message).toMatch(/passed the 4 MB cap.*at the operator's maximum \(HUB_MAX_RESPONSE_BYTES_LIMIT, 4 MB\)/);
  });

  it('a connection test reads at most its own small cap, whatever the connection says', async () => {
    const test = new OutboundHttp({ allowPrivateNetworks: true, connectionTest: { timeoutMs: 400, maxResponseBytes: MB } }).forConnectionTest().forConnection({ max_response_mb: 50 });
    const err = await failure(test.request(`${hostile.url}/small`, { system: 'Test API', what: 'reading' }));
    expect(err.message).toMatch(/passed the 1 MB cap.*A connection test reads at most 1 MB/);
    const slow = await failure(test.request(`${hostile.url}/trickle`, { system: 'Test API', what: 'reading' }));
    expect(slow.message).toMatch(/within 0\.4 s/);
  });

  it('a URL a source sent that is not a URL is a classified ConnectorError, not a TypeError', async () => {
    const err = await failure(http.request('https://[::1/api/v1/users?after=x', { system: 'Okta', what: 'listing users' }));
    expect(err.kind).toBe('bad_response');
    expect(err.message).toMatch(/Okta sent a link that is not a valid URL while listing users/);
    expect(() => linkedUrl('Okta', 'http://exa mple.com/next', 'listing users')).toThrow(ConnectorError);
  });

  it('cancellation by the caller still surfaces as an abort, not as a timeout', async () => {
    const controller = new AbortController();
    const pending = http.withLimits({ requestTimeoutMs: 30_000 }).request(`${hostile.url}/trickle`, { system: 'Test API', what: 'reading', signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const err = await pending.then(() => null, (e: unknown) => e);
    expect(err).not.toBeInstanceOf(ConnectorError);
    expect(controller.signal.aborted).toBe(true);
  });
});
