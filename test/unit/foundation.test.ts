import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FixedWindowRateLimiter } from '../../api/rate-limit.js';
import { loadConfig } from '../../config.js';
import { canonicalJson } from '../../lib/canonical-json.js';
import { ConfigError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { createLogger } from '../../lib/logger.js';
import { redactUrl } from '../../lib/redact.js';
import { BlobStore } from '../../store/blobs.js';
import { openPglite } from '../../store/db.js';
import { migrate } from '../../store/migrate.js';
import { migrations } from '../../store/migrations/index.js';

describe('config', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8080, rateLimitPerMinute: 300, allowPrivateNetworks: false, databaseUrl: null, jsonBodyLimitBytes: 1048576 });
    expect(config.temporal).toMatchObject({ address: null, namespace: 'default' });
    expect(config.dataDir).toBe(path.resolve('./data'));
  });

  it('rejects bad values with one readable line', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ HUB_RATE_LIMIT_PER_MINUTE: '0' })).toThrow(/HUB_RATE_LIMIT_PER_MINUTE/);
    expect(() => loadConfig({ HUB_ALLOW_PRIVATE_NETWORKS: 'maybe' })).toThrow(/true or false/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/postgres/);
    expect(() => loadConfig({ HUB_PUBLIC_URL: 'ftp://x' })).toThrow(/HUB_PUBLIC_URL/);
    expect(loadConfig({ HUB_PUBLIC_URL: 'https://hub.example.com/' }).publicUrl).toBe('https://hub.example.com');
  });
});

describe('log redaction', () => {
  it('never writes secret-looking fields, nested or not', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (l: string) => { lines.push(l); } });
    logger.info({ connection: { name: 'okta', secrets: { api_token: 'SSWS-abc' }, client_secret: 'cs-123', password: 'pw-1' }, headers: { authorization: 'Bearer ehk_zzz', 'x-api-key': 'ehk_yyy' } }, 'configured');
    const out = lines.join('');
    for (const secret of ['SSWS-abc', 'cs-123', 'pw-1', 'ehk_zzz', 'ehk_yyy']) expect(out).not.toContain(secret);
    expect(out).toContain('okta');
    expect(out).toContain('[REDACTED]');
  });

  it('strips credentials from URLs', () => {
    expect(redactUrl('https://user:pw@example.com/x?token=abc&page=2')).toBe('https://user:%5BREDACTED%5D@example.com/x?token=%5BREDACTED%5D&page=2');
    expect(redactUrl('/api/v1/runs/1/status?token=abc')).toBe('/api/v1/runs/1/status?token=%5BREDACTED%5D');
  });
});

describe('rate limiter windows', () => {
  it('resets at the minute boundary', () => {
    let now = 120_000;
    const limiter = new FixedWindowRateLimiter(2, 60_000, () => now);
    expect(limiter.hit('k').allowed).toBe(true);
    expect(limiter.hit('k').allowed).toBe(true);
    const third = limiter.hit('k');
    expect(third).toMatchObject({ allowed: false, remaining: 0, reset: 60 });
    now += 59_500;
    expect(limiter.hit('k')).toMatchObject({ allowed: false, reset: 1 });
    now += 600;
    expect(limiter.hit('k')).toMatchObject({ allowed: true, remaining: 1 });
  });
});

describe('ids and canonical JSON', () => {
  it('ids are unique and sort by creation', () => {
    const ids = Array.from({ length: 1000 }, () => newId('x'));
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual(ids);
  });

  it('canonical JSON sorts keys and is stable', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: null }], e: undefined })).toBe('{"a":[{"c":null,"d":2}],"b":1}');
  });
});

describe('blob store', () => {
  it('names blobs by the sha256 of their content, gzips them and deduplicates', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hub-blobs-'));
    const blobs = await BlobStore.open(dir);
    const content = JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ i })));
    const ref = await blobs.put(content);
    expect(ref.sha256).toBe((await import('node:crypto')).createHash('sha256').update(content).digest('hex'));
    expect(ref.bytes).toBe(Buffer.byteLength(content));
    expect((await blobs.get(ref.sha256)).toString()).toBe(content);
    const file = path.join(dir, ref.sha256.slice(0, 2), ref.sha256.slice(2, 4), `${ref.sha256}.gz`);
    expect(gunzipSync(await (await import('node:fs/promises')).readFile(file)).toString()).toBe(content);
    await blobs.putStream((async function* () { yield content.slice(0, 10); yield content.slice(10); })());
    expect(await readdir(path.join(dir, 'tmp'))).toEqual([]);
    expect(await blobs.has('0'.repeat(64))).toBe(false);
    expect(() => blobs.stream('../../etc/passwd')).toThrow();

    // Concatenated parts: one gzip stream whose content and name are those of the whole.
    const a = await blobs.put('{"a":1}\n');
    const b = await blobs.put('{"b":2}\n');
    const whole = await blobs.concat([a.sha256, b.sha256]);
    expect((await blobs.get(whole.sha256)).toString()).toBe('{"a":1}\n{"b":2}\n');
    expect(whole.sha256).toBe((await import('node:crypto')).createHash('sha256').update('{"a":1}\n{"b":2}\n').digest('hex'));
    expect(await blobs.concat([a.sha256, b.sha256], whole)).toEqual(whole);
    await rm(dir, { recursive: true, force: true });
  });

  it('concatenates a snapshot of many parts without piling listeners on the file it writes', async () => {
    // A 10 000-user collection has more than ten parts: each part's copy used to leave its
    // listeners on the output until it closed (Node printed a MaxListenersExceededWarning).
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hub-blobs-'));
    const blobs = await BlobStore.open(dir);
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const parts = await Promise.all(Array.from({ length: 25 }, (_, i) => blobs.put(`{"part":${i}}\n`)));
      const expected = parts.map((_, i) => `{"part":${i}}\n`).join('');
      for (const known of [undefined, { sha256: (await import('node:crypto')).createHash('sha256').update(expected).digest('hex'), bytes: expected.length }]) {
        const whole = await blobs.concat(parts.map((p) => p.sha256), known);
        expect((await blobs.get(whole.sha256)).toString()).toBe(expected);
      }
      expect((await blobs.get((await blobs.concat([])).sha256)).toString()).toBe('');
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => w.message)).toEqual([]);
      expect(await readdir(path.join(dir, 'tmp'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('migrations', () => {
  it('apply once, in order, and are recorded', async () => {
    const db = await openPglite();
    const versions = migrations.map((m) => m.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(await migrate(db)).toEqual(versions);
    expect(await migrate(db)).toEqual([]);
    const rows = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(versions);
    await db.close();
  });
});
