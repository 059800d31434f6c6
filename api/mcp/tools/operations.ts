import { MAX_ITEMS, id, input, int, lines, more, nullable, object, pageInput, pageOutput, pageQuery, pick, str, type ToolDefinition } from '../tool.js';

type Json = Record<string, unknown>;
const RUN_STATUSES = ['queued', 'running', 'succeeded', 'partial', 'failed', 'cancelled'];
const FINAL = new Set(['succeeded', 'partial', 'failed', 'cancelled']);

/**
 * A connection's settings as an assistant may see them: URLs cut to their origin (a path or
 * query may carry a token, as a webhook or a signed URL does); secrets are never in config.
 */
export function redactedConfig(config: unknown): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries((config ?? {}) as Json)) {
    if (typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
      try {
        out[key] = new URL(value).origin;
      } catch {
        out[key] = '(a URL)';
      }
    } else if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) out[key] = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string' && !/:\/\//.test(v))) out[key] = value.slice(0, 20);
    else out[key] = '(structured; see the console)';
  }
  return out;
}

export const listConnections: ToolDefinition = {
  name: 'list_connections',
  title: 'List connections',
  description: 'The source systems the hub collects from (Okta, AWS, Jamf, Entra ID, GitHub, …): id, name, type and settings (URLs shown by origin only; secrets are never shown).',
  scopes: ['config:read'],
  readOnly: true,
  inputSchema: input({ ...pageInput }),
  outputSchema: pageOutput('connections', object({ id: str, name: str, type: str, config: { type: 'object' }, secret_fields: { type: 'array', items: str }, created_at: str })),
  async run(hub, args) {
    const page = (await hub.get<{ data: Json[]; next_cursor: string | null }>('/api/v1/connections', pageQuery(args))).body;
    const connections = page.data.map((c) => ({ ...pick(c, ['id', 'name', 'type', 'secret_fields', 'created_at'] as const), config: redactedConfig(c.config) }));
    return { structured: { connections, next_cursor: page.next_cursor }, text: lines(connections, (c: Json) => `${c.name} (${c.type}, ${c.id})`, 'No connections.') + more(page.next_cursor) };
  },
};

export const listJobs: ToolDefinition = {
  name: 'list_jobs',
  title: 'List jobs',
  description: 'Collection jobs: which connection and datasets they collect, the mapping that turns the records into evidence, where it is delivered, and their schedule with the next run time. trigger_run starts one now.',
  scopes: ['config:read'],
  readOnly: true,
  inputSchema: input({ ...pageInput }),
  outputSchema: pageOutput('jobs', object({
    id: str, name: str, connection_id: str, datasets: { type: 'array', items: str }, mapping_id: str, mapping_version: nullable('integer'),
    destination_id: str, enabled: { type: 'boolean' }, schedule: { type: ['object', 'null'] }, next_run_at: nullable('string'),
  })),
  async run(hub, args) {
    const page = (await hub.get<{ data: Json[]; next_cursor: string | null }>('/api/v1/jobs', pageQuery(args))).body;
    const jobs = page.data.map((j) => pick(j, ['id', 'name', 'connection_id', 'datasets', 'mapping_id', 'mapping_version', 'destination_id', 'enabled', 'schedule', 'next_run_at'] as const));
    return {
      structured: { jobs, next_cursor: page.next_cursor },
      text: lines(jobs, (j: Json) => `${j.name} (${j.id}): ${(j.datasets as string[]).join(', ')}${j.next_run_at ? `; next run ${j.next_run_at}` : ''}`, 'No jobs.') + more(page.next_cursor),
    };
  },
};

const counts = { type: 'object', additionalProperties: int, description: 'collected records, evidence items, and items delivered, rejected, ambiguous, failed.' };
const runSummary = object({
  id: str, job_id: nullable('string'), status: { enum: RUN_STATUSES }, trigger: nullable('string'), counts, error: nullable('string'),
  created_at: str, started_at: nullable('string'), ended_at: nullable('string'),
});
const RUN_FIELDS = ['id', 'job_id', 'status', 'trigger', 'counts', 'error', 'created_at', 'started_at', 'ended_at'] as const;
const renderRun = (r: Json) => `${r.id} [${r.status}] job ${r.job_id ?? '-'}, ${(r.counts as Json | undefined)?.evidence ?? 0} items, started ${r.started_at ?? 'not yet'}`;

