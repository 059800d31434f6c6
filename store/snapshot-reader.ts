import { createInterface } from 'node:readline';
import type { BlobStore } from './blobs.js';

/** Streams a snapshot's records (gzip NDJSON) one at a time, never holding the whole dataset. */
export async function* snapshotRecords(blobs: BlobStore, sha256: string): AsyncGenerator<unknown> {
  const lines = createInterface({ input: blobs.stream(sha256), crlfDelay: Infinity });
  for await (const line of lines) if (line) yield JSON.parse(line) as unknown;
}

/** Records `offset … offset + limit` of a snapshot, and whether more follow. */
export async function snapshotPage(blobs: BlobStore, sha256: string, offset: number, limit: number): Promise<{ records: unknown[]; more: boolean }> {
  const records: unknown[] = [];
  let index = 0;
  for await (const record of snapshotRecords(blobs, sha256)) {
    if (index++ < offset) continue;
    if (records.length === limit) return { records, more: true };
    records.push(record);
  }
  return { records, more: false };
}

/** All records of a snapshot as an array (for evaluation, which needs the whole dataset). */
export async function loadSnapshot(blobs: BlobStore, sha256: string): Promise<unknown[]> {
  const records: unknown[] = [];
  for await (const record of snapshotRecords(blobs, sha256)) records.push(record);
  return records;
}
