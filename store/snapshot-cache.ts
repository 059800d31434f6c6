import type { BlobStore } from './blobs.js';
import { loadSnapshot } from './snapshot-reader.js';

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