export const listRuns: ToolDefinition = {
  name: 'list_runs',
  title: 'List runs',
  description: 'Runs of jobs, newest first, with their status and counts; filter by job or status.',
  scopes: ['runs:read'],
  readOnly: true,
  inputSchema: input({ job_id: id('Only this job’s runs.'), status: { enum: RUN_STATUSES }, ...pageInput }),
  outputSchema: pageOutput('runs', runSummary),
  async run(hub, args) {
    const page = (await hub.get<{ data: Json[]; next_cursor: string | null }>('/api/v1/runs', { job_id: args.job_id as string, status: args.status as string, ...pageQuery(args) })).body;
    const runs = page.data.map((r) => pick(r, RUN_FIELDS));
    return { structured: { runs, next_cursor: page.next_cursor }, text: lines(runs, renderRun, 'No runs.') + more(page.next_cursor) };
  },
};

export const getRun: ToolDefinition = {
  name: 'get_run',
  title: 'Get a run',
  description:
    `One run: its status (queued, running, then succeeded, partial, failed or cancelled), its steps (collection per dataset, evaluation, delivery) with times, its counts, ` +
    `and its evidence items with each one's result and delivery status (at most ${MAX_ITEMS}; the counts give the total). Poll it after trigger_run until ended is true.`,
  scopes: ['runs:read'],
  readOnly: true,
  inputSchema: input({ run_id: id('The run.') }, ['run_id']),
  outputSchema: object({
    run: runSummary,
    ended: { type: 'boolean', description: 'True once the run has a final status.' },
    steps: { type: 'array', items: object({ name: str, status: str, started_at: nullable('string'), ended_at: nullable('string'), detail: nullable('string') }) },
    items: { type: 'array', maxItems: MAX_ITEMS, items: object({ id: str, rule_id: nullable('string'), control_ref: str, result: str, status: str, error: nullable('string') }) },
    items_total: int,
  }),
  async run(hub, args) {
    const run = (await hub.get<Json>(`/api/v1/runs/${encodeURIComponent(String(args.run_id))}`)).body;
    const items = ((run.items ?? []) as Json[]).slice(0, MAX_ITEMS).map((i) => pick(i, ['id', 'rule_id', 'control_ref', 'result', 'status', 'error'] as const));
    const steps = ((run.steps ?? []) as Json[]).map((s) => pick(s, ['name', 'status', 'started_at', 'ended_at', 'detail'] as const));
    const total = Number((run.counts as Json | undefined)?.evidence ?? items.length);
    const structured = { run: pick(run, RUN_FIELDS), ended: FINAL.has(String(run.status)), steps, items, items_total: total };
    const text = `${renderRun(run)}${run.error ? `\nError: ${run.error}` : ''}\n` +
      lines(steps, (s: Json) => `step ${s.name}: ${s.status}`, 'No steps yet.') + '\n' +
      lines(items, (i: Json) => `${i.rule_id ?? i.control_ref}: ${i.result}, ${i.status}`, 'No items yet.') +
      (total > items.length ? `\n(${items.length} of ${total} items listed)` : '');
    return { structured, text };
  },
};

export const triggerRun: ToolDefinition = {
  name: 'trigger_run',
  title: 'Run a job now',
  description:
    'Starts a run of a job now (collect, evaluate, deliver) and answers at once with the run id and its status URL; the run goes on in the hub. ' +
    'Poll get_run with the run id until ended is true. Pass an idempotency_key to make a retried call start one run, not two.',
  scopes: ['runs:write'],
  readOnly: false,
  inputSchema: input({
    job_id: id('The job (id from list_jobs).'),
    idempotency_key: { type: 'string', minLength: 1, maxLength: 200, description: 'The same key on a retry returns the run the first call started.' },
  }, ['job_id']),
  outputSchema: object({ run_id: str, status: { enum: RUN_STATUSES }, status_url: str, job_id: str }),
  async run(hub, args) {
    const jobId = String(args.job_id);
    const headers = typeof args.idempotency_key === 'string' ? { 'idempotency-key': args.idempotency_key } : undefined;
    const run = (await hub.post<Json>(`/api/v1/jobs/${encodeURIComponent(jobId)}/runs`, undefined, headers)).body;
    // Not the Location the API answers: that one carries a valet key, a credential a model has no use for.
    const statusUrl = `${hub.baseUrl}/api/v1/runs/${encodeURIComponent(String(run.id))}/status`;
    return {
      structured: { run_id: String(run.id), status: run.status, status_url: statusUrl, job_id: jobId },
      text: `Run ${run.id} of job ${jobId} is ${run.status}. Poll get_run with run_id ${run.id} until it has ended.`,
    };
  },
};

export const operationTools = [listConnections, listJobs, listRuns, getRun, triggerRun];
