import type { Request, Response } from 'express';
import type { RouteSpec, JsonSchema } from '../route.js';
import { HubError, type FieldError } from '../../lib/errors.js';
import { parseDuration } from '../../lib/duration.js';
import { newId } from '../../lib/ids.js';
import { datasetsOf } from '../../connectors/types.js';
import type { ConnectorRegistry } from '../../connectors/registry.js';
import type { ConnectionStore } from '../../store/connections.js';
import { JobStore, type Job, type JobFields, type Schedule } from '../../store/jobs.js';
import type { MappingStore } from '../../store/mappings.js';
import type { JobSchedules } from '../../temporal/schedules.js';
import { temporalUnavailable } from '../../temporal/starters.js';
import { audited, type AuditDeps } from '../audit.js';
import { principalOf } from '../auth.js';
import { exact, linksTo, listOf, name, nullableTimestamp, pageQuery, pageRequest, timestamp } from '../schemas.js';
import { CHECKED_BY_HANDLER, compileFieldValidator } from '../validation.js';

export interface JobDeps extends AuditDeps {
  jobs: JobStore;
  connections: ConnectionStore;
  destinations: ConnectionStore;
  mappings: MappingStore;
  registry: ConnectorRegistry;
  schedules: JobSchedules;
}

const scheduleSchema: JsonSchema = {
  type: ['object', 'null'], additionalProperties: false, required: ['cron', 'timezone'],
  description: 'When the job runs by itself; null: only when triggered. Temporal checks the cron and the time zone (400 with a pointer when it refuses them).',
  properties: {
    cron: { type: 'string', minLength: 1, maxLength: 200, description: 'Five-field cron, e.g. "0 2 * * *" (or @daily, @hourly, @every 2h).', examples: ['0 2 * * *', '@daily'] },
    timezone: { type: 'string', minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Europe/Paris.', examples: ['UTC', 'Europe/Paris'] },
  },
};
/** A job's fields as a request sets them; `target` follows the target_schema of the destination's type. */
function jobProperties(registry: ConnectorRegistry): Record<string, JsonSchema> {
  return {
    name,
    connection_id: { type: 'string', description: 'A connection of this workspace.' },
    datasets: { type: 'array', minItems: 1, maxItems: 20, uniqueItems: true, items: { type: 'string' }, description: 'Datasets of the connection (GET /api/v1/connectors lists each type’s).' },
    mapping_id: { type: 'string', description: 'A mapping set of this workspace.' },
    mapping_version: { type: ['integer', 'null'], minimum: 1, maximum: 2_147_483_647, description: 'Pin a mapping version (1 to the latest); null or absent: the latest at each run.' },
    destination_id: { type: 'string', description: 'A destination of this workspace.' },
    target: {
      type: 'object', description: 'Where in the destination: the target_schema of its type (GET /api/v1/destination-types).',
      anyOf: registry.listDestinations().map((d) => ({ title: d.name, ...d.targetSchema })),
      // Checked against the destination's own type, with the references.
      [CHECKED_BY_HANDLER]: true,
    },
    schedule: scheduleSchema,
    enabled: { type: 'boolean', default: true },
    fresh_for: {
      type: ['string', 'null'], pattern: '^\\d{1,6}(s|m|h|d)$', examples: ['36h', '8d'],
      description: 'How long a result of this job stays fresh before its checks read `stale` (1 s to 400 d); null: twice the schedule’s interval, or 7 days without a schedule.',
    },
  };
}
const jobView: JsonSchema = exact({
  id: { type: 'string' }, name: { type: 'string' }, connection_id: { type: 'string' }, datasets: { type: 'array', items: { type: 'string' } },
  mapping_id: { type: 'string' }, mapping_version: { type: ['integer', 'null'] }, destination_id: { type: 'string' }, target: { type: 'object' },
  schedule: { ...scheduleSchema, additionalProperties: true }, enabled: { type: 'boolean' }, fresh_for: { type: ['string', 'null'] },
  next_run_at: { ...nullableTimestamp, description: 'When the schedule fires next; null when unscheduled or disabled.' },
  next_runs: { type: 'array', maxItems: 5, items: timestamp, description: "The schedule's next five firings as Temporal computes them (in UTC; the schedule's time zone decides them); empty when unscheduled or disabled." }, created_at: timestamp, updated_at: timestamp,
});
const TEMPORAL_DOWN = 'Temporal is not reachable; nothing was changed (Retry-After).';

function validTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

export function jobRoutes(deps: JobDeps): RouteSpec[] {
  const fields = jobProperties(deps.registry);
  const targetValidators = new Map<string, (value: unknown) => void>();

  /** Every reference and field checked at once; all faults reported with pointers. */
  async function validate(workspaceId: string, f: JobFields): Promise<void> {
    const errors: FieldError[] = [];
    const connection = await deps.connections.get(workspaceId, f.connection_id);
    if (!connection) errors.push({ pointer: '/connection_id', message: 'no such connection in this workspace' });
    else {
      const source = deps.registry.source(connection.type);
      const known = source ? datasetsOf(source, connection.config) : {};
      f.datasets.forEach((d, i) => { if (!Object.hasOwn(known, d)) errors.push({ pointer: `/datasets/${i}`, message: `must be one of: ${Object.keys(known).join(', ')}` }); });
    }
    const mapping = await deps.mappings.get(workspaceId, f.mapping_id);
    if (!mapping) errors.push({ pointer: '/mapping_id', message: 'no such mapping set in this workspace' });
    else if (f.mapping_version !== null && f.mapping_version > mapping.latest_version) errors.push({ pointer: '/mapping_version', message: `must be between 1 and ${mapping.latest_version}` });
    const destination = await deps.destinations.get(workspaceId, f.destination_id);
    if (!destination) errors.push({ pointer: '/destination_id', message: 'no such destination in this workspace' });
    else {
      const connector = deps.registry.destination(destination.type);
      if (connector) {
        let check = targetValidators.get(connector.type);
        if (!check) targetValidators.set(connector.type, (check = compileFieldValidator(connector.targetSchema, '/target')));
        try {
          check(f.target);
        } catch (err) {
          errors.push(...((err as HubError).extra?.errors ?? []));
        }
      }
    }
    const freshFor = f.fresh_for ? parseDuration(f.fresh_for) : null;
    if (f.fresh_for && (freshFor === null || freshFor < 1_000 || freshFor > 400 * 86_400_000)) errors.push({ pointer: '/fresh_for', message: 'must be a duration from 1s to 400d, e.g. 36h' });
    if (f.schedule && !validTimezone(f.schedule.timezone)) errors.push({ pointer: '/schedule/timezone', message: 'is not an IANA time zone (e.g. Europe/Paris)' });
    if (errors.length) throw HubError.validation(errors, 'The job is not valid.');
  }

  /** Makes the job's Temporal Schedule match `job`; what Temporal refuses becomes a 400 or a 503. */
  async function syncSchedule(job: Job): Promise<void> {
    try {
      await deps.schedules.sync(job);
    } catch (err) {
      const message = (err as Error).message ?? '';
      if (/cron|calendar|spec|time ?zone|invalid/i.test(message)) {
        throw HubError.validation([{ pointer: '/schedule/cron', message: `Temporal refused the schedule: ${message.split('\n')[0]}` }]);
      }
      throw temporalUnavailable('the schedule could not be saved, and nothing was changed');
    }
  }

  /**
   * Saves the job's Temporal Schedule, then the job with its audit entry in one transaction.
   * The schedule goes first and outside the transaction (on PGlite an open transaction holds
   * the only connection): a schedule Temporal refuses leaves nothing written and nothing in the
   * audit log. A row that then cannot be written puts the schedule back to match whatever the
   * database holds, so the two never disagree. (A new job's schedule exists a moment before its
   * row; a run it fired in that moment would end failed, as for a deleted job.)
   */
  async function save(req: Request, res: Response, id: string, f: JobFields, previous: Job | null): Promise<Job> {
    const { workspaceId } = principalOf(res);
    const patch = req.body as Partial<JobFields>;
    // Only a job that has (or had) a schedule needs Temporal to save.
    const scheduled = Boolean(f.schedule || previous?.schedule);
    if (scheduled) {
      const now = new Date();
      await syncSchedule({ ...f, id, workspace_id: workspaceId, created_at: previous?.created_at ?? now, updated_at: now });
    }
    // Results of a scheduled job stay fresh for two of its intervals unless the job says otherwise.
    const scheduleInterval = f.schedule ? await deps.schedules.intervalMs(id).catch(() => null) : null;
    const effectiveFreshness = (fields: JobFields) => (fields.fresh_for ? parseDuration(fields.fresh_for) : scheduleInterval === null ? null : 2 * scheduleInterval);
    try {
      const saved = await audited(deps, req, res,
        async (tx) => {
          const jobs = new JobStore(tx);
          let fields = f;
          if (previous) {
            // The patch applies to the row as it is under its lock, not as it was read before:
            // concurrent PATCHes each keep their change, and a DELETE in between wins.
            const locked = await jobs.getForUpdate(workspaceId, id);
            if (!locked) throw HubError.notFound('No job with this id in this workspace.');
            const { id: _id, workspace_id: _ws, created_at: _c, updated_at: _u, ...current } = locked;
            fields = { ...current, ...patch };
          }
          // What the job refers to cannot be deleted until this commits.
          const gone = await jobs.lockReferences(workspaceId, fields);
          if (gone.length) throw HubError.validation(gone.map((pointer) => ({ pointer: `/${pointer}`, message: 'was deleted meanwhile' })), 'The job is not valid.');
          const job = previous ? await jobs.update(workspaceId, id, fields, tx, effectiveFreshness(fields)) : await jobs.insert(id, workspaceId, fields, tx, effectiveFreshness(fields));
          if (!job) throw HubError.notFound('No job with this id in this workspace.');
          return job;
        },
        (job) => (previous
          ? { action: 'job.updated', resourceType: 'job', resourceId: job.id, changes: patch }
          : { action: 'job.created', resourceType: 'job', resourceId: job.id, changes: f }));
      // Another PATCH committed between the read and the lock: the schedule follows the row.
      if (scheduled || saved.schedule) {
        if (JSON.stringify([saved.schedule, saved.enabled]) !== JSON.stringify([f.schedule, f.enabled])) await deps.schedules.sync(saved).catch(() => undefined);
      }
      return saved;
    } catch (err) {
      if (scheduled) {
        // Best effort: the request fails with the database's error either way, and the next
        // save or delete of the job syncs its schedule again.
        const current = await deps.jobs.get(workspaceId, id).catch(() => null);
        await (current ? deps.schedules.sync(current) : deps.schedules.remove(id)).catch(() => undefined);
      }
      throw err;
    }
  }

  const view = async (job: Job) => {
    const nextRuns = job.schedule && job.enabled ? await deps.schedules.nextRuns(job.id).catch(() => []) : [];
    return {
      id: job.id, name: job.name, connection_id: job.connection_id, datasets: job.datasets, mapping_id: job.mapping_id, mapping_version: job.mapping_version,
      destination_id: job.destination_id, target: job.target, schedule: job.schedule, enabled: job.enabled, fresh_for: job.fresh_for ?? null,
      next_run_at: nextRuns[0] ?? null, next_runs: nextRuns,
      created_at: job.created_at, updated_at: job.updated_at,
    };
  };
  const mustGet = async (workspaceId: string, id: string) => {
    const job = await deps.jobs.get(workspaceId, id);
    if (!job) throw HubError.notFound('No job with this id in this workspace.');
    return job;
  };

  return [
    {
      method: 'post', path: '/api/v1/jobs', operationId: 'createJob', tag: 'jobs', auth: 'config:write', idempotent: true,
      summary: 'Create a job: connection + datasets + mapping (optionally a pinned version) + destination + target, optionally on a schedule.',
      body: { type: 'object', additionalProperties: false, required: ['name', 'connection_id', 'datasets', 'mapping_id', 'destination_id', 'target'], properties: fields },
      responses: {
        201: {
          description: 'Created (next_run_at when scheduled).', schema: jobView, headers: { Location: 'The new job.' },
          links: { ...linksTo(['getJob', 'updateJob', 'deleteJob', 'triggerRun']), ...linksTo(['listRuns'], 'job_id'), listEvidenceOfJob: { operationId: 'listEvidence', parameters: { job_id: '$response.body#/id' } } },
        },
      },
      problems: { 503: TEMPORAL_DOWN },
      handler: async (req, res) => {
        const { workspaceId } = principalOf(res);
        const b = req.body as Partial<JobFields> & Pick<JobFields, 'name' | 'connection_id' | 'datasets' | 'mapping_id' | 'destination_id' | 'target'>;
        const fields: JobFields = { ...b, mapping_version: b.mapping_version ?? null, schedule: (b.schedule ?? null) as Schedule | null, enabled: b.enabled ?? true };
        await validate(workspaceId, fields);
        const job = await save(req, res, newId('job'), fields, null);
        res.status(201).location(`/api/v1/jobs/${job.id}`).json(await view(job));
      },
    },
    {
      method: 'get', path: '/api/v1/jobs', operationId: 'listJobs', tag: 'jobs', auth: 'config:read', summary: 'List jobs.', query: pageQuery,
      responses: { 200: { description: 'A page of jobs.', schema: listOf(jobView) } },
      handler: async (_req, res) => {
        const page = await deps.jobs.list(principalOf(res).workspaceId, pageRequest(res));
        res.json({ data: await Promise.all(page.data.map(view)), next_cursor: page.next_cursor });
      },
    },
    {
      method: 'get', path: '/api/v1/jobs/:id', operationId: 'getJob', tag: 'jobs', auth: 'config:read', summary: 'Get a job.',
      responses: { 200: { description: 'The job.', schema: jobView } },
      handler: async (req, res) => { res.json(await view(await mustGet(principalOf(res).workspaceId, String(req.params.id)))); },
    },
    {
      method: 'patch', path: '/api/v1/jobs/:id', operationId: 'updateJob', tag: 'jobs', auth: 'config:write',
      summary: 'Change a job; `enabled: false` pauses its schedule, `schedule: null` removes it.',
      body: { type: 'object', additionalProperties: false, minProperties: 1, properties: fields },
      responses: { 200: { description: 'Updated.', schema: jobView } },
      problems: { 503: TEMPORAL_DOWN },
      handler: async (req, res) => {
        const { workspaceId } = principalOf(res);
        const existing = await mustGet(workspaceId, String(req.params.id));
        const { id: _id, workspace_id: _ws, created_at: _c, updated_at: _u, ...current } = existing;
        const fields: JobFields = { ...current, ...(req.body as Partial<JobFields>) };
        await validate(workspaceId, fields);
        res.json(await view(await save(req, res, existing.id, fields, existing)));
      },
    },
    {
      method: 'delete', path: '/api/v1/jobs/:id', operationId: 'deleteJob', tag: 'jobs', auth: 'config:write', summary: 'Delete a job and its schedule (its runs and evidence stay in the ledger).',
      responses: { 204: { description: 'Deleted.' } },
      problems: { 503: 'Temporal is not reachable, so the schedule could not be removed; the job was kept (Retry-After).' },
      handler: async (req, res) => {
        const { workspaceId } = principalOf(res);
        const job = await mustGet(workspaceId, String(req.params.id));
        if (job.schedule) {
          await deps.schedules.remove(job.id).catch(() => {
            throw temporalUnavailable('the schedule could not be removed, and the job was kept');
          });
        }
        await audited(deps, req, res,
          async (tx) => {
            // Under the row's lock, so a PATCH in flight either commits first or finds no job.
            const jobs = new JobStore(tx);
            if (!(await jobs.getForUpdate(workspaceId, job.id)) || !(await jobs.delete(workspaceId, job.id))) throw HubError.notFound('No job with this id in this workspace.');
          },
          () => ({ action: 'job.deleted', resourceType: 'job', resourceId: job.id, changes: { name: job.name } }));
        res.status(204).end();
      },
    },
  ];
}
