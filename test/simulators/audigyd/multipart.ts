// A streaming multipart/form-data reader (RFC 7578, on RFC 2046's framing)
// for the destination simulators' uploads: AUDIGYD's direct write ("Attach a
// file (multipart, up to 100MB)") and AUDITDEX's evidence submission
// ("Content-Type: multipart/form-data … file: [binary]"). Files are hashed
// and measured as their bytes arrive and kept only when small, so a 100 MB
// upload costs a few chunks of memory, not 100 MB. (busboy is not a
// dependency of the project.)

import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';

export interface MultipartLimits {
  /** A file longer than this rejects the form (`file-too-large`). */
  maxFileBytes: number;
  /** A text field longer than this rejects the form (`field-too-large`). */
  maxFieldBytes: number;
  /** Files up to this size keep their bytes in `content`; longer ones are only hashed and measured. */
  retainFileBytes: number;
}

export interface UploadedFile {
  /** The form field that carried it, e.g. `file`. */
  field: string;
  filename: string;
  contentType: string;
  size: number;
  /** Lower-case hex SHA-256 of the bytes received. */
  sha256: string;
  /** The bytes, when at most `retainFileBytes` long. */
  content?: Buffer;
}

export interface MultipartForm {
  /** Text fields by name (a repeated name keeps its last value). */
  fields: Record<string, string>;
  files: UploadedFile[];
}

export type MultipartRejectionReason = 'file-too-large' | 'field-too-large' | 'malformed';

export type MultipartResult = { form: MultipartForm } | { rejected: MultipartRejectionReason; message: string };

/** The `boundary` parameter of a multipart/form-data Content-Type, if that is what it is. */
export function boundaryOf(contentType: string | undefined): string | undefined {
  if (!contentType || !/^\s*multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const match = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

/**
 * Reads a multipart/form-data body to its end. A form over a limit, or one
 * that breaks the framing, is reported as rejected, and the rest of the body
 * is still read (and discarded) so the client gets the answer.
 */
export async function readMultipartForm(stream: Readable, boundary: string, limits: MultipartLimits): Promise<MultipartResult> {
  const collector = new FormCollector(limits);
  const scanner = new MultipartScanner(boundary, collector);
  let rejection: MultipartRejection | undefined;
  for await (const chunk of stream) {
    if (rejection) continue;
    rejection = attempt(() => scanner.write(chunk as Buffer));
  }
  rejection ??= attempt(() => scanner.end());
  return rejection ? { rejected: rejection.reason, message: rejection.message } : { form: { fields: collector.fields, files: collector.files } };
}

class MultipartRejection extends Error {
  constructor(
    readonly reason: MultipartRejectionReason,
    message: string,
  ) {
    super(message);
  }
}

function attempt(step: () => void): MultipartRejection | undefined {
  try {
    step();
    return undefined;
  } catch (error) {
    if (error instanceof MultipartRejection) return error;
    throw error;
  }
}

/** What the scanner reports, part by part. */
interface PartSink {
  start(headers: Record<string, string>): void;
  data(chunk: Buffer): void;
  end(): void;
}

const CRLF = Buffer.from('\r\n');
const HEADERS_END = Buffer.from('\r\n\r\n');
const DASH = 0x2d;
const MAX_PART_HEADER_BYTES = 16 * 1024;

/**
 * Cuts a multipart body into parts as bytes arrive. Part data is passed on as
 * soon as it cannot be the start of a boundary, so at most a boundary's length
 * of it is held back between chunks.
 */
class MultipartScanner {
  private readonly delimiter: Buffer;
  // The body is scanned as if it began with CRLF, so that the first boundary
  // line looks like every later one: RFC 2046 counts the CRLF before
  // "--boundary" as part of the boundary.
  private pending: Buffer = CRLF;
  private phase: 'preamble' | 'after-boundary' | 'headers' | 'body' | 'epilogue' = 'preamble';

  constructor(
    boundary: string,
    private readonly sink: PartSink,
  ) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
  }

  write(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.step()) {
      // until it needs more bytes
    }
  }

  end(): void {
    if (this.phase !== 'epilogue') throw new MultipartRejection('malformed', 'the body ends before the closing boundary');
  }

  /** Consumes what it can of `pending`; false when it needs more bytes. */
  private step(): boolean {
    switch (this.phase) {
      case 'preamble':
      case 'body':
        return this.scanToBoundary();
      case 'after-boundary':
        return this.scanBoundaryLineEnd();
      case 'headers':
        return this.scanHeaders();
      case 'epilogue':
        this.pending = Buffer.alloc(0);
        return false;
    }
  }

  private scanToBoundary(): boolean {
    const inBody = this.phase === 'body';
    const at = this.pending.indexOf(this.delimiter);
    if (at < 0) {
      const safe = this.pending.length - (this.delimiter.length - 1);
      if (safe > 0) {
        if (inBody) this.sink.data(this.pending.subarray(0, safe));
        this.pending = this.pending.subarray(safe);
      }
      return false;
    }
    if (inBody) {
      if (at > 0) this.sink.data(this.pending.subarray(0, at));
      this.sink.end();
    }
    this.pending = this.pending.subarray(at + this.delimiter.length);
    this.phase = 'after-boundary';
    return true;
  }

  /** After "--boundary": "--" closes the body; else optional transport padding, CRLF, and the next part. */
  private scanBoundaryLineEnd(): boolean {
    if (this.pending.length < 2) return false;
    if (this.pending[0] === DASH && this.pending[1] === DASH) {
      this.phase = 'epilogue';
      return true;
    }
    const lineEnd = this.pending.indexOf(CRLF);
    if (lineEnd < 0) {
      if (this.pending.length > 1024) throw new MultipartRejection('malformed', 'no line break after a boundary');
      return false;
    }
    if (!/^[ \t]*$/.test(this.pending.toString('latin1', 0, lineEnd))) throw new MultipartRejection('malformed', 'unexpected bytes after a boundary');
    this.pending = this.pending.subarray(lineEnd + CRLF.length);
    this.phase = 'headers';
    return true;
  }

  private scanHeaders(): boolean {
    // A part without header lines starts directly with the empty line.
    if (this.pending.subarray(0, CRLF.length).equals(CRLF)) return this.openPart({}, CRLF.length);
    const end = this.pending.indexOf(HEADERS_END);
    if (end < 0) {
      if (this.pending.length > MAX_PART_HEADER_BYTES) throw new MultipartRejection('malformed', `part headers over ${MAX_PART_HEADER_BYTES} bytes`);
      return false;
    }
    return this.openPart(parseHeaderLines(this.pending.toString('utf8', 0, end)), end + HEADERS_END.length);
  }

  private openPart(headers: Record<string, string>, dataStart: number): boolean {
    this.sink.start(headers);
    this.pending = this.pending.subarray(dataStart);
    this.phase = 'body';
    return true;
  }
}

