import { mappingRulesSchema } from '../../../mappings/rule-schema.js';
import type { JsonSchema } from '../../../lib/json-schema.js';
import { HubApiError, type HubClient } from '../hub-client.js';
import { MAX_ITEMS, id, int, nullable, object, pick, str, type ToolDefinition } from '../tool.js';

type Json = Record<string, unknown>;
const RESULTS = ['pass', 'fail', 'info', 'error'];
const FLIPPED_SHOWN = 10;

/** The rule language's definitions, so that a model writes rules against the schema the hub checks them with. */
const ruleDefs = (mappingRulesSchema as { $defs: Record<string, JsonSchema> }).$defs;

/** The data a preview reads: the latest snapshot of each dataset of a connection (a job's, or one named). */
async function latestSnapshots(hub: HubClient, connectionId: string): Promise<{ id: string; dataset: string; collected_at: unknown }[]> {
  const snapshots = (await hub.get<{ data: Json[] }>(`/api/v1/connections/${encodeURIComponent(connectionId)}/snapshots`, { latest: true })).body.data;
  return snapshots.map((s) => ({ id: String(s.id), dataset: String(s.dataset), collected_at: s.created_at ?? s.collected_at ?? null }));
}

export const previewMapping: ToolDefinition = {
  name: 'preview_mapping',
  title: 'Preview mapping rules',
  description:
    'A dry run of mapping rules on the latest collected data, with no side effect: what each rule would answer (pass, fail, info, error) and why. ' +
    'Give the data as a job (its connection’s latest snapshots, and its published rules to compare with) or a connection; give the rules inline (`rules`, as the rule schema of the resource evidence-hub://schemas/mapping-rules describes) ' +
    'or as YAML/JSON text (`source`), or a stored mapping (`mapping_id`, `version`). With a job or mapping_id and new rules, the answer compares them with the published version: ' +
    'which rules change result and which records flip. Use it to propose a rule change (e.g. a threshold) before anyone publishes it.',
  scopes: ['config:read', 'runs:read'],
  readOnly: true,
  inputSchema: {
    type: 'object', additionalProperties: false,
    properties: {
      job_id: id('Preview on this job’s data and compare with its published rules.'),
      connection_id: id('Preview on this connection’s latest snapshots (when no job is given).'),
      rules: { $ref: '#/$defs/RuleList', description: 'The rules to try (default: the published ones of the job or mapping_id).' },
      source: { type: 'string', maxLength: 200_000, description: 'The rules as YAML or JSON text (a list of rules or {rules: [...]}), instead of `rules`.' },
      mapping_id: id('A stored mapping: its rules are previewed when no rules are given, else compared with.'),
      version: { type: 'integer', minimum: 1, description: 'With mapping_id: that version (default the latest).' },
    },
    $defs: ruleDefs,
  },
  outputSchema: object({
    results: {
      type: 'array', maxItems: 500,
      items: object({ rule_id: str, result: { enum: RESULTS }, title: str, control_ref: str, selected: nullable('integer'), matched: nullable('integer') }),
    },
    errors: { type: 'array', items: object({ rule_id: str, message: str }) },
    comparison: {
      type: ['array', 'null'], description: 'With published rules to compare with: per rule, before and after, and the records that flip.',
      items: object({ rule_id: str, before: { enum: [...RESULTS, null] }, after: { enum: [...RESULTS, null] }, changed: { type: 'boolean' }, now_failing: { type: 'array', maxItems: FLIPPED_SHOWN }, now_passing: { type: 'array', maxItems: FLIPPED_SHOWN }, now_failing_total: int, now_passing_total: int }),
    },
    snapshots: { type: 'array', maxItems: MAX_ITEMS, items: object({ id: str, dataset: str, collected_at: {} }) },
  }),
  async run(hub, args) {
    let connectionId = typeof args.connection_id === 'string' ? args.connection_id : null;
    let published: { mapping_id: string; version?: number } | null = typeof args.mapping_id === 'string' ? { mapping_id: args.mapping_id, ...(typeof args.version === 'number' ? { version: args.version } : {}) } : null;
    if (typeof args.job_id === 'string') {
      const job = (await hub.get<Json>(`/api/v1/jobs/${encodeURIComponent(args.job_id)}`)).body;
      connectionId ??= String(job.connection_id);
      published ??= { mapping_id: String(job.mapping_id), ...(typeof job.mapping_version === 'number' ? { version: job.mapping_version } : {}) };
    }
    if (!connectionId) throw new HubApiError(400, { title: 'No data to preview on', detail: 'Give job_id or connection_id: the preview reads that connection’s latest snapshots.' });
    const newRules = args.rules !== undefined ? { rules: args.rules } : typeof args.source === 'string' ? { source: { text: args.source, format: 'yaml' } } : null;
    if (!newRules && !published) throw new HubApiError(400, { title: 'No rules to preview', detail: 'Give rules, source, mapping_id, or a job_id whose published rules to preview.' });
    const snapshots = await latestSnapshots(hub, connectionId);
    if (!snapshots.length) throw new HubApiError(409, { title: 'Nothing collected yet', detail: `Connection ${connectionId} has no snapshot yet: run its job (trigger_run) or a collection first.` });
    const body: Json = { snapshot_ids: snapshots.slice(0, MAX_ITEMS).map((s) => s.id), ...(newRules ?? published) };
    if (newRules && published) body.compare_with = published;
    const preview = (await hub.post<Json>('/api/v1/mappings/preview', body)).body;
    const stats = new Map(((preview.stats ?? []) as Json[]).map((s) => [String(s.rule_id), s]));
    const results = ((preview.evidence ?? []) as Json[]).map((e) => ({
      ...pick(e, ['rule_id', 'result', 'title', 'control_ref'] as const),
      selected: (stats.get(String(e.rule_id))?.selected as number | undefined) ?? null, matched: (stats.get(String(e.rule_id))?.matched as number | undefined) ?? null,
    }));
    const errors = ((preview.errors ?? []) as Json[]).map((e) => pick(e, ['rule_id', 'message'] as const));
    const comparison = preview.comparison ? (preview.comparison as Json[]).map((c) => {
      const nowFailing = (c.now_failing ?? []) as unknown[];
      const nowPassing = (c.now_passing ?? []) as unknown[];
      return {
        ...pick(c, ['rule_id', 'before', 'after', 'changed'] as const),
        now_failing: nowFailing.slice(0, FLIPPED_SHOWN), now_passing: nowPassing.slice(0, FLIPPED_SHOWN), now_failing_total: nowFailing.length, now_passing_total: nowPassing.length,
      };
    }) : null;
    const text = results.map((r) => `- ${r.rule_id}: ${r.result} — ${r.title}`).join('\n') +
      (errors.length ? `\nErrors:\n${errors.map((e) => `- ${e.rule_id}: ${e.message}`).join('\n')}` : '') +
      (comparison ? `\nAgainst the published rules: ${comparison.filter((c) => c.changed).map((c) => `${c.rule_id} ${c.before} → ${c.after}`).join(', ') || 'no rule changes result'}` : '');
    return { structured: { results, errors, comparison, snapshots: snapshots.slice(0, MAX_ITEMS) }, text };
  },
};

