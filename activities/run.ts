import { ApplicationFailure, Context } from '@temporalio/activity';
import type { BlobStore } from '../store/blobs.js';
import type { EvidenceStore } from '../store/evidence.js';
import type { ExceptionStore } from '../store/exceptions.js';
import type { JobStore } from '../store/jobs.js';
import type { MappingStore } from '../store/mappings.js';
import { NO_COUNTS, type RunCounts, type RunStatus, type RunStore } from '../store/runs.js';
import type { SnapshotStore } from '../store/snapshots.js';
import type { RunStepStore } from '../store/run-steps.js';
import { loadSnapshot } from '../store/snapshot-reader.js';
import { DEFAULT_FRESH_FOR_MS } from '../store/checks.js';
import { openDestination, retryable, type DestinationDeps } from './destinations.js';
import { ConnectorError } from '../connectors/errors.js';
import type { RunTrace } from '../connectors/types.js';
import { compileRules, evaluate } from '../mappings/engine.js';
import { UnreadableDataset } from '../mappings/datasets.js';
import { underAcceptedRisk, withAcceptedRecords } from '../mappings/accepted-risk.js';
import type { Rule } from '../mappings/types.js';
import { parseDuration } from '../lib/duration.js';
import { newId } from '../lib/ids.js';

export interface RunDeps extends DestinationDeps {
  jobs: JobStore;
  runs: RunStore;
  evidence: EvidenceStore;
  mappings: MappingStore;
  snapshots: SnapshotStore;
  blobs: BlobStore;
  exceptions: ExceptionStore;
  runSteps: RunStepStore;
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


export interface EvaluateRunInput {
  plan: RunPlan;
  snapshotIds: string[];
  /** Datasets whose collection failed, with why: their rules report error. */
  uncollected?: Record<string, string>;
}

export function runActivities(deps: RunDeps) {
  /** Evaluates the run's mapping version over its snapshots and writes each item to the ledger as pending. */
  async function evaluateOnce(input: EvaluateRunInput): Promise<string[]> {
    const { plan } = input;
    const run = await deps.runs.getById(plan.runId);
    const job = await deps.jobs.get(plan.workspaceId, plan.jobId);
    const version = await deps.mappings.version(plan.mappingId, plan.mappingVersion);
    if (!run || !job || !version) throw ApplicationFailure.nonRetryable('the run, its job or its mapping version is gone', 'run.inconsistent');
    const snapshots = await deps.snapshots.getMany(plan.workspaceId, input.snapshotIds);
    const data: Record<string, unknown[] | UnreadableDataset> = {};
    const collectedAt: Record<string, Date> = {};
    let collected = 0;
    for (const snapshot of snapshots) {
      data[snapshot.dataset] = await loadSnapshot(deps.blobs, snapshot.sha256);
      collectedAt[snapshot.dataset] = snapshot.collected_at;
      collected += snapshot.record_count;
    }
    // A dataset that could not be collected (a missing permission or licence, say) makes its
    // rules report error with the reason: never a pass on data that was not read.
    for (const [dataset, reason] of Object.entries(input.uncollected ?? {})) data[dataset] = new UnreadableDataset(reason, 'collected');
    await deps.runs.setSnapshots(plan.runId, input.snapshotIds, collected);
    // "now" is the run's start, so a retried evaluation gives byte-identical evidence.
    const now = run.started_at ?? run.created_at;
    // Exceptions active at the run's start apply like exclusions (store/exceptions.ts).
    const risks = await deps.exceptions.activeForJob(plan.workspaceId, plan.jobId, now);
    const result = evaluate(compileRules({ rules: withAcceptedRecords(version.rules as Rule[], risks) }), data, { now });
    const items = result.evidence.map((item) => underAcceptedRisk(item, risks.get(item.rule_id)));
    // A rule's own fresh_for wins over the job's.
    const ruleFreshness = new Map((version.rules as Rule[]).flatMap((r) => (r.fresh_for ? [[r.id, parseDuration(r.fresh_for)!] as const] : [])));
    const rows = await deps.evidence.recordMany(items.map((item) => ({
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
      observed_at: collectedAt[item.dataset] ?? run.started_at ?? run.created_at,
      check: { connectionId: job.connection_id, references: item.references, freshForMs: ruleFreshness.get(item.rule_id) ?? Number(job.fresh_for_ms ?? DEFAULT_FRESH_FOR_MS) },
      allow_multiple: false,
      destination_id: job.destination_id,
      target: job.target,
      identity: `${plan.runId}:${item.rule_id}`,
      // Evidence that could not be evaluated is never sent as if it were an answer.
      ...(item.result === 'error' ? { status: 'failed' as const, error: `The rule could not be evaluated: ${JSON.stringify(item.payload).slice(0, 500)}` } : {}),
    })));
    return rows.filter((row) => row.status === 'pending').map((row) => row.id);
  }

  return {
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

    /** The run's step `evaluate`; when it leaves items to deliver, the step `deliver` begins. */
    async evaluateRun(input: EvaluateRunInput): Promise<string[]> {
      await deps.runSteps.begin(input.plan.runId, 'evaluate', 2);
      try {
        const pending = await evaluateOnce(input);
        const items = await deps.evidence.countsForRun(input.plan.runId);
        const total = Object.values(items).reduce((a, b) => a + b, 0);
        await deps.runSteps.end(input.plan.runId, 'evaluate', { status: 'succeeded', detail: `${total} evidence items` });
        // Delivery starts as soon as the items are in the ledger; finishRun ends the step.
        if (pending.length > 0) await deps.runSteps.begin(input.plan.runId, 'deliver', 3);
        return pending;
      } catch (err) {
        await deps.runSteps.end(input.plan.runId, 'evaluate', { status: 'failed', detail: err instanceof Error ? err.message : String(err) });
        throw err;
      }
    },

    async markEvidenceFailed(input: { evidenceId: string; error: string }): Promise<void> {
      await deps.evidence.settle(input.evidenceId, { status: 'failed', error: input.error });
    },

    /** The same for a batch, in one transaction (items already settled are left as they are). */
    async markEvidenceBatchFailed(input: { evidenceIds: string[]; error: string }): Promise<void> {
      await deps.evidence.settleMany(input.evidenceIds.map((id) => ({ id, status: 'failed' as const, error: input.error })));
    },

    /**
     * Sends the finished run as a trace of its steps to its job's destination, when that
     * destination keeps an activity stream (AgentAudit). Idempotent on the destination's side.
     */
    async exportRunTrace(input: { runId: string }): Promise<'sent' | 'not_supported'> {
      const run = await deps.runs.getById(input.runId);
      const job = run?.job_id ? await deps.jobs.get(run.workspace_id, run.job_id) : null;
      const open = job
        ? await openDestination(deps, run!.workspace_id, job.destination_id, { run_id: run!.id }).catch((err: unknown) => {
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
    /**
     * Ends the run with its counts. `error` fails it; `collectionError` (some datasets could not
     * be collected, their rules reported error) is recorded while the status follows the counts.
     */
    async finishRun(input: { runId: string; error?: string; collectionError?: string; cancelled?: boolean }): Promise<RunStatus> {
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
      await deps.runs.finish(input.runId, { status, counts, error: input.error ?? input.collectionError ?? null });
      const stepStatus = status === 'cancelled' ? 'cancelled' : status === 'failed' ? 'failed' : 'succeeded';
      await deps.runSteps.end(input.runId, 'deliver', {
        status: stepStatus,
        detail: `${counts.delivered} delivered, ${counts.rejected} rejected, ${counts.ambiguous} ambiguous, ${counts.failed} failed`,
      });
      await deps.runSteps.closeOpen(input.runId, stepStatus === 'succeeded' ? 'failed' : stepStatus);
      return status;
    },
  };
}
