/**
 * A preview thread: reads snapshots, compiles and evaluates rules off the API's event loop.
 * The API process keeps answering while a preview parses a large snapshot or runs a slow
 * rule; a preview past its deadline is stopped by terminating its thread.
 */
import { workerData } from 'node:worker_threads';
import { compareEvaluations, compileRules, evaluate, failingRecordsOf, type CompiledMapping } from '../../mappings/engine.js';
import { canonicalSha256 } from '../../lib/canonical-json.js';
import { BlobStore } from '../../store/blobs.js';
import { SnapshotCache } from '../../store/snapshot-cache.js';
import type { PreviewOutcome, PreviewTask } from './task.js';

const { blobRoot, cacheRecords } = workerData as { blobRoot: string; cacheRecords: number };
const cache = new SnapshotCache(new BlobStore(blobRoot), cacheRecords);
/** Compiled rule sets by content: an editor previews the same rules on every keystroke. */
const compiled = new Map<string, CompiledMapping>();

function compile(rules: unknown[]): CompiledMapping {
  const key = canonicalSha256(rules);
  let mapping = compiled.get(key);
  if (!mapping) {
    mapping = compileRules({ rules });
    if (compiled.size >= 32) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, mapping);
  }
  return mapping;
}

class Cancelled extends Error {}

/** Paging a rule's failing records reads all of them, not the payload's capped list. */
const EVERY_RECORD = 10_000_000;
/** Records per assertion that a comparison tells apart (past it, flips are not listed). */
const COMPARED_RECORDS = 100_000;

export default async function preview(task: PreviewTask): Promise<PreviewOutcome> {
  const progress = new Int32Array(task.progress);
  Atomics.store(progress, 0, -1);
  const cancelled = () => Atomics.load(progress, 1) === 1;
  const data: Record<string, unknown> = { ...task.data };
  for (const snapshot of task.snapshots ?? []) {
    if (cancelled()) return { kind: 'cancelled' };
    try {
      data[snapshot.dataset] = await cache.records(snapshot.sha256);
    } catch (err) {
      return { kind: 'unreadable', message: `the ${snapshot.dataset} snapshot could not be read: ${(err as Error).message}` };
    }
  }
  const run = (rules: unknown[], maxListItems?: number) => evaluate(compile(rules), data, {
    now: new Date(task.nowMs),
    maxListItems,
    onRule: (index) => {
      if (cancelled()) throw new Cancelled();
      Atomics.store(progress, 0, index);
    },
  });
  let answer: unknown;
  try {
    if (task.failing) {
      const { ruleId, offset, limit } = task.failing;
      const rule = task.rules.filter((r) => (r as { id?: unknown }).id === ruleId);
      const item = run(rule, EVERY_RECORD).evidence[0];
      const records = item ? failingRecordsOf(item) : [];
      answer = { rule_id: ruleId, result: item?.result ?? null, total: records.length, offset, records: records.slice(offset, offset + limit) };
    } else {
      const result = run(task.rules);
      answer = task.compareRules
        ? { ...result, comparison: compareEvaluations(run(task.compareRules, COMPARED_RECORDS), run(task.rules, COMPARED_RECORDS)) }
        : result;
    }
  } catch (err) {
    if (err instanceof Cancelled) return { kind: 'cancelled' };
    throw err;
  }
  const json = JSON.stringify(answer);
  const bytes = Buffer.byteLength(json);
  return bytes > task.maxResponseBytes ? { kind: 'too_large', bytes } : { kind: 'ok', json };
}
