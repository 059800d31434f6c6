import { mapConcurrent } from '../../../lib/map-concurrent.js';
import type { HubClient } from '../hub-client.js';
import { MAX_ITEMS, id, input, int, lines, more, nullable, object, pageInput, pageOutput, pageQuery, pick, str, type ToolDefinition } from '../tool.js';

const CHECK_STATUSES = ['pass', 'fail', 'error', 'info', 'stale'];
const RESULTS = ['pass', 'fail', 'info', 'error'];
const FRAMEWORKS = ['soc2', 'iso27001', 'nist_800_53', 'cis_aws'];
/** Failing records shown per check in a listing: a taste; get_check lists up to MAX_ITEMS. */
const SAMPLE_RECORDS = 5;

type Json = Record<string, unknown>;

const failingRecord = object({ id: {}, label: {}, assertion: nullable('string') });
const failingRecords = object({
  total: { type: 'integer', minimum: 0, description: 'Records failing the rule in the latest result.' },
  items: { type: 'array', maxItems: MAX_ITEMS, items: failingRecord },
  truncated: { type: 'boolean', description: 'True when more records fail than are listed here.' },
});

const CHECK_FIELDS = ['id', 'title', 'status', 'result', 'control_ref', 'question_match', 'job_id', 'rule_id', 'connection_id', 'last_result_at', 'changed_at', 'fresh_until', 'failing_count', 'evidence_id', 'references'] as const;
const checkSummary = object({
  id: str, title: str, status: { enum: CHECK_STATUSES }, result: { enum: RESULTS }, control_ref: str, question_match: nullable('string'),
  job_id: str, rule_id: str, connection_id: nullable('string'), last_result_at: str, changed_at: str, fresh_until: str,
  failing_count: nullable('integer'), evidence_id: str, references: { type: 'object' },
});

interface Assertion { kind?: string; description?: string; passed?: boolean; failing?: { items?: { id?: unknown; label?: unknown }[]; total?: number; truncated?: boolean } }
interface Evaluation { result?: string; not_met?: string[]; error?: string; empty_selection?: string; assertions?: Assertion[] }

/** The records a result failed on, with their labels, from its evidence item's evaluation: at most `max`. */
export function failingRecordsOf(evidence: { payload?: Json } | null, max: number): { total: number; items: { id: unknown; label: unknown; assertion: string | null }[]; truncated: boolean } {
  const evaluation = (evidence?.payload?._evaluation ?? {}) as Evaluation;
  const items: { id: unknown; label: unknown; assertion: string | null }[] = [];
  let total = 0;
  let truncated = false;
  for (const assertion of evaluation.assertions ?? []) {
    const failing = assertion.failing;
    if (!failing) continue;
    total += failing.total ?? failing.items?.length ?? 0;
    if (failing.truncated) truncated = true;
    for (const record of failing.items ?? []) {
      if (items.length >= max) {
        truncated = true;
        break;
      }
      items.push({ id: record.id ?? null, label: record.label ?? null, assertion: assertion.description ?? assertion.kind ?? null });
    }
  }
  return { total, items, truncated: truncated || items.length < total };
}

async function latestEvidence(hub: HubClient, evidenceId: string): Promise<Json | null> {
  return (await hub.get<Json>(`/api/v1/evidence/${encodeURIComponent(evidenceId)}`)).body;
}

const renderCheck = (c: Json) => `[${c.status}] ${c.title} — ${c.control_ref} (check ${c.id}${c.failing_count ? `, ${c.failing_count} failing` : ''})`;

