import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { Context, ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import type { BlobStore } from '../store/blobs.js';
import type { ConnectionStore } from '../store/connections.js';
import { connectionFailedData, type CollectionStore } from '../store/collections.js';
import { EventStore } from '../store/events.js';
import type { Db } from '../store/db.js';
import type { SecretStore } from '../store/secrets.js';
import type { SnapshotStore } from '../store/snapshots.js';
import type { RunStepStore } from '../store/run-steps.js';
import type { ConnectorRegistry } from '../connectors/registry.js';
import type { OutboundHttp } from '../connectors/http-client.js';
import { ConnectorError } from '../connectors/errors.js';
import { openSession } from '../connectors/session.js';
import { datasetsOf, type JsonValue, type Page } from '../connectors/types.js';
import type { Logger } from '../lib/logger.js';
import { newId } from '../lib/ids.js';

export interface CollectDatasetInput {
  workspaceId: string;
  connectionId: string;
  dataset: string;
  /** Unique per collection and dataset: the same key on a retry finds the same snapshot. */
  collectionKey: string;
  /** The run this collection is a step of (absent for ad-hoc collections and older runs). */
  runId?: string;
}

export interface SnapshotRef {
  id: string;
  dataset: string;
  record_count: number;
  sha256: string;
  bytes: number;
  collected_at: string;
}

/**
 * Progress carried in heartbeat details: the pages already stored as part blobs and the
 * cursor after them. A retried attempt (after a worker crash) starts from here, so every
 * record ends up in the snapshot exactly once.
 */
interface Progress {
  cursor: JsonValue | null;
  parts: string[];
  count: number;
  done: boolean;
  since: string | null;
  startedAt: string;
}

/** Records per part blob: a crash costs at most this many records fetched again. */
const PART_RECORDS = 2_000;

export interface CollectDeps {
  connections: ConnectionStore;
  secrets: SecretStore;
  snapshots: SnapshotStore;
  collections: CollectionStore;
  runSteps: RunStepStore;
  db: Db;
  blobs: BlobStore;
  http: OutboundHttp;
  registry: ConnectorRegistry;
  logger: Logger;
  /** Where a collection stops for good (HUB_COLLECTION_MAX_RECORDS, HUB_COLLECTION_DEADLINE). */
  collectionLimits?: CollectionLimits;
}

export interface CollectionLimits {
  maxRecords: number;
  deadlineMs: number;
}

export const DEFAULT_COLLECTION_LIMITS: CollectionLimits = { maxRecords: 5_000_000, deadlineMs: 4 * 3_600_000 };

/** 128 bits of SHA-256: a page's or cursor's identity, small enough to keep many of. */
const digest = (text: string) => createHash('sha256').update(text).digest().subarray(0, 16).toString('base64');

/** Digests remembered exactly (~50 bytes each); past this, long cycles are still caught by Brent's checkpoints. */
const MAX_REMEMBERED = 200_000;

/** Whether a value (a page's or a cursor's digest) came before: exactly for the first MAX_REMEMBERED, in constant memory after. */
class RepeatDetector {
  private readonly seen = new Map<string, number>();
  private checkpoint: string | null = null;
  private checkpointAt = 0;
  private power = 1;

  /** The page where `key` was seen first, if it was. */
  check(key: string, at: number): number | undefined {
    const earlier = this.seen.get(key);
    if (earlier !== undefined) return earlier;
    if (key === this.checkpoint) return this.checkpointAt;
    if (this.seen.size < MAX_REMEMBERED) this.seen.set(key, at);
    else if (at - this.checkpointAt >= this.power) {
      this.checkpoint = key;
      this.checkpointAt = at;
      this.power *= 2;
    }
    return undefined;
  }
}

function hours(ms: number): string {
  return ms >= 3_600_000 ? `${Math.round(ms / 360_000) / 10} h` : ms >= 60_000 ? `${Math.round(ms / 6_000) / 10} min` : `${Math.round(ms / 100) / 10} s`;
}

/**
 * Stops, for good, a collection a source would keep going forever: past the record cap, a
 * `next` cursor or a page (its records, byte for byte) seen before in this attempt, or past
 * the deadline counted from the collection's start (kept across retries). Retrying would
 * only do the same again, so each is a non-retryable failure saying what to change.
 */
function collectionGuard(system: string, dataset: string, limits: CollectionLimits, startedAt: Date, from: JsonValue | null) {
  const cursors = new RepeatDetector();
  const pages = new RepeatDetector();
  if (from !== null) cursors.check(digest(JSON.stringify(from)), 0);
  let pageNumber = 0;
  return {
    deadline(records: number): void {
      const elapsed = Date.now() - startedAt.getTime();
      if (elapsed > limits.deadlineMs) {
        throw ApplicationFailure.nonRetryable(
          `The collection of ${dataset} ran past its deadline of ${hours(limits.deadlineMs)} (HUB_COLLECTION_DEADLINE) with ${records} records read, and was stopped: ${system} is slow or keeps sending pages. Collect fewer records (a narrower dataset or window) or raise HUB_COLLECTION_DEADLINE.`,
          'collection.deadline');
      }
    },
    page(page: Page, lines: string[], records: number): void {
      pageNumber++;
      if (records > limits.maxRecords) {
        throw ApplicationFailure.nonRetryable(
          `The collection of ${dataset} passed the cap of ${limits.maxRecords} records (HUB_COLLECTION_MAX_RECORDS) at page ${pageNumber} and was stopped. If ${system} really holds this many, raise HUB_COLLECTION_MAX_RECORDS; otherwise it keeps sending pages: check the dataset's pagination.`,
          'collection.record_cap');
      }
      if (lines.length > 0) {
        const hash = createHash('sha256');
        for (const line of lines) hash.update(line).update('\n');
        const earlier = pages.check(hash.digest().subarray(0, 16).toString('base64'), pageNumber);
        if (earlier !== undefined) {
          throw ApplicationFailure.nonRetryable(
            `${system} sent the same page again while collecting ${dataset} (page ${pageNumber} repeats page ${earlier} byte for byte), and the collection was stopped: the source ignores the paging parameter or goes round in circles. Check the dataset's pagination settings.`,
            'collection.repeated_page');
        }
      }
      if (page.next !== null) {
        const cursor = JSON.stringify(page.next);
        if (cursors.check(digest(cursor), pageNumber) !== undefined) {
          throw ApplicationFailure.nonRetryable(
            `${system} sent a next cursor it had already sent while collecting ${dataset} (${cursor.length > 120 ? `${cursor.slice(0, 120)}…` : cursor} at page ${pageNumber}), and the collection was stopped: its pagination goes round in circles. Check the dataset's pagination settings.`,
            'collection.repeated_cursor');
        }
      }
      this.deadline(records);
    },
  };
}

function toFailure(err: unknown): never {
  if (err instanceof ConnectorError) {
    throw ApplicationFailure.create({
      message: err.message,
      type: `connector.${err.kind}`,
      nonRetryable: !err.retryable,
      details: [{ kind: err.kind, status: err.details.status ?? null }],
      ...(err.details.retryAfterMs !== undefined ? { nextRetryDelay: Math.max(1, err.details.retryAfterMs) } : {}),
    });
  }
  throw err;
}

export function collectActivities(deps: CollectDeps) {
  /**
   * The snapshot's SHA-256, computed as parts are written so that the final blob needs no
   * second pass; after a crash the stored parts are hashed once to restore it.
   */
  async function snapshotHasher(storedParts: string[]) {
    const hash = createHash('sha256');
    let bytes = 0;
    for (const part of storedParts) {
      for await (const chunk of deps.blobs.stream(part)) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
    }
    return {
      /** One part blob from records already serialised as NDJSON lines. */
      async writePart(lines: string[]): Promise<string> {
        const ndjson = lines.join('\n') + '\n';
        hash.update(ndjson);
        bytes += Buffer.byteLength(ndjson);
        return (await deps.blobs.put(ndjson)).sha256;
      },
      result: () => ({ sha256: hash.digest('hex'), bytes }),
    };
  }

  async function collectOnce(input: CollectDatasetInput): Promise<SnapshotRef> {
    const ctx = Context.current();
    const connection = await deps.connections.get(input.workspaceId, input.connectionId);
    if (!connection) throw ApplicationFailure.nonRetryable(`connection ${input.connectionId} no longer exists`, 'connection.not_found');
    const connector = deps.registry.source(connection.type);
    const dataset = connector ? datasetsOf(connector, connection.config)[input.dataset] : undefined;
    if (!connector || !dataset) throw ApplicationFailure.nonRetryable(`${connection.type} has no dataset ${input.dataset}`, 'dataset.unknown');

    // Incremental datasets read from the cursor of whoever collects: a job's runs their job's,
    // collections on their own (POST /connections/:id/collect) theirs, which moves no job's.
    const workflowId = ctx.info.workflowExecution?.workflowId;
    const jobId = workflowId ? await deps.collections.jobOfWorkflow(workflowId) : null;
    const resumed = ctx.info.heartbeatDetails as Progress | undefined;
    const progress: Progress = resumed ?? {
      cursor: null,
      parts: [],
      count: 0,
      done: false,
      since: (await deps.collections.cursor(input.workspaceId, input.connectionId, input.dataset, jobId))?.toISOString() ?? null,
      startedAt: new Date().toISOString(),
    };
    const log = deps.logger.child({ connection_id: connection.id, dataset: input.dataset, attempt: ctx.info.attempt });
    if (resumed) log.info({ records: progress.count, parts: progress.parts.length }, 'collection resumes after the last stored page');
    // At once, so that a retry keeps the collection's start (and its deadline) even when this attempt fails before any page.
    else ctx.heartbeat(progress);

    // Every request in flight listens for cancellation.
    setMaxListeners(256, ctx.cancellationSignal);
    const session = await openSession(deps, connector, { owner: { workspaceId: input.workspaceId, type: 'connection', id: connection.id }, config: connection.config }, {
      log, signal: ctx.cancellationSignal, heartbeat: () => ctx.heartbeat(progress), sleep: (ms) => ctx.sleep(ms),
    }).catch(toFailure);

    const hasher = await snapshotHasher(progress.parts);
    // A connector waiting out a long rate-limit window is alive: keep saying so, with the
    // progress as it stands (always a consistent set of stored parts and the cursor after them).
    const alive = setInterval(() => ctx.heartbeat({ ...progress, parts: [...progress.parts] }), 2_000);
    const limits = deps.collectionLimits ?? DEFAULT_COLLECTION_LIMITS;
    const guard = collectionGuard(connector.name, input.dataset, limits, new Date(progress.startedAt), progress.cursor);
    try {
      let buffer: string[] = [];
      if (!progress.done) {
        guard.deadline(progress.count);
        for await (const page of dataset.pages(session, progress.cursor, { since: progress.since, now: new Date(progress.startedAt) })) {
          const lines = page.records.map((r) => JSON.stringify(r));
          guard.page(page, lines, progress.count + buffer.length + lines.length);
          for (const line of lines) buffer.push(line);
          if (buffer.length >= PART_RECORDS || page.next === null) {
            if (buffer.length) progress.parts.push(await hasher.writePart(buffer));
            progress.count += buffer.length;
            buffer = [];
            progress.cursor = page.next;
            progress.done = page.next === null;
          }
          // Details only ever describe stored parts, so any heartbeat is a safe place to resume.
          ctx.heartbeat(progress);
          if (page.next === null) break;
        }
        if (buffer.length) throw new Error('pages ended without a final page (next: null)');
        progress.done = true;
      }
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'collection attempt failed');
      toFailure(err);
    } finally {
      clearInterval(alive);
    }

    const ref = await deps.blobs.concat(progress.parts, hasher.result());
    const snapshot = await deps.snapshots.record({
      id: newId('snap'),
      workspace_id: input.workspaceId,
      connection_id: connection.id,
      dataset: input.dataset,
      sha256: ref.sha256,
      bytes: ref.bytes,
      record_count: progress.count,
      collected_at: new Date(progress.startedAt),
      metadata: { connector: connection.type, since: progress.since, job_id: jobId, attempts: ctx.info.attempt, parts: progress.parts.length, format: 'ndjson' },
      collection_key: input.collectionKey,
    });
    // The next collection by the same collector starts where this one started.
    await deps.collections.advanceCursor(input.workspaceId, connection.id, input.dataset, jobId, snapshot.collected_at);
    log.info({ records: snapshot.record_count, sha256: snapshot.sha256 }, 'snapshot stored');
    return { id: snapshot.id, dataset: snapshot.dataset, record_count: snapshot.record_count, sha256: snapshot.sha256, bytes: snapshot.bytes, collected_at: snapshot.collected_at.toISOString() };
  }

  return {
    /** Collects one dataset into a snapshot; for a run, as its step `collect <dataset>`. */
    async collectDataset(input: CollectDatasetInput): Promise<SnapshotRef> {
      if (!input.runId) return collectOnce(input);
      const step = `collect ${input.dataset}`;
      await deps.runSteps.begin(input.runId, step, 1);
      try {
        const snapshot = await collectOnce(input);
        await deps.runSteps.end(input.runId, step, { status: 'succeeded', snapshotIds: [snapshot.id], detail: `${snapshot.record_count} record${snapshot.record_count === 1 ? '' : 's'}` });
        return snapshot;
      } catch (err) {
        // A retry sets it running again; the last failure stays when retries run out.
        await deps.runSteps.end(input.runId, step, { status: err instanceof CancelledFailure ? 'cancelled' : 'failed', detail: err instanceof Error ? err.message : String(err) });
        throw err;
      }
    },

    /**
     * A job run's collection failed for good: connection.failed (ad-hoc collections emit it
     * when they finish). Once per run, however often the activity is retried.
     */
    async recordConnectionFailed(input: { workspaceId: string; connectionId: string; runId: string; datasets: string[]; error: string }): Promise<void> {
      const connection = await deps.connections.get(input.workspaceId, input.connectionId);
      await deps.db.transaction(async (tx) => {
        const events = new EventStore(tx);
        if (await events.existsForRun(input.workspaceId, 'connection.failed', input.runId)) return;
        await events.record({
          workspaceId: input.workspaceId,
          type: 'connection.failed',
          data: connectionFailedData({ connection_id: input.connectionId, connection_type: connection?.type ?? null, collectionId: null, runId: input.runId, datasets: input.datasets, error: input.error }),
        });
      });
    },

    async finishCollection(input: { collectionId: string; status: 'succeeded' | 'failed'; snapshotIds: string[]; error?: string }): Promise<void> {
      await deps.collections.finish(input.collectionId, input);
    },
  };
}