export const verifyAuditLog: ToolDefinition = {
  name: 'verify_audit_log',
  title: 'Verify the audit log',
  description: 'Recomputes the audit log’s hash chain (optionally for a period) and says whether it is intact: entries checked, gaps, broken links, hash mismatches, and the first broken entry if any.',
  scopes: ['audit:read'],
  readOnly: true,
  inputSchema: {
    type: 'object', additionalProperties: false,
    properties: {
      from: { type: 'string', format: 'date-time', description: 'Entries that occurred at or after this time.' },
      to: { type: 'string', format: 'date-time', description: 'Entries that occurred before this time.' },
      scope: { enum: ['live', 'all'], default: 'live', description: 'live: the live log (anchored on the last archive checkpoint); all: the archive too.' },
    },
  },
  outputSchema: object({
    verified: { type: 'boolean' }, chain_valid: { type: 'boolean' }, logs_checked: int, hash_mismatches: int, gaps_detected: int, links_broken: int,
    first_seq: nullable('integer'), last_seq: nullable('integer'), verification_hash: str, verified_at: str, scope: str, first_broken: { type: ['object', 'null'] },
  }),
  async run(hub, args) {
    const report = (await hub.post<Json>('/api/v1/audit-log/verify', Object.fromEntries(['from', 'to', 'scope'].filter((k) => args[k] !== undefined).map((k) => [k, args[k]])))).body;
    const structured = { ...pick(report, ['verified', 'chain_valid', 'logs_checked', 'hash_mismatches', 'gaps_detected', 'links_broken', 'first_seq', 'last_seq', 'verification_hash', 'verified_at', 'scope', 'first_broken'] as const) };
    const text = report.verified
      ? `The audit log is intact: ${report.logs_checked} entries checked (seq ${report.first_seq}–${report.last_seq}).`
      : `The audit log is NOT intact: ${report.hash_mismatches} hash mismatches, ${report.gaps_detected} gaps, ${report.links_broken} broken links in ${report.logs_checked} entries.`;
    return { structured, text };
  },
};
