import { ApplicationFailure, Context } from '@temporalio/activity';
import type { BlobStore } from '../store/blobs.js';
import type { Connection, ConnectionStore } from '../store/connections.js';
import type { Evidence, EvidenceStore, SettleOutcome } from '../store/evidence.js';
import type { JobStore } from '../store/jobs.js';
import type { MappingStore } from '../store/mappings.js';
import { NO_COUNTS, type RunCounts, type RunStatus, type RunStore } from '../store/runs.js';
import type { SecretStore } from '../store/secrets.js';
import type { SnapshotStore } from '../store/snapshots.js';
import { loadSnapshot } from '../store/snapshot-reader.js';
import { withHeartbeats } from './heartbeats.js';
import type { ConnectorRegistry } from '../connectors/registry.js';
import type { OutboundHttp } from '../connectors/http-client.js';
import { ConnectorError } from '../connectors/errors.js';
import { secretsForConfig } from '../connectors/bound-secrets.js';
import { mapConcurrent } from '../lib/map-concurrent.js';
import type { DeliveryItem, DeliveryOutcome, DestinationConnector, RunTrace } from '../connectors/types.js';
import { compileRules, evaluate } from '../mappings/engine.js';
import type { Logger } from '../lib/logger.js';
import { newId } from '../lib/ids.js';

export interface RunDeps {
  jobs: JobStore;
  runs: RunStore;
  evidence: EvidenceStore;
  mappings: MappingStore;
  snapshots: SnapshotStore;
  destinations: ConnectionStore;
  secrets: SecretStore;
  blobs: BlobStore;
  http: OutboundHttp;
  registry: ConnectorRegistry;
  logger: Logger;
}

export interface RunPlan {
  runId: string;
  /** Set when the run cannot go ahead (its job or mapping is gone): it has been ended as failed. */
  error?: string;
  workspaceId: string;
  jobId: string;
  connectionId: string;
  datasets: string[];
  mappingId: string;
  mappingVersion: number;
}

type Settle = (id: string, outcome: SettleOutcome) => Promise<void>;

/** A destination with its connector and a session opened for one activity. */
interface OpenDestination {
  destination: Connection;
  connector: DestinationConnector;
  session: unknown;
}

/** Outcomes settled together: fewer transactions, and at most this many items re-sent after a crash. */
const SETTLE_EVERY = 8;

/** Turns a destination's retryable failure into a Temporal retry that honours Retry-After. */
function retryable(err: ConnectorError): never {
  throw ApplicationFailure.create({
    message: err.message,
    type: `destination.${err.kind}`,
    nonRetryable: false,
    ...(err.details.retryAfterMs !== undefined ? { nextRetryDelay: Math.max(1, err.details.retryAfterMs) } : {}),
  });
}

