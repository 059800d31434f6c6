import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Request, RequestHandler } from 'express';
import type { Logger } from '../lib/logger.js';

/**
 * Serves the built web console (scripts/build-console.mjs) from memory: hashed assets with a
 * year-long immutable cache, index.html with no-cache for every console page, each in the
 * smallest encoding the browser accepts (brotli and gzip copies made at build time), under a
 * strict Content-Security-Policy. Mounted before authentication and rate limits: loading a
 * page spends no key's budget.
 *
 * Pages are answered only for GET/HEAD requests that accept HTML outside the API's own paths,
 * so that a mistyped API path still gets its RFC 7807 404.
 */

const API_PREFIXES = ['/api/', '/mcp', '/docs', '/healthz', '/readyz'];

/**
 * No inline script, nothing from elsewhere, no framing. Styles are the console's own files, and
 * the <style> elements its code editor writes, which carry this page's nonce (a new one for
 * every page served, given to the scripts in a meta element).
 */
export function consoleCsp(styleNonce: string): string {
  return [
    "default-src 'self'", "script-src 'self'", `style-src 'self' 'nonce-${styleNonce}'`, "img-src 'self' data:", "font-src 'self'",
    "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
  ].join('; ');
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.json': 'application/json', '.map': 'application/json', '.png': 'image/png', '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

interface Asset {
  type: string;
  body: Buffer;
  gzip?: Buffer;
  brotli?: Buffer;
  etag: string;
  immutable: boolean;
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) { walk(full); continue; }
      if (/\.(gz|br)$/.test(entry.name) || entry.name === 'manifest.json') continue;
      const url = '/' + path.relative(dir, full).split(path.sep).join('/');
      const stat = statSync(full);
      assets.set(url, {
        type: TYPES[path.extname(entry.name)] ?? 'application/octet-stream',
        body: readFileSync(full),
        gzip: existsSync(full + '.gz') ? readFileSync(full + '.gz') : undefined,
        brotli: existsSync(full + '.br') ? readFileSync(full + '.br') : undefined,
        etag: `"${stat.size.toString(36)}-${Math.floor(stat.mtimeMs).toString(36)}"`,
        immutable: url.startsWith('/assets/'),
      });
    }
  };
  walk(dir);
  return assets;
}

function isPageRequest(req: Request): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (API_PREFIXES.some((prefix) => req.path === prefix.replace(/\/$/, '') || req.path.startsWith(prefix))) return false;
  return req.accepts(['application/json', 'text/html']) === 'text/html' && (req.get('accept') ?? '').includes('text/html');
}

/** The build's manifest changes with every build: a rebuilt console is picked up on the next page load. */
function buildStamp(dir: string): number {
  try {
    return statSync(path.join(dir, 'manifest.json')).mtimeMs;
  } catch {
    return 0;
  }
}

export function consoleAssets(dir: string, logger: Logger): RequestHandler {
  const load = () => (existsSync(path.join(dir, 'index.html')) ? loadAssets(dir) : null);
  let stamp = buildStamp(dir);
  let assets = load();
  if (!assets) logger.warn({ dir }, 'the web console is not built (run "npm run build"): pages answer 503');
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (isPageRequest(req) && buildStamp(dir) !== stamp) {
      stamp = buildStamp(dir);
      assets = load();
    }
    const asset = assets?.get(req.path);
    const page = !asset && isPageRequest(req);
    if (!asset && !page) return next();
    if (!assets) {
      res.status(503).type('text/plain').send('The web console is not built. Run "npm run build" (npm start does it), then reload.\n');
      return;
    }
    const served = asset ?? assets.get('/index.html')!;
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Vary', 'Accept-Encoding');
    if (served.type.startsWith('text/html')) {
      // A page: its own style nonce, so it is neither cached nor precompressed (it is small).
      const nonce = randomBytes(16).toString('base64');
      const page = Buffer.from(served.body.toString('utf8').replace('<head>', `<head>\n<meta name="csp-nonce" content="${nonce}">`));
      res.setHeader('Content-Security-Policy', consoleCsp(nonce));
      res.setHeader('X-Frame-Options', 'DENY');
      res.setHeader('Referrer-Policy', 'same-origin');
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Content-Type', served.type);
      res.setHeader('Content-Length', String(page.length));
      res.status(200);
      if (req.method === 'HEAD') res.end();
      else res.end(page);
      return;
    } else {
      res.setHeader('Cache-Control', served.immutable ? 'public, max-age=31536000, immutable' : 'public, max-age=3600');
    }
    res.setHeader('ETag', served.etag);
    if (req.get('if-none-match') === served.etag) {
      res.status(304).end();
      return;
    }
    const accepted = req.acceptsEncodings(['br', 'gzip', 'identity']);
    let body = served.body;
    if (accepted === 'br' && served.brotli) { body = served.brotli; res.setHeader('Content-Encoding', 'br'); }
    else if ((accepted === 'gzip' || accepted === 'br') && served.gzip) { body = served.gzip; res.setHeader('Content-Encoding', 'gzip'); }
    res.setHeader('Content-Type', served.type);
    res.setHeader('Content-Length', String(body.length));
    res.status(200);
    if (req.method === 'HEAD') res.end();
    else res.end(body);
  };
}
