import type { RouteSpec, JsonSchema } from '../route.js';
import { HubError } from '../../lib/errors.js';
import { CHECK_STATUSES, type Check, type CheckStatus, type CheckStore } from '../../store/checks.js';
import { principalOf } from '../auth.js';
import { OCSF_VERSION, streamCheckExport } from './check-export.js';
import { framework as frameworkOf, frameworks } from '../../mappings/frameworks/index.js';
import { exact, listOf, nullableTimestamp, pageQuery, pageRequest, timestamp } from '../schemas.js';

export interface CheckDeps {
  checks: CheckStore;
  /** The hub's version, named in exported findings. */
  version: string;
}

const RESULTS = ['pass', 'fail', 'info', 'error'];
const references: JsonSchema = {
  type: 'object', additionalProperties: { type: ['array', 'string'], items: { type: 'string' } },
  description: 'Framework requirements the rule cites, by framework id (soc2, iso27001, nist_800_53, cis_aws, or any other key, kept as written).',
};
const checkView: JsonSchema = exact({
  id: { type: 'string', description: 'Opaque and stable: one job’s one rule.' },
  job_id: { type: 'string' }, rule_id: { type: 'string' }, connection_id: { type: ['string', 'null'] },
  control_ref: { type: 'string' }, question_match: { type: ['string', 'null'] }, title: { type: 'string', description: 'The latest result’s title.' },
  status: { enum: [...CHECK_STATUSES], description: 'The latest result, or `stale` once it is older than its freshness window.' },
  result: { enum: RESULTS, description: 'The latest result itself (also when stale).' },
  last_result_at: { ...timestamp, description: 'When the data of the latest result was observed (its collection).' },
  fresh_until: { ...timestamp, description: 'When the latest result goes stale without a new one.' },
  changed_at: { ...timestamp, description: 'Since when the check has had this result.' },
  failing_count: { type: ['integer', 'null'], minimum: 0, description: 'Records that failed the rule in the latest result.' },
  evidence_id: { type: 'string', description: 'The latest result’s evidence item (GET /api/v1/evidence/{id}).' },
  references,
});
const historyView: JsonSchema = exact({
  evidence_id: { type: 'string' }, run_id: { type: ['string', 'null'] }, result: { enum: RESULTS }, title: { type: 'string' },
  delivery_status: { enum: ['pending', 'delivered', 'rejected', 'ambiguous', 'failed'] },
  observed_at: timestamp, recorded_at: timestamp, delivered_at: nullableTimestamp,
  transition: { type: ['object', 'null'], additionalProperties: false, required: ['from', 'to'], properties: { from: { enum: RESULTS }, to: { enum: RESULTS } }, description: 'The change from the result before, if it changed.' },
});
const frameworkSummary = exact({
  id: { enum: ['soc2', 'iso27001', 'nist_800_53', 'cis_aws'] }, name: { type: 'string' }, version: { type: 'string' }, source: { type: 'string' },
  requirements: { type: 'integer', minimum: 0, description: 'Requirements in the catalog.' },
  covered: { type: 'integer', minimum: 0, description: 'Requirements at least one check of this workspace cites.' },
});
const coverageStatus = { enum: ['pass', 'fail', 'error', 'info', 'stale', 'missing'] };
const requirementCoverage = exact({
  id: { type: 'string' }, title: { type: ['string', 'null'] }, group: { type: 'string' },
  status: { ...coverageStatus, description: 'fail if any check behind it fails, else error, stale, pass, info; missing when no check cites it.' },
  checks: { type: 'array', maxItems: 20, items: exact({ id: { type: 'string' }, title: { type: 'string' }, status: { enum: [...CHECK_STATUSES] } }), description: 'The first 20 checks behind it (GET /api/v1/checks?framework= lists them all).' },
  check_counts: { ...exact(Object.fromEntries(CHECK_STATUSES.map((st) => [st, { type: 'integer', minimum: 0 }]))), description: 'All the checks behind it, by status.' },
});
/** A requirement's status from its checks': the worst one counts. */
const WORST_FIRST = ['fail', 'error', 'stale', 'pass', 'info'] as const;
const counts = exact(Object.fromEntries(CHECK_STATUSES.map((s) => [s, { type: 'integer', minimum: 0 }])));