function parseHeaderLines(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** `form-data; name="file"; filename="report.json"` → its name and filename. */
function formDataDisposition(header: string | undefined): { name: string; filename?: string } | undefined {
  if (!header || !/^\s*form-data\s*(;|$)/i.test(header)) return undefined;
  const parameters: Record<string, string> = {};
  for (const [, key = '', quoted, token] of header.matchAll(/;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;]*))/g)) {
    parameters[key.toLowerCase()] = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : (token ?? '');
  }
  const name = parameters['name'];
  if (name === undefined) return undefined;
  const filename = parameters['filename'];
  return filename === undefined ? { name } : { name, filename };
}

type OpenPart =
  | { kind: 'field'; name: string; chunks: Buffer[]; size: number }
  | { kind: 'file'; file: UploadedFile; hash: Hash; retained: Buffer[] | undefined };

/** Turns parts into text fields and hashed files, enforcing the limits as bytes arrive. */
class FormCollector implements PartSink {
  readonly fields: Record<string, string> = {};
  readonly files: UploadedFile[] = [];
  private part: OpenPart | undefined;

  constructor(private readonly limits: MultipartLimits) {}

  start(headers: Record<string, string>): void {
    const disposition = formDataDisposition(headers['content-disposition']);
    if (!disposition) throw new MultipartRejection('malformed', 'a part without "Content-Disposition: form-data; name=…"');
    // RFC 7578 §4.2: a part with a filename is a file; the others are text fields.
    if (disposition.filename === undefined) {
      this.part = { kind: 'field', name: disposition.name, chunks: [], size: 0 };
      return;
    }
    const file: UploadedFile = { field: disposition.name, filename: disposition.filename, contentType: headers['content-type'] ?? 'application/octet-stream', size: 0, sha256: '' };
    this.part = { kind: 'file', file, hash: createHash('sha256'), retained: [] };
  }

  data(chunk: Buffer): void {
    const part = this.part;
    if (part?.kind === 'field') {
      part.size += chunk.length;
      if (part.size > this.limits.maxFieldBytes) throw new MultipartRejection('field-too-large', `field ${part.name} is over ${this.limits.maxFieldBytes} bytes`);
      part.chunks.push(Buffer.from(chunk));
    } else if (part?.kind === 'file') {
      part.file.size += chunk.length;
      if (part.file.size > this.limits.maxFileBytes) throw new MultipartRejection('file-too-large', `file ${part.file.filename} is over ${this.limits.maxFileBytes} bytes`);
      part.hash.update(chunk);
      // Copied: the chunk may be a view of a larger buffer the scanner goes on to slice.
      if (part.retained && part.file.size <= this.limits.retainFileBytes) part.retained.push(Buffer.from(chunk));
      else part.retained = undefined;
    }
  }

  end(): void {
    const part = this.part;
    this.part = undefined;
    if (part?.kind === 'field') {
      this.fields[part.name] = Buffer.concat(part.chunks, part.size).toString('utf8');
    } else if (part?.kind === 'file') {
      part.file.sha256 = part.hash.digest('hex');
      if (part.retained) part.file.content = Buffer.concat(part.retained, part.file.size);
      this.files.push(part.file);
    }
  }
}
