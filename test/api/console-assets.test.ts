import { readFileSync } from 'node:fs';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.js';

const html = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

describe('the web console is served by the hub itself, beside the API', () => {
  let t: TestHub;
  beforeAll(async () => { t = await startTestHub({ env: { HUB_RATE_LIMIT_PER_MINUTE: '20' } }); });
  afterAll(async () => { await t?.stop(); });

  it('answers console pages with index.html under a strict CSP, and API paths with problems', async () => {
    const nonces = new Set<string>();
    for (const page of ['/', '/runs', '/runs/run_123', '/connections/new?type=okta', '/audit-log']) {
      const res = await fetch(t.url + page, { headers: html });
      expect(res.status, page).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = await res.text();
      // Styles need the page's own nonce (the code editor's <style> elements carry it); a new one each time.
      const nonce = /<meta name="csp-nonce" content="([A-Za-z0-9+/=]{24})">/.exec(body)![1]!;
      expect(csp).toContain(`style-src 'self' 'nonce-${nonce}'`);
      expect(nonces.has(nonce)).toBe(false);
      nonces.add(nonce);
      expect(body).toMatch(/<script type="module" src="\/assets\/app-[A-Z0-9]+\.js"><\/script>/);
      expect(body).not.toMatch(/<script>(?!<)/); // no inline script
      expect(body).not.toMatch(/https?:\/\//); // nothing from elsewhere
    }
    // A mistyped API path (even from a browser) is a problem, not the console.
    for (const apiPath of ['/api/v1/nope', '/api/v2/jobs', '/mcp/x', '/readyz/x', '/docs/x']) {
      const res = await fetch(t.url + apiPath, { headers: html });
      expect(res.headers.get('content-type'), apiPath).toMatch(/^application\/problem\+json/);
    }
    expect((await fetch(t.url + '/docs', { headers: html }).then((r) => r.text()))).toContain('Evidence Hub');
    // A script asking for JSON, or a POST, never gets the page.
    expect((await fetch(t.url + '/runs', { headers: { accept: 'application/json' } })).status).toBe(404);
    expect((await fetch(t.url + '/runs', { method: 'POST', headers: html })).status).toBe(404);
  });

  it('serves hashed assets precompressed with a year-long immutable cache, and spends no rate-limit budget', async () => {
    const index = await (await fetch(t.url + '/', { headers: html })).text();
    const script = /src="(\/assets\/app-[A-Z0-9]+\.js)"/.exec(index)![1]!;
    const styles = /href="(\/assets\/app-[A-Z0-9]+\.css)"/.exec(index)![1]!;
    const built = readFileSync(path.join(t.config.console.dir, script));

    for (let i = 0; i < 30; i++) {
      const br = await fetch(t.url + script, { headers: { 'accept-encoding': 'br, gzip' } });
      expect(br.status).toBe(200);
      expect(br.headers.get('ratelimit-remaining')).toBeNull();
    }
    // Node's fetch decodes what it is sent: read the raw bytes over a plain request instead.
    const raw = async (encoding: string) => {
      const { request } = await import('node:http');
      return new Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
        request(t.url + script, { headers: { 'accept-encoding': encoding } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        }).on('error', reject).end();
      });
    };
    const brotli = await raw('br, gzip');
    expect(brotli.headers['content-encoding']).toBe('br');
    expect(brotli.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(brotli.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(brotliDecompressSync(brotli.body).equals(built)).toBe(true);
    const gzip = await raw('gzip');
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gzip.body).equals(built)).toBe(true);
    const plain = await raw('identity');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.equals(built)).toBe(true);
    const etag = plain.headers.etag as string;
    expect((await fetch(t.url + styles, { headers: { 'if-none-match': etag } })).status).toBe(200);
    expect((await fetch(t.url + script, { headers: { 'if-none-match': etag } })).status).toBe(304);

    // Thirty asset loads later, the limit of 20 a minute is untouched: an API call still has its budget.
    const me = await t.call('GET', '/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.headers.get('ratelimit-remaining')).toBe('19');
  });
});