export function runActivities(deps: RunDeps) {
  /**
   * Whether an earlier attempt at this item, whose outcome was never recorded (its worker died
   * between the request and the settle, or the answer never came), delivered it: asked of
   * destinations that cannot deduplicate a second send (DestinationConnector.findDelivered).
   * Null when it did not, or when the destination cannot tell (the item is then sent again:
   * at least once); a retryable failure is thrown to retry the item later.
   */
  async function deliveredEarlier(open: OpenDestination, item: DeliveryItem, target: Record<string, unknown>): Promise<DeliveryOutcome | null> {
    if (!open.connector.findDelivered) return null;
    const log = { evidence_id: item.evidence_id, destination_id: open.destination.id };
    try {
      const found = await open.connector.findDelivered(open.session, item, target);
      if (found) deps.logger.info({ ...log, destination_ids: found.destination_ids }, 'an earlier attempt delivered this item: not sent again');
      return found;
    } catch (err) {
      if (err instanceof ConnectorError && err.retryable) throw err;
      deps.logger.warn({ ...log, err: err instanceof Error ? err.message : String(err) }, 'could not tell whether an earlier attempt delivered this item: sending it again');
      return null;
    }
  }

  /**
   * Delivers one ledger item and settles it; idempotent (a settled item is not sent again).
   * A retryable failure is thrown as the ConnectorError for the caller to turn into a retry.
   * Sessions (with their access tokens) are shared by the items of one activity.
   */
  async function deliverOne(evidence: Evidence, sessions: Map<string, OpenDestination | ConnectorError | null>, settle: Settle): Promise<Evidence['status']> {
    const key = `${evidence.workspace_id}/${evidence.destination_id}`;
    if (!sessions.has(key)) {
      // A destination that cannot be opened (its secrets bound to other URLs) fails each item alike.
      sessions.set(key, await openDestination(evidence.workspace_id, evidence.destination_id)
        .catch((err: unknown) => { if (err instanceof ConnectorError) return err; throw err; }));
    }
    const open = sessions.get(key);
    if (!open) {
      await settle(evidence.id, { status: 'failed', error: 'The destination no longer exists.' });
      return 'failed';
    }
    if (open instanceof ConnectorError) {
      await settle(evidence.id, { status: 'rejected', error: open.message });
      return 'rejected';
    }
    const { connector, session } = open;
    const item: DeliveryItem = {
      evidence_id: evidence.id, rule_id: evidence.rule_id, control_ref: evidence.control_ref, question_match: evidence.question_match,
      question_id: evidence.question_id, title: evidence.title, source: evidence.source, result: evidence.result as DeliveryItem['result'],
      payload: evidence.payload, payload_sha256: evidence.payload_sha256, collected_at: new Date(evidence.collected_at).toISOString(),
      allow_multiple: evidence.allow_multiple, idempotency_key: `evidence-hub:${evidence.identity}`,
    };
    try {
      const target = evidence.target ?? {};
      // `attempts` counts this one: more means an earlier attempt ended with no recorded outcome.
      const outcome = (evidence.attempts > 1 ? await deliveredEarlier(open, item, target) : null) ?? await connector.deliver(session, item, target);
      if (outcome.status === 'delivered') await settle(evidence.id, { status: 'delivered', destinationIds: outcome.destination_ids });
      else if (outcome.status === 'ambiguous') await settle(evidence.id, { status: 'ambiguous', candidates: outcome.candidates, error: outcome.error });
      else await settle(evidence.id, { status: 'rejected', error: outcome.error });
      return outcome.status;
    } catch (err) {
      if (err instanceof ConnectorError && !err.retryable) {
        // Credentials, permissions, a bad hash: the destination will answer the same again.
        const status = err.kind === 'bad_response' ? 'failed' : 'rejected';
        await settle(evidence.id, { status, error: err.message });
        return status;
      }
      throw err;
    }
  }

  /** A destination's connector and an open session on it, or null when either is gone. */
  async function openDestination(workspaceId: string, destinationId: string | null, log: Record<string, string> = {}): Promise<OpenDestination | null> {
    const destination = destinationId ? await deps.destinations.get(workspaceId, destinationId) : null;
    const connector = destination ? deps.registry.destination(destination.type) : undefined;
    if (!destination || !connector) return null;
    const ctx = Context.current();
    const session = connector.open({
      config: destination.config,
      secrets: await secretsForConfig(deps.secrets, { workspaceId, type: 'destination', id: destination.id }, connector, destination.config),
      http: deps.http, log: deps.logger.child({ destination_id: destination.id, ...log }), signal: ctx.cancellationSignal,
      heartbeat: () => ctx.heartbeat(), sleep: (ms) => ctx.sleep(ms),
    });
    return { destination, connector, session };
  }

  /**
   * Delivers the still-pending items among `ids` (each attempt counted), `concurrency` at a
   * time. Outcomes are settled a few at a time (SETTLE_EVERY), each group in one transaction
   * with its events and audit entries: a worker that dies re-sends at most that many items,
   * which the destinations' idempotency identity absorbs (or, where a destination has none,
   * its findDelivered check before an item is sent again).
   */
  async function deliverPending(ids: string[], concurrency: number, onRetryable: (err: ConnectorError) => void): Promise<void> {
    const sessions = new Map<string, OpenDestination | ConnectorError | null>();
    const pending = await deps.evidence.beginAttempts(ids);
    let buffered: (SettleOutcome & { id: string })[] = [];
    const flush = async () => {
      const group = buffered;
      buffered = [];
      await deps.evidence.settleMany(group);
    };
    const settle: Settle = async (id, outcome) => {
      buffered.push({ id, ...outcome });
      if (buffered.length >= SETTLE_EVERY) await flush();
    };
    try {
      await mapConcurrent(pending, concurrency, async (evidence) => {
        try {
          await deliverOne(evidence, sessions, settle);
        } catch (err) {
          if (err instanceof ConnectorError && err.retryable) onRetryable(err);
          else throw err;
        }
      });
    } finally {
      await flush();
    }
  }

  return {
    /** Delivers one item (the push relay's workflow). */
    async deliverEvidence(input: { evidenceId: string }): Promise<Evidence['status']> {
      let failure: ConnectorError | null = null;
      await withHeartbeats(() => deliverPending([input.evidenceId], 1, (err) => { failure = err; }));
      if (failure) retryable(failure);
      return (await deps.evidence.getById(input.evidenceId))?.status ?? 'failed';
    },

    /**
     * Delivers a batch of a run's items, a few at a time: one activity per batch rather than
     * per item keeps Temporal's round trips off the delivery path. Items already settled are
     * skipped, so a retried batch re-sends only what is still pending; when some failed in a
     * retryable way the batch is retried after the longest Retry-After they were given.
     */
    async deliverEvidenceBatch(input: { evidenceIds: string[]; concurrency: number }): Promise<void> {
      const retry: ConnectorError[] = [];
      await withHeartbeats(() => deliverPending(input.evidenceIds, input.concurrency, (err) => retry.push(err)));
      if (retry.length) {
        const wait = Math.max(...retry.map((e) => e.details.retryAfterMs ?? 0));
        retryable(new ConnectorError(retry[0]!.kind, `${retry.length} of ${input.evidenceIds.length} items to retry: ${retry[0]!.message}`, { retryAfterMs: wait > 0 ? wait : undefined }));
      }
    },

    /** Creates (once per workflow) and starts the run, fixing the mapping version it uses. */
    async startRun(input: { workspaceId: string; jobId: string; runId?: string; trigger: string }): Promise<RunPlan> {
      const workflowId = Context.current().info.workflowExecution?.workflowId ?? `run-${input.runId}`;
      const run = await deps.runs.create({ id: input.runId ?? newId('run'), workspaceId: input.workspaceId, jobId: input.jobId, trigger: input.trigger, workflowId });
      const job = await deps.jobs.get(input.workspaceId, input.jobId);
      const set = job ? await deps.mappings.get(input.workspaceId, job.mapping_id) : null;
      if (!job || !set) {
        // Ended here, so that its status URL answers 200 with the reason instead of 202 forever.
        const error = !job ? `The job ${input.jobId} no longer exists.` : `The mapping ${job.mapping_id} of this job no longer exists.`;
        await deps.runs.finish(run.id, { status: 'failed', counts: NO_COUNTS, error });
        return { runId: run.id, error, workspaceId: input.workspaceId, jobId: input.jobId, connectionId: '', datasets: [], mappingId: '', mappingVersion: 0 };
      }
      // A pinned job keeps its version; otherwise the run takes the latest one at its start.
      const version = run.mapping_version ?? job.mapping_version ?? set.latest_version;
      await deps.runs.start(run.id, { id: set.id, version });
      return { runId: run.id, workspaceId: input.workspaceId, jobId: job.id, connectionId: job.connection_id, datasets: job.datasets, mappingId: set.id, mappingVersion: version };
    },

    /** Evaluates the run's mapping version over its snapshots and writes each item to the ledger as pending. */
    async evaluateRun(input: { plan: RunPlan; snapshotIds: string[] }): Promise<string[]> {
      const { plan } = input;
      const run = await deps.runs.getById(plan.runId);
      const job = await deps.jobs.get(plan.workspaceId, plan.jobId);
      const version = await deps.mappings.version(plan.mappingId, plan.mappingVersion);
      if (!run || !job || !version) throw ApplicationFailure.nonRetryable('the run, its job or its mapping version is gone', 'run.inconsistent');
      const snapshots = await deps.snapshots.getMany(plan.workspaceId, input.snapshotIds);
      const data: Record<string, unknown[]> = {};
      const collectedAt: Record<string, Date> = {};
      let collected = 0;
      for (const snapshot of snapshots) {
        data[snapshot.dataset] = await loadSnapshot(deps.blobs, snapshot.sha256);
        collectedAt[snapshot.dataset] = snapshot.collected_at;
        collected += snapshot.record_count;
      }
      await deps.runs.setSnapshots(plan.runId, input.snapshotIds, collected);
      // "now" is the run's start, so a retried evaluation gives byte-identical evidence.
      const result = evaluate(compileRules({ rules: version.rules }), data, { now: run.started_at ?? run.created_at });
      const rows = await deps.evidence.recordMany(result.evidence.map((item) => ({
        id: newId('ev'),
        workspaceId: plan.workspaceId,
        run_id: plan.runId,
        job_id: plan.jobId,
        rule_id: item.rule_id,
        dataset: item.dataset,
        control_ref: item.control_ref,
        question_match: item.question_match ?? null,
        question_id: item.question_id ?? null,
        title: item.title,
        source: item.source,
        result: item.result,
        payload: item.payload,
        payload_sha256: item.payload_sha256,
        collected_at: collectedAt[item.dataset] ?? run.started_at ?? run.created_at,
        allow_multiple: false,
        destination_id: job.destination_id,
        target: job.target,
        identity: `${plan.runId}:${item.rule_id}`,
        // Evidence that could not be evaluated is never sent as if it were an answer.
        ...(item.result === 'error' ? { status: 'failed' as const, error: `The rule could not be evaluated: ${JSON.stringify(item.payload).slice(0, 500)}` } : {}),
      })));
      return rows.filter((row) => row.status === 'pending').map((row) => row.id);
    },

    async markEvidenceFailed(input: { evidenceId: string; error: string }): Promise<void> {
      await deps.evidence.settle(input.evidenceId, { status: 'failed', error: input.error });
    },

    /**
     * Sends the finished run as a trace of its steps to its job's destination, when that
     * destination keeps an activity stream (AgentAudit). Idempotent on the destination's side.
     */
    async exportRunTrace(input: { runId: string }): Promise<'sent' | 'not_supported'> {
      const run = await deps.runs.getById(input.runId);
      const job = run?.job_id ? await deps.jobs.get(run.workspace_id, run.job_id) : null;
      const open = job
        ? await openDestination(run!.workspace_id, job.destination_id, { run_id: run!.id }).catch((err: unknown) => {
          if (!(err instanceof ConnectorError)) throw err;
          deps.logger.warn({ run_id: input.runId, err: err.message }, 'run trace not exported');
          return null;
        })
        : null;
      if (!run || !job || !open?.connector.exportRunTrace) return 'not_supported';
      const snapshots = await deps.snapshots.getMany(run.workspace_id, run.snapshot_ids);
      const items = await deps.evidence.listForRun(run.id);
      const trace: RunTrace = {
        run_id: run.id, job_id: run.job_id, status: run.status, started_at: run.started_at, ended_at: run.ended_at, error: run.error,
        datasets: snapshots.map((s) => ({ dataset: s.dataset, record_count: s.record_count, snapshot_id: s.id })),
        evidence: items.map((e) => ({ evidence_id: e.id, rule_id: e.rule_id, control_ref: e.control_ref, result: e.result, delivery_status: e.status, title: e.title, error: e.error })),
      };
      try {
        await open.connector.exportRunTrace(open.session, trace, job.target);
      } catch (err) {
        if (err instanceof ConnectorError && err.retryable) retryable(err);
        throw ApplicationFailure.nonRetryable(err instanceof Error ? err.message : String(err), 'trace.rejected');
      }
      return 'sent';
    },

    /** Counts the ledger and ends the run: succeeded, partial, failed or cancelled. */
    async finishRun(input: { runId: string; error?: string; cancelled?: boolean }): Promise<RunStatus> {
      const byStatus = await deps.evidence.countsForRun(input.runId);
      const run = await deps.runs.getById(input.runId);
      const counts: RunCounts = {
        collected: Number(run?.counts.collected ?? 0),
        evidence: Object.values(byStatus).reduce((a, b) => a + b, 0),
        delivered: byStatus.delivered ?? 0,
        rejected: byStatus.rejected ?? 0,
        ambiguous: byStatus.ambiguous ?? 0,
        failed: (byStatus.failed ?? 0) + (byStatus.pending ?? 0),
      };
      const notDelivered = counts.evidence - counts.delivered;
      const status: RunStatus = input.cancelled ? 'cancelled'
        : input.error ? 'failed'
        : notDelivered === 0 ? 'succeeded'
        : counts.delivered > 0 ? 'partial'
        : 'failed';
      await deps.runs.finish(input.runId, { status, counts, error: input.error ?? null });
      return status;
    },
  };
}
