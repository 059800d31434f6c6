import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { BlobStore } from './blobs.js';

/** Streams a snapshot's records (gzip NDJSON) one at a time, never holding the whole dataset. */
export async function* snapshotRecords(blobs: BlobStore, sha256: string): AsyncGenerator<unknown> {
  for await (const line of snapshotLines(blobs, sha256)) yield JSON.parse(line) as unknown;
}

/** The non-empty NDJSON lines of a blob, unparsed. */
async function* snapshotLines(blobs: BlobStore, sha256: string): AsyncGenerator<string> {
  const lines = createInterface({ input: blobs.stream(sha256), crlfDelay: Infinity });
  for await (const line of lines) if (line) yield line;
}

/**
 * Every line of a part blob, read to its end (a part holds PART_RECORDS records at most; a
 * stream left unread would keep its file open).
 */
export async function partLines(blobs: BlobStore, sha256: string): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of snapshotLines(blobs, sha256)) lines.push(line);
  return lines;
}

/**
 * Records per part in a snapshot's part index. The same size as the part blobs a collection
 * writes (activities/collect.ts), so when a source's pages add up to exactly that many records
 * the index is made of the collection's own parts and paging stores nothing new.
 */
export const PART_RECORDS = 2_000;

/**
 * Cuts a snapshot into part blobs of PART_RECORDS records (the last one shorter), in one
 * streaming pass, and returns their SHA-256s in order: part `i` holds records
 * `i * PART_RECORDS …`. A part is stored only when the blob store does not hold that content
 * already; each part's content is exactly the lines of the snapshot it covers, so the result
 * depends on the snapshot's content alone and is the same in every process.
 */
export async function snapshotParts(blobs: BlobStore, sha256: string): Promise<string[]> {
  const parts: string[] = [];
  let lines: string[] = [];
  const flush = async () => {
    const content = lines.join('\n') + '\n';
    lines = [];
    let part = createHash('sha256').update(content).digest('hex');
    if (!(await blobs.has(part))) part = (await blobs.put(content)).sha256;
    parts.push(part);
  };
  for await (const line of snapshotLines(blobs, sha256)) {
    lines.push(line);
    if (lines.length === PART_RECORDS) await flush();
  }
  if (lines.length) await flush();
  return parts;
}

/** All records of a snapshot as an array (for evaluation, which needs the whole dataset). */
export async function loadSnapshot(blobs: BlobStore, sha256: string): Promise<unknown[]> {
  const records: unknown[] = [];
  for await (const record of snapshotRecords(blobs, sha256)) records.push(record);
  return records;
}
