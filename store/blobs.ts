import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable, Transform, pipeline as streamPipeline } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip, gzipSync } from 'node:zlib';

/** A blob that is not in the store (deleted, lost with a disk) or cannot be read (corrupt). */
export class BlobUnreadable extends Error {
  constructor(readonly sha256: string, cause: NodeJS.ErrnoException) {
    super(cause.code === 'ENOENT' ? `blob ${sha256} is missing from the blob store` : `blob ${sha256} cannot be read: ${cause.message}`, { cause });
    this.name = 'BlobUnreadable';
  }
}

export interface BlobRef {
  /** SHA-256 (hex) of the uncompressed content: the blob's name. */
  sha256: string;
  /** Uncompressed size. */
  bytes: number;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Content-addressed blob store: each blob is stored once, gzip-compressed, under its
 * SHA-256. Writes stream through a temporary file and an atomic rename, so a crash never
 * leaves a half-written blob under a valid name, and a large snapshot is never held in memory.
 * Content that is compressed already (an evidence package's ZIP) is written by its producer
 * into a temporary file of the store and adopted as it is, by the same rename: written once,
 * not compressed again. Readers see the uncompressed content either way.
 */
export class BlobStore {
  constructor(private readonly root: string) {}

  static async open(root: string): Promise<BlobStore> {
    await mkdir(path.join(root, 'tmp'), { recursive: true });
    return new BlobStore(root);
  }

  private pathOf(sha256: string): string {
    return `${this.rawPathOf(sha256)}.gz`;
  }

  /** Where a blob stored as it is (adopted, not compressed) lives. */
  private rawPathOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return path.join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  /**
   * A fresh path in the store's own temporary directory (the same file system as the blobs),
   * for a file that `adopt` will turn into a blob. The caller removes it if it never does.
   */
  tempPath(suffix = ''): string {
    return path.join(this.root, 'tmp', `${Date.now()}-${randomBytes(6).toString('hex')}${suffix}`);
  }

  /**
   * Makes `file` (written under `tempPath()`, its SHA-256 and size measured by the writer)
   * the blob `ref`, stored as it is, by an atomic rename: no byte is copied. The size is
   * checked; the hash is the writer's word, as it measured every byte it wrote.
   */
  async adopt(file: string, ref: BlobRef): Promise<BlobRef> {
    const target = this.rawPathOf(ref.sha256);
    const { size } = await stat(file);
    if (size !== ref.bytes) throw new Error(`blob ${ref.sha256}: the file has ${size} bytes, not ${ref.bytes}`);
    await mkdir(path.dirname(target), { recursive: true });
    await rename(file, target);
    return { sha256: ref.sha256, bytes: ref.bytes };
  }

  /** Removes a blob (in whichever form it is stored); removing one that is not there is no error. */
  async delete(sha256: string): Promise<void> {
    await rm(this.rawPathOf(sha256), { force: true });
    await rm(this.pathOf(sha256), { force: true });
  }

  async put(content: Buffer | string): Promise<BlobRef> {
    return this.putStream(Readable.from([Buffer.from(content)]));
  }

  async putStream(source: AsyncIterable<Buffer | string> | Readable): Promise<BlobRef> {
    const hash = createHash('sha256');
    let bytes = 0;
    const measure = new Transform({
      transform(chunk: Buffer | string, _enc, done) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        hash.update(buf);
        bytes += buf.length;
        done(null, buf);
      },
    });
    const tmp = path.join(this.root, 'tmp', `${Date.now()}-${randomBytes(6).toString('hex')}.gz`);
    try {
      const input = source instanceof Readable ? source : Readable.from(source);
      await pipeline(input, measure, createGzip({ level: 6 }), createWriteStream(tmp));
      const sha256 = hash.digest('hex');
      const target = this.pathOf(sha256);
      await mkdir(path.dirname(target), { recursive: true });
      await rename(tmp, target);
      return { sha256, bytes };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /**
   * One blob whose content is the blobs' contents in order. gzip members concatenate into a
   * valid gzip stream, so the compressed parts are copied as they are (no recompression).
   * A caller that hashed the content as it went passes `known`; otherwise the parts are
   * decompressed once to hash the whole.
   */
  async concat(parts: string[], known?: BlobRef): Promise<BlobRef> {
    const hash = createHash('sha256');
    let bytes = 0;
    const tmp = path.join(this.root, 'tmp', `${Date.now()}-${randomBytes(6).toString('hex')}.gz`);
    try {
      const sources = parts.map((part) => this.pathOf(part));
      // One pipeline for all the parts: a pipeline per part into the same file (with
      // `end: false`) left each one's listeners on it until it closed, past Node's warning
      // threshold for a collection of more than ten parts.
      async function* content(): AsyncGenerator<Buffer> {
        for (const source of sources) {
          yield* createReadStream(source);
          if (known) continue;
          for await (const chunk of createReadStream(source).pipe(createGunzip())) {
            hash.update(chunk as Buffer);
            bytes += (chunk as Buffer).length;
          }
        }
        if (sources.length === 0) yield gzipSync(Buffer.alloc(0));
      }
      await pipeline(content, createWriteStream(tmp));
      const ref = known ?? { sha256: hash.digest('hex'), bytes };
      const target = this.pathOf(ref.sha256);
      await mkdir(path.dirname(target), { recursive: true });
      await rename(tmp, target);
      return ref;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async has(sha256: string): Promise<boolean> {
    for (const file of [this.pathOf(sha256), this.rawPathOf(sha256)]) {
      try {
        await stat(file);
        return true;
      } catch {
        // not in this form
      }
    }
    return false;
  }

  /**
   * The uncompressed content as a stream. A blob that is missing or unreadable errors this
   * stream (BlobUnreadable), never the process: `.pipe()` would leave the file's error unhandled.
   */
  stream(sha256: string): Readable {
    const raw = this.rawPathOf(sha256);
    const stored = existsSync(raw);
    if (!stored && !existsSync(this.pathOf(sha256))) {
      const missing = new PassThrough();
      process.nextTick(() => missing.destroy(new BlobUnreadable(sha256, Object.assign(new Error('no such file'), { code: 'ENOENT' }))));
      return missing;
    }
    const out = stored ? new PassThrough() : createGunzip();
    // pipeline, not pipe: a file error reaches the reader, and a reader that stops early closes the file.
    streamPipeline(createReadStream(stored ? raw : this.pathOf(sha256)), out, () => undefined);
    return out;
  }

  async get(sha256: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.stream(sha256)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
}