export function presentCheck(check: Check) {
  return {
    id: check.id, job_id: check.job_id, rule_id: check.rule_id, connection_id: check.connection_id, control_ref: check.control_ref,
    question_match: check.question_match, title: check.title, status: check.status, result: check.result,
    last_result_at: check.observed_at, fresh_until: check.fresh_until, changed_at: check.changed_at,
    failing_count: check.failing_count, evidence_id: check.evidence_id, references: check.refs,
  };
}

/** Posture: where each check stands, since when, and how it got there. */
export function checkRoutes(deps: CheckDeps): RouteSpec[] {
  const mustGet = async (workspaceId: string, id: string) => {
    const check = await deps.checks.get(workspaceId, id);
    if (!check) throw HubError.notFound('No check with this id in this workspace.');
    return check;
  };
  return [
    {
      method: 'get', path: '/api/v1/checks', operationId: 'listChecks', tag: 'posture', auth: 'evidence:read',
      summary: 'Every check (a rule of a job’s mapping) with its latest status, filtered.',
      query: {
        type: 'object',
        properties: {
          ...(pageQuery.properties as object),
          status: { enum: [...CHECK_STATUSES] }, job_id: { type: 'string', maxLength: 200 }, connection_id: { type: 'string', maxLength: 200 },
          framework: { type: 'string', maxLength: 100, description: 'Checks citing this framework (soc2, iso27001, nist_800_53, cis_aws, …).' },
          control_ref: { type: 'string', maxLength: 500 },
        },
      },
      responses: { 200: { description: 'A page of checks.', schema: listOf(checkView) } },
      handler: async (_req, res) => {
        const q = res.locals.query as { status?: CheckStatus; job_id?: string; connection_id?: string; framework?: string; control_ref?: string };
        const page = await deps.checks.list(principalOf(res).workspaceId, pageRequest(res), {
          status: q.status, jobId: q.job_id, connectionId: q.connection_id, framework: q.framework, controlRef: q.control_ref,
        });
        res.json({ data: page.data.map(presentCheck), next_cursor: page.next_cursor });
      },
    },
    {
      // Before /checks/:id, which would otherwise take "export" for an id.
      method: 'get', path: '/api/v1/checks/export', operationId: 'exportChecks', tag: 'posture', auth: 'evidence:read',
      summary: 'Every check for other tools, streamed: OCSF Compliance Findings as NDJSON, or a CSV table.',
      description: `format=ocsf: one OCSF ${OCSF_VERSION} Compliance Finding (class_uid 2003) per line, application/x-ndjson; compliance.status_id is 1 for pass, 3 for fail, 2 (Warning) for stale, 99 (Other) for error and info. format=csv: a header row, then one row per check (text/csv; cells a spreadsheet would run as formulas are quoted with a leading apostrophe).`,
      query: { type: 'object', required: ['format'], properties: { format: { enum: ['ocsf', 'csv'] } } },
      responses: {
        200: { description: 'The export, streamed (application/x-ndjson or text/csv).', headers: { 'Content-Disposition': 'attachment; filename="checks.ndjson" or "checks.csv"' } },
      },
      handler: async (_req, res) => {
        const { format } = res.locals.query as { format: 'ocsf' | 'csv' };
        res.status(200);
        res.setHeader('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
        res.setHeader('Content-Disposition', `attachment; filename="checks.${format === 'csv' ? 'csv' : 'ndjson'}"`);
        try {
          await streamCheckExport(deps.checks, principalOf(res).workspaceId, format, res, { version: deps.version });
        } catch {
          // Headers are gone: a failure midway can only end the stream early (the client sees a short body).
          res.destroy();
        }
      },
    },
    {
      method: 'get', path: '/api/v1/checks/:id', operationId: 'getCheck', tag: 'posture', auth: 'evidence:read', summary: 'One check.',
      responses: { 200: { description: 'The check.', schema: checkView } },
      handler: async (req, res) => { res.json(presentCheck(await mustGet(principalOf(res).workspaceId, String(req.params.id)))); },
    },
    {
      method: 'get', path: '/api/v1/checks/:id/history', operationId: 'getCheckHistory', tag: 'posture', auth: 'evidence:read',
      summary: 'Every result of a check over time, newest first, with its transitions.', query: pageQuery,
      responses: { 200: { description: 'A page of results.', schema: listOf(historyView) } },
      handler: async (req, res) => {
        const { workspaceId } = principalOf(res);
        const check = await mustGet(workspaceId, String(req.params.id));
        res.json(await deps.checks.history(workspaceId, check, pageRequest(res)));
      },
    },
    {
      method: 'get', path: '/api/v1/frameworks', operationId: 'listFrameworks', tag: 'posture', auth: 'evidence:read',
      summary: 'The catalogued frameworks (SOC 2, ISO/IEC 27001:2022, NIST SP 800-53 Rev. 5, CIS AWS Foundations 3.0.0), with how many requirements this workspace’s checks cover.',
      responses: { 200: { description: 'The frameworks.', schema: exact({ data: { type: 'array', items: frameworkSummary } }) } },
      handler: async (_req, res) => {
        const { workspaceId } = principalOf(res);
        const covered = await deps.checks.coveredCounts(workspaceId, frameworks().flatMap((f) => f.requirements.map((r) => ({ framework: f.id, id: r.id }))));
        const data = frameworks().map((f) => ({ id: f.id, name: f.name, version: f.version, source: f.source, requirements: f.requirements.length, covered: covered[f.id] ?? 0 }));
        res.json({ data });
      },
    },
    {
      method: 'get', path: '/api/v1/frameworks/:id', operationId: 'getFramework', tag: 'posture', auth: 'evidence:read',
      summary: 'A framework’s coverage: each requirement with the checks behind it and whether they pass, fail, are stale or missing.',
      query: { type: 'object', properties: { covered: { type: 'boolean', description: 'true: only requirements some check cites; false: only those none does.' } } },
      responses: {
        200: {
          description: 'The framework and its requirements.',
          schema: exact({ ...((frameworkSummary.properties ?? {}) as Record<string, JsonSchema>), by_status: exact(Object.fromEntries(coverageStatus.enum.map((s) => [s, { type: 'integer', minimum: 0 }]))), requirement_coverage: { type: 'array', items: requirementCoverage } }),
        },
      },
      handler: async (req, res) => {
        const f = frameworkOf(String(req.params.id));
        if (!f) throw HubError.notFound('No such framework: soc2, iso27001, nist_800_53 or cis_aws.');
        const onlyCovered = (res.locals.query as { covered?: boolean }).covered;
        const behind = await deps.checks.coverage(principalOf(res).workspaceId, f.id);
        const none = Object.fromEntries(CHECK_STATUSES.map((st) => [st, 0])) as Record<CheckStatus, number>;
        const all = f.requirements.map((r) => {
          const cited = behind.get(r.id);
          const status = cited ? WORST_FIRST.find((st) => cited.counts[st] > 0)! : 'missing';
          return { id: r.id, title: r.title ?? null, group: r.group, status, checks: cited?.checks ?? [], check_counts: cited?.counts ?? none };
        });
        const byStatus = Object.fromEntries(coverageStatus.enum.map((s) => [s, all.filter((r) => r.status === s).length]));
        res.json({
          id: f.id, name: f.name, version: f.version, source: f.source, requirements: f.requirements.length, covered: all.filter((r) => r.checks.length).length,
          by_status: byStatus,
          requirement_coverage: onlyCovered === undefined ? all : all.filter((r) => (r.checks.length > 0) === onlyCovered),
        });
      },
    },
    {
      method: 'get', path: '/api/v1/posture', operationId: 'getPosture', tag: 'posture', auth: 'evidence:read',
      summary: 'How many checks pass, fail, error, inform or are stale, overall and per framework.',
      responses: {
        200: {
          description: 'The workspace’s posture now.',
          schema: exact({ checks: counts, frameworks: { type: 'object', additionalProperties: counts, description: 'By framework id: the checks citing it.' }, as_of: timestamp }),
        },
      },
      handler: async (_req, res) => {
        const { byStatus, byFramework } = await deps.checks.summary(principalOf(res).workspaceId);
        res.json({ checks: byStatus, frameworks: byFramework, as_of: new Date() });
      },
    },
  ];
}
