import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BlobStore } from '../../store/blobs.js';
import { SnapshotPager } from '../../store/snapshot-cache.js';
import { PART_RECORDS, partLines } from '../../store/snapshot-reader.js';

/** A snapshot stored the way a collection stores it: part blobs concatenated into one. */
async function storeSnapshot(blobs: BlobStore, total: number, partSize: number): Promise<string> {
  const parts: string[] = [];
  for (let from = 0; from < total; from += partSize) {
    const records = Array.from({ length: Math.min(partSize, total - from) }, (_, i) => JSON.stringify({ n: from + i }));
    parts.push((await blobs.put(records.join('\n') + '\n')).sha256);
  }
  return (await blobs.concat(parts)).sha256;
}

describe('SnapshotPager', () => {
  let dir: string;
  let blobs: BlobStore;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hub-pager-'));
    blobs = await BlobStore.open(dir);
  });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('cuts a snapshot whose collection parts are not 2000 records into 2000-record parts, the same in every process', async () => {
    const sha = await storeSnapshot(blobs, 7_000, 2_100); // pages of 300 make 2100-record collection parts
    const pager = new SnapshotPager(blobs);
    const parts = await pager.parts(sha);
    expect(parts).toHaveLength(4);
    expect(await Promise.all(parts.map(async (p) => (await partLines(blobs, p)).length))).toEqual([PART_RECORDS, PART_RECORDS, PART_RECORDS, 1_000]);
    // Another process (another pager) finds the same parts, so its cursors mean the same records.
    const put = vi.spyOn(blobs, 'put');
    expect(await new SnapshotPager(blobs).parts(sha)).toEqual(parts);
    expect(put).not.toHaveBeenCalled(); // already stored
    put.mockRestore();

    const seen: number[] = [];
    let at: { part: number; offset: number } | null = { part: 0, offset: 0 };
    while (at) {
      const page: Awaited<ReturnType<SnapshotPager['page']>> = await pager.page(sha, at, 777);
      seen.push(...(page.records as { n: number }[]).map((r) => r.n));
      at = page.next;
    }
    expect(seen).toEqual(Array.from({ length: 7_000 }, (_, i) => i));
  });

  it('builds an index once for concurrent readers, and pages an empty snapshot', async () => {
    const sha = await storeSnapshot(blobs, 4_500, 500);
    const pager = new SnapshotPager(blobs);
    const reads = vi.spyOn(blobs, 'stream');
    await Promise.all([pager.parts(sha), pager.parts(sha), pager.page(sha, { part: 1, offset: 0 }, 10)]);
    expect(reads.mock.calls.filter(([s]) => s === sha)).toHaveLength(1);
    reads.mockRestore();

    const empty = (await blobs.concat([])).sha256;
    expect(await pager.page(empty, { part: 0, offset: 0 }, 50)).toEqual({ records: [], next: null });
  });

  it('keeps part indexes least recently used first out, bounded by the parts held', async () => {
    const a = await storeSnapshot(blobs, 4_000, 2_000); // 2 parts
    const b = await storeSnapshot(blobs, 4_001, 2_000); // 3 parts
    const c = await storeSnapshot(blobs, 2_000, 2_000); // 1 part
    const pager = new SnapshotPager(blobs, 4);
    await pager.parts(a);
    await pager.parts(c);
    await pager.parts(a); // a is now the most recently used
    await pager.parts(b); // 2 + 1 + 3 parts > 4: c (least recently used) goes, then a, as 2 + 3 > 4 still
    const reads = vi.spyOn(blobs, 'stream');
    await pager.parts(b);
    expect(reads).not.toHaveBeenCalled();
    await pager.parts(a);
    await pager.parts(c);
    expect(reads.mock.calls.map(([s]) => s)).toEqual([a, c]);
    reads.mockRestore();
  });
});
