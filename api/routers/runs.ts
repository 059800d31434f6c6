import type { Request } from 'express';
import type { RouteSpec, JsonSchema } from '../route.js';
import { HubError, type FieldError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import type { ValetTokens } from '../../lib/valet-token.js';
import type { ConnectorRegistry } from '../../connectors/registry.js';
import type { BlobRef, BlobStore } from '../../store/blobs.js';
import type { ConnectionStore } from '../../store/connections.js';
import type { EvidenceStore, RunItem } from '../../store/evidence.js';
import type { Job, JobStore } from '../../store/jobs.js';
import { FINAL_RUN_STATUSES, NO_COUNTS, RUN_STATUSES, RunStore, type Run } from '../../store/runs.js';
import { SnapshotStore } from '../../store/snapshots.js';
import { RunStepStore, type RunStep } from '../../store/run-steps.js';
import { workflowIds, type WorkflowStarter } from '../../temporal/starters.js';
import { audited, type AuditDeps } from '../audit.js';
import { hasScope, principalOf, type Principal } from '../auth.js';
import { exact, linksTo, listOf, nullableTimestamp, pageQuery, pageRequest, timestamp } from '../schemas.js';

export interface RunDeps extends AuditDeps {
  jobs: JobStore;
  runs: RunStore;
  runSteps: RunStepStore;
  evidence: EvidenceStore;
  connections: ConnectionStore;
  registry: ConnectorRegistry;
  starter: WorkflowStarter;
  valet: ValetTokens;
  blobs: BlobStore;
  publicUrl: string | null;
}

/** Seconds a caller should wait before polling a run again. */
const POLL_SECONDS = 5;
const MAX_ITEMS_IN_RUN = 500;

const DELIVERY_STATUSES = ['pending', 'delivered', 'rejected', 'ambiguous', 'failed'];
const itemView: JsonSchema = exact({
  id: { type: 'string' }, rule_id: { type: ['string', 'null'] }, control_ref: { type: 'string' }, question_match: { type: ['string', 'null'] },
  result: { enum: ['pass', 'fail', 'info', 'error'] }, status: { enum: DELIVERY_STATUSES },
  destination_evidence_ids: { type: ['array', 'null'], items: { type: 'string' } }, candidates: { type: ['array', 'null'] }, error: { type: ['string', 'null'] },
  attempts: { type: 'integer', minimum: 0 },
});
const stepView: JsonSchema = exact({
  name: { type: 'string', description: '`collect <dataset>` (or `supply <dataset>` for records sent with the run), `evaluate`, `deliver`.' },
  status: { enum: ['running', 'succeeded', 'failed', 'cancelled'] },
  started_at: timestamp, ended_at: nullableTimestamp,
  snapshot_ids: { type: 'array', items: { type: 'string' }, description: 'The snapshots the step wrote (collect, supply).' },
  detail: { type: ['string', 'null'], description: 'What the step produced, or why it failed.' },
});
const runView: JsonSchema = exact({
  id: { type: 'string' }, job_id: { type: ['string', 'null'] },
  workflow_id: { type: 'string', description: "The run's Temporal workflow id (open it in the Temporal UI)." },
  steps: { type: 'array', items: stepView, description: 'What the run did so far, in order: each dataset collected, the evaluation, the delivery.' }, status: { enum: [...RUN_STATUSES] }, trigger: { type: 'string', description: 'api, schedule, …' },
  mapping_id: { type: ['string', 'null'] }, mapping_version: { type: ['integer', 'null'] },
  counts: exact(Object.fromEntries(['collected', 'evidence', 'delivered', 'rejected', 'ambiguous', 'failed'].map((k) => [k, { type: 'integer', minimum: 0 }]))),
  items: { type: 'array', items: itemView, description: `The run's evidence items (the first ${MAX_ITEMS_IN_RUN}; GET /api/v1/evidence?run_id= lists them all).` },
  error: { type: ['string', 'null'] },
  created_at: timestamp, started_at: nullableTimestamp, ended_at: nullableTimestamp,
});
export function itemSummary(e: RunItem) {
  return {
    id: e.id, rule_id: e.rule_id, control_ref: e.control_ref, question_match: e.question_match, result: e.result, status: e.status,
    destination_evidence_ids: e.destination_evidence_ids, candidates: e.candidates, error: e.error, attempts: e.attempts,
  };
}

/** A push job's input: every dataset of the job, each an array of records. */
function checkInput(job: Job, input: Record<string, unknown> | undefined): void {
  const errors: FieldError[] = [];
  if (!input) errors.push({ pointer: '/input', message: `this job's connection is a push source: supply ${job.datasets.join(', ')} as arrays of records` });
  else {
    for (const dataset of job.datasets) if (!Array.isArray(input[dataset])) errors.push({ pointer: `/input/${dataset}`, message: 'must be an array of records' });
    for (const key of Object.keys(input)) if (!job.datasets.includes(key)) errors.push({ pointer: `/input/${key}`, message: `is not a dataset of this job (${job.datasets.join(', ')})` });
  }
  if (errors.length) throw HubError.validation(errors, 'The run input does not match the job.');
}

/**
 * Runs: triggered over HTTP (the asynchronous request-reply pattern Power Automate follows),
 * polled through a valet-keyed status URL, listed, read and cancelled.
 */
export function runRoutes(deps: RunDeps): RouteSpec[] {
  const presentRun = async (run: Run, knownSteps?: RunStep[]) => {
    const items = run.status === 'queued' ? [] : (await deps.evidence.runItems(run.workspace_id, run.id, MAX_ITEMS_IN_RUN)).map(itemSummary);
    const steps = knownSteps ?? await deps.runSteps.list(run.id);
    return {
      id: run.id, job_id: run.job_id, workflow_id: run.workflow_id, steps, status: run.status, trigger: run.trigger, mapping_id: run.mapping_id, mapping_version: run.mapping_version,
      counts: { ...NO_COUNTS, ...run.counts }, items, error: run.error,
      created_at: run.created_at, started_at: run.started_at, ended_at: run.ended_at,
    };
  };
  /** The absolute status URL with its valet key (HUB_PUBLIC_URL, else the request's own host). */
  const statusUrl = (req: Request, runId: string, token?: string) => {
    const base = deps.publicUrl ?? `${req.protocol}://${req.get('host')}`;
    return `${base}/api/v1/runs/${runId}/status?token=${token ?? deps.valet.issue(runId)}`;
  };

  return [
    {
      method: 'post', path: '/api/v1/jobs/:id/runs', operationId: 'triggerRun', tag: 'runs', auth: 'runs:write', idempotent: true, bodyOptional: true,
      summary: 'Start a run now (the asynchronous pattern Power Automate and Logic Apps follow): 202 + Location of the status URL + Retry-After.',
      description: 'Poll Location (it carries a valet key, so no credentials are needed) until it answers 200 with the finished run. Send Idempotency-Key so that a retried trigger starts one run.',
      body: {
        type: 'object', additionalProperties: false,
        properties: {
          input: {
            type: 'object', maxProperties: 20, propertyNames: { pattern: '^push\\.[a-z0-9_]{1,64}$' }, additionalProperties: { type: 'array' },
            description: 'Required for a job whose connection is a `push` source, and refused for any other: every dataset of the job and no other, each an array of records, e.g. {"push.users": [...]}.',
          },
        },
      },
      responses: {
        202: {
          description: 'Queued.', schema: runView,
          headers: { Location: 'Absolute status URL with a valet key.', 'Retry-After': { description: 'Seconds before the first poll.', schema: { type: 'integer', minimum: 0 } } },
          links: { ...linksTo(['getRun', 'getRunStatus', 'cancelRun']), ...linksTo(['listEvidence'], 'run_id') },
        },
      },
      problems: { 503: 'Temporal is not reachable; the run did not start and is recorded as failed (Retry-After).' },
      handler: async (req, res) => {
        const { workspaceId } = principalOf(res);
        const job = await deps.jobs.get(workspaceId, String(req.params.id));
        if (!job) throw HubError.notFound('No job with this id in this workspace.');
        const connection = await deps.connections.get(workspaceId, job.connection_id);
        const input = (req.body as { input?: Record<string, unknown> }).input;
        const isPush = Boolean(connection && deps.registry.source(connection.type)?.suppliedWithRun);
        if (!isPush && input !== undefined) throw HubError.validation([{ pointer: '/input', message: 'this job collects from its connection; input is for push connections' }]);
        if (isPush) checkInput(job, input);
        const runId = newId('run');
        const workflowId = workflowIds.run(runId);
        // Supplied records become the run's snapshots before it starts, like collected ones: the
        // blobs first (files), then their rows with the run and its audit entry.
        const suppliedBlobs: { dataset: string; ref: BlobRef; recordCount: number }[] = [];
        for (const [dataset, records] of Object.entries(isPush ? input! : {})) {
          const ref = await deps.blobs.put((records as unknown[]).map((r) => JSON.stringify(r)).join('\n') + ((records as unknown[]).length ? '\n' : ''));
          suppliedBlobs.push({ dataset, ref, recordCount: (records as unknown[]).length });
        }
        const suppliedSnapshots: Record<string, string> = {};
        const run = await audited(deps, req, res,
          async (tx) => {
            for (const { dataset, ref, recordCount } of suppliedBlobs) {
              const snapshot = await new SnapshotStore(tx).record({
                id: newId('snap'), workspace_id: workspaceId, connection_id: job.connection_id, dataset, sha256: ref.sha256, bytes: ref.bytes,
                record_count: recordCount, collected_at: new Date(), metadata: { connector: connection!.type, supplied_by: principalOf(res).keyId, format: 'ndjson' },
                collection_key: `${runId}:${dataset}`,
              });
              suppliedSnapshots[dataset] = snapshot.id;
            }
            const created = await new RunStore(tx).create({ id: runId, workspaceId, jobId: job.id, trigger: 'api', workflowId });
            for (const { dataset, recordCount } of suppliedBlobs) {
              await new RunStepStore(tx).record(runId, `supply ${dataset}`, 1, [suppliedSnapshots[dataset]!], `${recordCount} records sent with the run`);
            }
            return created;
          },
          () => ({
            action: 'run.triggered', resourceType: 'run', resourceId: runId,
            changes: { job_id: job.id, trigger: 'api', supplied: isPush ? Object.fromEntries(suppliedBlobs.map((b) => [b.dataset, b.recordCount])) : undefined },
          }));
        await deps.starter.run({ workspaceId, jobId: job.id, runId, trigger: 'api', suppliedSnapshots }).catch(async (err: unknown) => {
          // A run that never started must not look queued forever.
          await deps.runs.finish(runId, { status: 'failed', counts: NO_COUNTS, error: 'Temporal was not reachable; the run did not start.' });
          throw err;
        });
        res.status(202).location(statusUrl(req, runId)).setHeader('Retry-After', String(POLL_SECONDS));
        res.json(await presentRun(run));
      },
    },
    {
      method: 'get', path: '/api/v1/runs/:id/status', operationId: 'getRunStatus', tag: 'runs', auth: 'public',
      summary: 'Polling URL: 202 + Location + Retry-After while the run is queued or running, 200 with the run once it has ended.',
      description: 'Authorised by the `token` valet key of this URL (for this run only, 24 h) or by an API key with runs:read.',
      query: { type: 'object', properties: { token: { type: 'string', maxLength: 512 } } },
      responses: {
        200: { description: 'The finished run.', schema: runView },
        202: {
          description: 'Still going; poll Location again after Retry-After.', schema: runView,
          headers: { Location: 'This status URL again (with the same valet key when one was used).', 'Retry-After': { description: 'Seconds before the next poll.', schema: { type: 'integer', minimum: 0 } } },
        },
      },
      problems: { 401: 'Neither a valid valet key (token) for this run nor an API key with runs:read.' },
      handler: async (req, res) => {
        const runId = String(req.params.id);
        const token = (res.locals.query as { token?: string }).token;
        const principal = res.locals.principal as Principal | undefined;
        const byKey = principal && hasScope(principal, 'runs:read') ? await deps.runs.get(principal.workspaceId, runId) : null;
        const byToken = !byKey && deps.valet.allows(token, runId);
        const run = byKey ?? (byToken ? await deps.runs.getById(runId) : null);
        if (!run) {
          if (principal) throw HubError.notFound('No run with this id in this workspace.');
          throw HubError.unauthorized('This status URL needs its valet key (token), valid for 24 h, or an API key with runs:read.');
        }
        if (!FINAL_RUN_STATUSES.includes(run.status)) {
          // The same valet key again: polling must not extend a leaked URL's life.
          res.status(202).location(statusUrl(req, run.id, byToken ? token : undefined)).setHeader('Retry-After', String(POLL_SECONDS));
        }
        res.json(await presentRun(run));
      },
    },
    {
      method: 'get', path: '/api/v1/runs/:id', operationId: 'getRun', tag: 'runs', auth: 'runs:read', summary: 'A run with its counts and per-item results (always 200).',
      responses: { 200: { description: 'The run.', schema: runView } },
      handler: async (req, res) => {
        const run = await deps.runs.get(principalOf(res).workspaceId, String(req.params.id));
        if (!run) throw HubError.notFound('No run with this id in this workspace.');
        res.json(await presentRun(run));
      },
    },
    {
      method: 'get', path: '/api/v1/runs', operationId: 'listRuns', tag: 'runs', auth: 'runs:read', summary: 'Runs, newest first.',
      query: { type: 'object', properties: { ...(pageQuery.properties as object), job_id: { type: 'string' }, status: { enum: [...RUN_STATUSES] } } },
      responses: { 200: { description: 'A page of runs.', schema: listOf(runView) } },
      handler: async (_req, res) => {
        const q = res.locals.query as { job_id?: string; status?: string };
        const page = await deps.runs.list(principalOf(res).workspaceId, pageRequest(res), { jobId: q.job_id, status: q.status });
        const steps = await deps.runSteps.listMany(page.data.map((r) => r.id));
        res.json({ data: await Promise.all(page.data.map((run) => presentRun(run, steps.get(run.id) ?? []))), next_cursor: page.next_cursor });
      },
    },
    {
      method: 'post', path: '/api/v1/runs/:id/cancel', operationId: 'cancelRun', tag: 'runs', auth: 'runs:write', summary: 'Cancel a run: it stops cleanly and ends as cancelled.',
      responses: { 202: { description: 'Cancellation requested (or the run had already ended: it is left as it is).', schema: runView, links: linksTo(['getRun', 'getRunStatus']) } },
      problems: { 503: 'Temporal is not reachable; the cancellation was not requested (Retry-After).' },
      handler: async (req, res) => {
        const run = await deps.runs.get(principalOf(res).workspaceId, String(req.params.id));
        if (!run) throw HubError.notFound('No run with this id in this workspace.');
        if (!FINAL_RUN_STATUSES.includes(run.status)) {
          await deps.starter.cancel(run.workflow_id);
          // The request lives in Temporal, not in a row: the entry is the only write. A run that
          // had already ended is left alone, and nothing is recorded for it.
          await audited(deps, req, res, async () => run,
            () => ({ action: 'run.cancel_requested', resourceType: 'run', resourceId: run.id, changes: { status: run.status } }));
        }
        res.status(202).json(await presentRun(run));
      },
    },
  ];
}