export const listChecks: ToolDefinition = {
  name: 'list_checks',
  title: 'List checks',
  description:
    'Where compliance stands: every check (one rule of one job) with its latest status (pass, fail, error, info, stale), failing first when filtered by status. ' +
    `Filter by status, framework (${FRAMEWORKS.join(', ')}), job or control. A failing check lists its first ${SAMPLE_RECORDS} failing records (id and label); get_check gives all of its detail.`,
  scopes: ['evidence:read'],
  readOnly: true,
  inputSchema: input({
    status: { enum: CHECK_STATUSES, description: 'Only checks with this status.' },
    framework: { type: 'string', maxLength: 100, description: `Only checks citing this framework (${FRAMEWORKS.join(', ')}).` },
    job_id: id('Only the checks of this job.'),
    control_ref: { type: 'string', maxLength: 500, description: 'Only checks evidencing this control.' },
    ...pageInput,
  }),
  outputSchema: pageOutput('checks', { ...checkSummary, properties: { ...(checkSummary.properties as object), failing_sample: { type: 'array', maxItems: SAMPLE_RECORDS, items: failingRecord } } }),
  async run(hub, args) {
    const page = (await hub.get<{ data: Json[]; next_cursor: string | null }>('/api/v1/checks', {
      status: args.status as string, framework: args.framework as string, job_id: args.job_id as string, control_ref: args.control_ref as string, ...pageQuery(args),
    })).body;
    const checks = await mapConcurrent(page.data, 4, async (check) => {
      const summary: Json = pick(check, CHECK_FIELDS);
      if (check.status === 'fail' || check.result === 'fail') summary.failing_sample = failingRecordsOf(await latestEvidence(hub, String(check.evidence_id)), SAMPLE_RECORDS).items;
      return summary;
    });
    const text = lines(checks, (c: Json) => {
      const sample = (c.failing_sample as { label: unknown; id: unknown }[] | undefined)?.map((r) => String(r.label ?? r.id)).join(', ');
      return renderCheck(c) + (sample ? `; failing: ${sample}` : '');
    }, 'No checks match.');
    return { structured: { checks, next_cursor: page.next_cursor }, text: text + more(page.next_cursor) };
  },
};

export const getCheck: ToolDefinition = {
  name: 'get_check',
  title: 'Get a check',
  description:
    `One check in full: its latest result and why (which assertions were not met), the records it failed on with their labels (at most ${MAX_ITEMS}, with the total), ` +
    'and its recent history (results over time, with the changes from pass to fail and back).',
  scopes: ['evidence:read'],
  readOnly: true,
  inputSchema: input({ check_id: id('The check (id from list_checks).'), history_limit: { type: 'integer', minimum: 1, maximum: MAX_ITEMS, default: 10, description: 'How many past results to list.' } }, ['check_id']),
  outputSchema: object({
    check: checkSummary,
    latest: object({
      evidence_id: str, title: str, result: { enum: RESULTS }, observed_at: nullable('string'),
      not_met: { type: 'array', items: str, description: 'The assertions the records did not meet.' },
      error: nullable('string'), empty_selection: nullable('string'),
    }),
    failing_records: failingRecords,
    history: {
      type: 'array', maxItems: MAX_ITEMS,
      items: object({ evidence_id: str, run_id: nullable('string'), result: { enum: RESULTS }, observed_at: str, transition: { type: ['object', 'null'] } }),
    },
  }),
  async run(hub, args) {
    const checkId = encodeURIComponent(String(args.check_id));
    const [check, history] = await Promise.all([
      hub.get<Json>(`/api/v1/checks/${checkId}`).then((r) => r.body),
      hub.get<{ data: Json[] }>(`/api/v1/checks/${checkId}/history`, { limit: (args.history_limit as number | undefined) ?? 10 }).then((r) => r.body.data),
    ]);
    const evidence = await latestEvidence(hub, String(check.evidence_id));
    const evaluation = ((evidence?.payload as Json | undefined)?._evaluation ?? {}) as Evaluation;
    const failing = failingRecordsOf(evidence, MAX_ITEMS);
    const latest = {
      evidence_id: String(check.evidence_id), title: String(evidence?.title ?? check.title), result: evidence?.result ?? check.result, observed_at: evidence?.observed_at ?? null,
      not_met: evaluation.not_met ?? [], error: evaluation.error ?? null, empty_selection: evaluation.empty_selection ?? null,
    };
    const structured = {
      check: pick(check, CHECK_FIELDS), latest, failing_records: failing,
      history: history.map((h) => pick(h, ['evidence_id', 'run_id', 'result', 'observed_at', 'transition'] as const)),
    };
    const records = failing.items.map((r) => `  - ${String(r.label ?? r.id)}${r.assertion ? ` (${r.assertion})` : ''}`).join('\n');
    const text = [
      renderCheck(check),
      latest.not_met.length ? `Not met: ${latest.not_met.join('; ')}` : null,
      latest.error ? `Error: ${latest.error}` : null,
      failing.total ? `Failing records (${failing.items.length} of ${failing.total}):\n${records}` : null,
      history.length ? `History: ${history.map((h) => `${h.result}@${String(h.observed_at).slice(0, 10)}`).join(', ')}` : null,
    ].filter(Boolean).join('\n');
    return { structured, text };
  },
};

