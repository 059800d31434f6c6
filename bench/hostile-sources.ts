/**
 * Hostile (and one well-behaved) JSON sources in their own process, so that what they hold and
 * the CPU they use are not counted against the worker under test. Prints `{url}` as one JSON
 * line once listening. `GET /stats` answers the requests, the bytes sent and whether a client
 * hung up before an answer's end since the previous `/stats`.
 *
 * - `/endless`: a JSON array that never ends (until 4 GB), written as fast as the client reads.
 * - `/benign?mb=N`: a JSON array of about N MB, then the end (a large but honest answer).
 * - `/same?page=N`: the same 1000 records whatever the page (a source ignoring the page parameter).
 * - `/loop?cursor=…`: new records on every page and always the same next cursor.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const record = (i: number) => ({ id: `rec-${i}`, login: `user${i}@example.com`, status: 'ACTIVE', mfa_enrolled: i % 3 !== 0, note: 'n'.repeat(400) });
const samePage = JSON.stringify({ results: Array.from({ length: 1000 }, (_, i) => record(i)) });

let last = { requests: 0, bytes: 0, closedEarly: false };

function stream(res: ServerResponse, limitBytes: number): void {
  const stats = last;
  let done = false;
  res.on('close', () => { if (!done) stats.closedEarly = true; });
  res.writeHead(200, { 'content-type': 'application/json' });
  let i = 0;
  const write = (text: string) => { stats.bytes += Buffer.byteLength(text); return res.write(text); };
  write('[');
  const pump = () => {
    while (!res.destroyed && stats.bytes < limitBytes) {
      let chunk = '';
      for (let n = 0; n < 100; n++) chunk += `${i++ ? ',' : ''}${JSON.stringify(record(i))}`;
      if (!write(chunk)) return void res.once('drain', pump);
    }
    if (!res.destroyed) {
      done = true;
      res.end(']');
    }
  };
  pump();
}

const server = createServer((req, res) => {
  const url = new URL(req.url!, 'http://x');
  if (url.pathname === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(last));
    last = { requests: 0, bytes: 0, closedEarly: false };
    return;
  }
  last.requests++;
  if (url.pathname === '/endless') return stream(res, 4 * 1024 ** 3);
  if (url.pathname === '/benign') return stream(res, Number(url.searchParams.get('mb') ?? 60) * 1024 * 1024);
  if (url.pathname === '/same') {
    last.bytes += samePage.length;
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.end(samePage);
  }
  if (url.pathname === '/loop') {
    const body = JSON.stringify({ items: Array.from({ length: 100 }, () => ({ id: randomUUID() })), next: 'again' });
    last.bytes += body.length;
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.end(body);
  }
  res.writeHead(404).end();
});
server.keepAliveTimeout = 30_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
console.log(JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
