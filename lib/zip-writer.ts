import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';

/** One file of the archive: its path and the size and SHA-256 of its (uncompressed) content. */
export interface ZipEntryDigest {
  path: string;
  size: number;
  sha256: string;
}

export interface ZipWriterOptions {
  /** How many entries may wait inside yazl at once (default 32). */
  window?: number;
  /** The modification time every entry carries (default: now). */
  mtime?: Date;
}

/** Counts and hashes what passes through. */
class Digester extends Transform {
  private readonly hash = createHash('sha256');
  size = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    done(null, chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * Text as a Buffer of its own. Small Buffers normally share Node's 8 KB allocation pool, and
 * yazl keeps a small Buffer of each entry's file name (from that pool) until the end: a content
 * Buffer from the same pool would keep the pool alive with it, i.e. roughly the whole content
 * of a package of many small files.
 */
function ownBuffer(content: string | Buffer): Buffer {
  if (Buffer.isBuffer(content)) return content;
  const buffer = Buffer.allocUnsafeSlow(Buffer.byteLength(content));
  buffer.write(content);
  return buffer;
}

function onceReadable(buffer: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) this.push(buffer);
      sent = true;
      this.push(null);
    },
  });
}

/**
 * The function yazl calls when it reaches an entry. yazl keeps it until the archive ends,
 * so it lets go of everything (the content, the promise callbacks) once called, and it is
 * made here rather than inside a method so that it holds no method's variables either:
 * what a finished entry costs is yazl's own record of it.
 */
function lazySource(open: () => Readable, resolve: () => void, reject: (err: Error) => void, fail: (err: Error) => void) {
  let slot: { open: () => Readable; resolve: () => void; reject: (err: Error) => void; fail: (err: Error) => void } | null = { open, resolve, reject, fail };
  return (callback: (err: unknown, stream: NodeJS.ReadableStream) => void): void => {
    const entry = slot!;
    slot = null;
    let source: Readable;
    try {
      source = entry.open();
    } catch (err) {
      entry.reject(err as Error);
      entry.fail(err as Error);
      return;
    }
    source.once('end', entry.resolve);
    source.once('error', entry.reject);
    callback(null, source);
  };
}

/**
 * Writes a ZIP (yazl: deflate, ZIP64 where needed) to a file as a stream, measuring each
 * entry's size and SHA-256 on the way in and the archive's on the way out, so that nothing
 * is read back and nothing large is held in memory:
 *
 * - yazl writes entries one after another; at most `window` of them wait for their turn
 *   (an entry's source ends when yazl has read it), so adding faster than the disk takes
 *   them simply waits;
 * - yazl keeps each entry's pump function until the archive ends, so an entry's content is
 *   created only when yazl asks for it and is not referenced after that.
 */
export class StreamingZipWriter {
  private readonly zip = new yazl.ZipFile();
  private readonly output = new Digester();
  private readonly written: Promise<void>;
  private readonly waiting: Promise<void>[] = [];
  private readonly window: number;
  private readonly mtime: Date;
  private failure: Error | null = null;
  /** Callers waiting for an entry; told at once when the archive fails (the entry then never ends). */
  private readonly waiters = new Set<(err: Error) => void>();
  private count = 0;
  private readonly failWith = (err: Error) => this.fail(err);

  constructor(readonly filePath: string, options: ZipWriterOptions = {}) {
    this.window = options.window ?? 32;
    this.mtime = options.mtime ?? new Date();
    this.zip.on('error', this.failWith);
    // A large write buffer: yazl writes many small pieces (headers, descriptors).
    this.written = pipeline(this.zip.outputStream, this.output, createWriteStream(filePath, { highWaterMark: 1 << 20 }));
    this.written.catch(this.failWith);
  }

  /** How many entries have been added. */
  get entries(): number {
    return this.count;
  }

  /** Adds a file whose content is at hand (small files: JSON documents). */
  async addContent(path: string, content: string | Buffer): Promise<ZipEntryDigest> {
    if (this.failure) throw this.failure;
    const buffer = ownBuffer(content);
    const digest = { path, size: buffer.length, sha256: createHash('sha256').update(buffer).digest('hex') };
    let pending: Buffer | null = buffer;
    const consumed = this.enqueue(path, () => {
      const source = onceReadable(pending!);
      pending = null;
      return source;
    });
    this.waiting.push(consumed);
    if (this.waiting.length >= this.window) await this.settle(this.waiting.shift()!);
    return digest;
  }

  /**
   * Adds a file streamed from `open()`, called when yazl reaches it; resolves with its digest
   * once the whole stream has gone into the archive.
   */
  async addStream(path: string, open: () => Readable | AsyncIterable<Buffer | string>): Promise<ZipEntryDigest> {
    if (this.failure) throw this.failure;
    let digester: Digester | null = null;
    const consumed = this.enqueue(path, () => {
      const opened = open();
      const source = opened instanceof Readable ? opened : Readable.from(opened, { objectMode: false });
      digester = new Digester();
      pipeline(source, digester).catch(this.failWith);
      return digester;
    });
    await this.settle(consumed);
    const measured = digester as Digester | null;
    if (!measured) throw new Error(`zip: ${path} was never read`);
    return { path, size: measured.size, sha256: measured.digest() };
  }

  /** Writes the central directory and closes the file: the archive's size and SHA-256. */
  async finish(): Promise<{ bytes: number; sha256: string }> {
    if (this.failure) throw this.failure;
    while (this.waiting.length) await this.settle(this.waiting.shift()!);
    this.zip.end();
    await this.written;
    if (this.failure) throw this.failure;
    return { bytes: this.output.size, sha256: this.output.digest() };
  }

  /** Stops writing (the caller removes the file). */
  abort(reason: Error = new Error('zip: aborted')): void {
    this.fail(reason);
  }

  private enqueue(path: string, open: () => Readable): Promise<void> {
    this.count++;
    const consumed = new Promise<void>((resolve, reject) => {
      this.zip.addReadStreamLazy(path, { mtime: this.mtime }, lazySource(open, resolve, reject, this.failWith));
    });
    // Waited on later (or never, once the archive has failed): not an unhandled rejection.
    consumed.catch(() => undefined);
    return consumed;
  }

  /** Waits for an entry to be consumed, or for the archive to fail. (Not Promise.race with a
   *  long-lived promise: every race would leave a reaction on it for the archive's lifetime.) */
  private settle(consumed: Promise<void>): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.waiters.add(reject);
      consumed.then(resolve, reject).finally(() => this.waiters.delete(reject));
    });
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const reject of this.waiters) reject(err);
    this.waiters.clear();
    (this.zip.outputStream as Readable).destroy(err);
  }
}
