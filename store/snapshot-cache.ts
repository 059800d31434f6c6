import type { BlobStore } from './blobs.js';
import { loadSnapshot, partLines, snapshotParts } from './snapshot-reader.js';

/**
 * Parsed snapshots kept in memory by content hash, least recently used first out, bounded by
 * the number of records held: an editor previewing on every keystroke re-reads nothing.
 * Content-addressed, so an entry is never stale.
 */
export class SnapshotCache {
  private readonly entries = new Map<string, unknown[]>();
  private held = 0;

  constructor(private readonly blobs: BlobStore, private readonly maxRecords = 500_000) {}

  async records(sha256: string): Promise<unknown[]> {
    const hit = this.entries.get(sha256);
    if (hit) {
      this.entries.delete(sha256);
      this.entries.set(sha256, hit);
      return hit;
    }
    const records = await loadSnapshot(this.blobs, sha256);
    if (records.length <= this.maxRecords) {
      this.entries.set(sha256, records);
      this.held += records.length;
      for (const [key, value] of this.entries) {
        if (this.held <= this.maxRecords) break;
        this.entries.delete(key);
        this.held -= value.length;
      }
    }
    return records;
  }
}

/** A position in a snapshot: record `offset` of part `part` (parts of PART_RECORDS records). */
export interface SnapshotPosition {
  part: number;
  offset: number;
}

/**
 * Pages through snapshots by seeking: each snapshot's part index (see snapshotParts) is built
 * once per process, with one pass over the snapshot, and kept here, least recently used first
 * out, bounded by the number of parts held; a page then reads only the part blob(s) it covers.
 */
export class SnapshotPager {
  private readonly indexes = new Map<string, string[]>();
  private readonly building = new Map<string, Promise<string[]>>();
  private held = 0;

  constructor(private readonly blobs: BlobStore, private readonly maxParts = 50_000) {}

  /** Up to `limit` records from `from`, and the position after them (null when none follow). */
  async page(sha256: string, from: SnapshotPosition, limit: number): Promise<{ records: unknown[]; next: SnapshotPosition | null }> {
    const parts = await this.parts(sha256);
    const records: unknown[] = [];
    let { part, offset } = from;
    while (records.length < limit && part < parts.length) {
      const lines = await partLines(this.blobs, parts[part]!);
      const taken = lines.slice(offset, offset + limit - records.length);
      for (const line of taken) records.push(JSON.parse(line));
      offset += taken.length;
      if (offset >= lines.length) {
        part++;
        offset = 0;
      }
    }
    return { records, next: part < parts.length ? { part, offset } : null };
  }

  /** The snapshot's part blobs, in order. */
  async parts(sha256: string): Promise<string[]> {
    const hit = this.indexes.get(sha256);
    if (hit) {
      this.indexes.delete(sha256);
      this.indexes.set(sha256, hit);
      return hit;
    }
    let pending = this.building.get(sha256);
    if (!pending) {
      pending = snapshotParts(this.blobs, sha256)
        .then((parts) => {
          this.keep(sha256, parts);
          return parts;
        })
        .finally(() => this.building.delete(sha256));
      this.building.set(sha256, pending);
    }
    return pending;
  }

  private keep(sha256: string, parts: string[]): void {
    if (parts.length > this.maxParts || this.indexes.has(sha256)) return;
    this.indexes.set(sha256, parts);
    this.held += parts.length;
    for (const [key, value] of this.indexes) {
      if (this.held <= this.maxParts) break;
      this.indexes.delete(key);
      this.held -= value.length;
    }
  }
}
