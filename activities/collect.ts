import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { Context, ApplicationFailure } from '@temporalio/activity';
import type { BlobStore } from '../store/blobs.js';
import type { ConnectionStore } from '../store/connections.js';
import { connectionFailedData, type CollectionStore } from '../store/collections.js';
import { EventStore } from '../store/events.js';
import type { Db } from '../store/db.js';
import type { SecretStore } from '../store/secrets.js';
import type { SnapshotStore } from '../store/snapshots.js';
import type { ConnectorRegistry } from '../connectors/registry.js';
import type { OutboundHttp } from '../connectors/http-client.js';
import { ConnectorError } from '../connectors/errors.js';
import { secretsForConfig } from '../connectors/bound-secrets.js';
import { datasetsOf, type JsonValue } from '../connectors/types.js';
import type { Logger } from '../lib/logger.js';
import { newId } from '../lib/ids.js';

export interface CollectDatasetInput {
  workspaceId: string;
  connectionId: string;
  dataset: string;
  /** Unique per collection and dataset: the same key on a retry finds the same snapshot. */
  collectionKey: string;
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
  db: Db;
  blobs: BlobStore;
  http: OutboundHttp;
  registry: ConnectorRegistry;
  logger: Logger;
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
      async writePart(records: JsonValue[]): Promise<string> {
        const ndjson = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
        hash.update(ndjson);
        bytes += Buffer.byteLength(ndjson);
        return (await deps.blobs.put(ndjson)).sha256;
      },
      result: () => ({ sha256: hash.digest('hex'), bytes }),
    };
  }

  return {
    async collectDataset(input: CollectDatasetInput): Promise<SnapshotRef> {
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

      // Every request in flight listens for cancellation.
      setMaxListeners(256, ctx.cancellationSignal);
      const secrets = await secretsForConfig(deps.secrets, { workspaceId: input.workspaceId, type: 'connection', id: connection.id }, connector, connection.config)
        .catch(toFailure);
      const session = connector.open({
        config: connection.config,
        secrets,
        http: deps.http,
        log,
        signal: ctx.cancellationSignal,
        heartbeat: () => ctx.heartbeat(progress),
        sleep: (ms) => ctx.sleep(ms),
      });

      const hasher = await snapshotHasher(progress.parts);
      // A connector waiting out a long rate-limit window is alive: keep saying so, with the
      // progress as it stands (always a consistent set of stored parts and the cursor after them).
      const alive = setInterval(() => ctx.heartbeat({ ...progress, parts: [...progress.parts] }), 2_000);
      try {
        let buffer: JsonValue[] = [];
        if (!progress.done) {
          for await (const page of dataset.pages(session, progress.cursor, { since: progress.since, now: new Date(progress.startedAt) })) {
            buffer.push(...page.records);
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
