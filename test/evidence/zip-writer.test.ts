import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { canonicalJson } from '../../lib/canonical-json.js';
import { FileListHasher, fileListHash, manifestChunks } from '../../lib/package-manifest.js';
import { StreamingZipWriter } from '../../lib/zip-writer.js';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

function readZip(file: string): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('no zip'));
      const files = new Map<string, Buffer>();
      zip.on('error', reject);
      zip.on('end', () => resolve(files));
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (openErr, stream) => {
          if (openErr || !stream) return reject(openErr ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            files.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

describe('StreamingZipWriter', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'zip-writer-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('writes every entry in order with the size and SHA-256 of its content, and the archive’s own', async () => {
    const file = path.join(dir, 'ok.zip');
    const zip = new StreamingZipWriter(file, { window: 4 });
    const digests = [];
    for (let i = 0; i < 50; i++) digests.push(await zip.addContent(`items/${i}.json`, JSON.stringify({ i, text: 'é'.repeat(i) })));
    const big = Array.from({ length: 2_000 }, (_, i) => `{"line":${i}}\n`);
    digests.push(await zip.addStream('big.ndjson', () => Readable.from(big)));
    const archive = await zip.finish();

    const bytes = await readFile(file);
    expect(archive).toEqual({ bytes: (await stat(file)).size, sha256: sha256(bytes) });
    const files = await readZip(file);
    expect([...files.keys()]).toEqual(digests.map((d) => d.path));
    for (const digest of digests) {
      expect(files.get(digest.path)!.length).toBe(digest.size);
      expect(sha256(files.get(digest.path)!)).toBe(digest.sha256);
    }
    expect(files.get('big.ndjson')!.toString()).toBe(big.join(''));
  });

  it('a source that fails fails the archive instead of hanging', async () => {
    const zip = new StreamingZipWriter(path.join(dir, 'broken.zip'));
    await zip.addContent('first.json', '{}');
    const failing = zip.addStream('broken.ndjson', () => new Readable({ read() { this.destroy(new Error('the disk went away')); } }));
    await expect(failing).rejects.toThrow('the disk went away');
    await expect(zip.addContent('after.json', '{}')).rejects.toThrow('the disk went away');
    await expect(zip.finish()).rejects.toThrow();
  });
});

describe('package manifest', () => {
  const files = [
    { path: 'evidence/ev_1.json', size: 10, sha256: 'a'.repeat(64) },
    { path: 'snapshots/snap_1.ndjson', size: 2_000_000, sha256: 'b'.repeat(64) },
  ];

  it('the verification hash is the SHA-256 of the canonical JSON of the file list, however it is fed', () => {
    const hasher = new FileListHasher();
    for (const f of files) hasher.add(f);
    expect(hasher.digest()).toBe(sha256(canonicalJson(files)));
    expect(fileListHash([])).toBe(sha256('[]'));
  });

  it('is written in pieces that make one JSON document', () => {
    const header = { format: 'x', package: { id: 'pkg_1', generated_at: new Date('2026-01-01T00:00:00Z') } };
    expect(JSON.parse([...manifestChunks(header, files)].join(''))).toEqual({ format: 'x', package: { id: 'pkg_1', generated_at: '2026-01-01T00:00:00.000Z' }, files });
    expect(JSON.parse([...manifestChunks(header, [])].join('')).files).toEqual([]);
    expect(JSON.parse([...manifestChunks({}, files)].join(''))).toEqual({ files });
  });
});