export const listFrameworks: ToolDefinition = {
  name: 'list_frameworks',
  title: 'List frameworks',
  description: 'The compliance frameworks the hub catalogs (SOC 2, ISO/IEC 27001, NIST SP 800-53, CIS AWS), each with how many of its requirements this workspace’s checks cover.',
  scopes: ['evidence:read'],
  readOnly: true,
  inputSchema: input({}),
  outputSchema: object({ frameworks: { type: 'array', items: object({ id: str, name: str, version: str, requirements: int, covered: int }) } }),
  async run(hub) {
    const data = (await hub.get<{ data: Json[] }>('/api/v1/frameworks')).body.data;
    const frameworks = data.map((f) => pick(f, ['id', 'name', 'version', 'requirements', 'covered'] as const));
    return { structured: { frameworks }, text: lines(frameworks, (f: Json) => `${f.id}: ${f.name} ${f.version} — ${f.covered} of ${f.requirements} requirements covered`, 'No frameworks.') };
  },
};

const COVERAGE_STATUSES = ['pass', 'fail', 'error', 'info', 'stale', 'missing'];
const CHECKS_PER_REQUIREMENT = 5;

export const getFrameworkCoverage: ToolDefinition = {
  name: 'get_framework_coverage',
  title: 'Get framework coverage',
  description:
    'How one framework stands: counts of requirements by status (fail if any check behind it fails; missing when no check cites it), then its requirements, ' +
    `filtered by status (e.g. fail or missing), at most ${MAX_ITEMS} per page, each with up to ${CHECKS_PER_REQUIREMENT} of the checks behind it.`,
  scopes: ['evidence:read'],
  readOnly: true,
  inputSchema: input({
    framework_id: { enum: FRAMEWORKS, description: 'The framework.' },
    status: { enum: COVERAGE_STATUSES, description: 'Only requirements with this status.' },
    ...pageInput,
  }, ['framework_id']),
  outputSchema: object({
    framework: object({ id: str, name: str, version: str, requirements: int, covered: int }),
    by_status: { type: 'object', additionalProperties: int },
    requirements: {
      type: 'array', maxItems: MAX_ITEMS,
      items: object({ id: str, title: nullable('string'), status: { enum: COVERAGE_STATUSES }, checks: { type: 'array', maxItems: CHECKS_PER_REQUIREMENT, items: object({ id: str, title: str, status: str }) }, check_count: int }),
    },
    total: { type: 'integer', description: 'Requirements matching the filter.' },
    next_cursor: nullable('string'),
  }),
  async run(hub, args) {
    const f = (await hub.get<Json>(`/api/v1/frameworks/${encodeURIComponent(String(args.framework_id))}`)).body;
    const all = (f.requirement_coverage as Json[]).filter((r) => !args.status || r.status === args.status);
    const { limit, cursor } = pageQuery(args);
    // The API answers every requirement at once; the tool pages them so a framework of a thousand requirements stays readable.
    const offset = cursor && /^\d+$/.test(cursor) ? Number(cursor) : 0;
    const requirements = all.slice(offset, offset + limit).map((r) => {
      const counts = (r.check_counts ?? {}) as Record<string, number>;
      return {
        id: r.id, title: r.title ?? null, status: r.status, checks: (r.checks as Json[]).slice(0, CHECKS_PER_REQUIREMENT).map((c) => pick(c, ['id', 'title', 'status'] as const)),
        check_count: Object.values(counts).reduce((a, b) => a + b, 0),
      };
    });
    const next = offset + limit < all.length ? String(offset + limit) : null;
    const byStatus = f.by_status as Record<string, number>;
    const text = `${f.name} ${f.version}: ${f.covered} of ${f.requirements} requirements covered; ` +
      Object.entries(byStatus).map(([s, n]) => `${s} ${n}`).join(', ') + '\n' +
      lines(requirements, (r: Json) => `[${r.status}] ${r.id}${r.title ? ` ${r.title}` : ''} (${r.check_count} checks)`, 'No requirements match.') + more(next);
    return { structured: { framework: pick(f, ['id', 'name', 'version', 'requirements', 'covered'] as const), by_status: byStatus, requirements, total: all.length, next_cursor: next }, text };
  },
};

export const postureTools = [listChecks, getCheck, listFrameworks, getFrameworkCoverage];
