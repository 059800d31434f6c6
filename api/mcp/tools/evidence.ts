import { bounded } from '../bounds.js';
import { id, input, lines, more, nullable, object, pageInput, pageOutput, pageQuery, pick, str, type ToolDefinition } from '../tool.js';

type Json = Record<string, unknown>;
const RESULTS = ['pass', 'fail', 'info', 'error'];
const DELIVERY = ['pending', 'delivered', 'rejected', 'ambiguous', 'failed'];

const SUMMARY_FIELDS = ['id', 'title', 'control_ref', 'question_match', 'result', 'status', 'source', 'rule_id', 'run_id', 'job_id', 'collected_at', 'observed_at', 'delivered_at', 'error'] as const;
const summary = object({
  id: str, title: str, control_ref: str, question_match: nullable('string'), result: { enum: RESULTS }, status: { enum: DELIVERY }, source: str,
  rule_id: nullable('string'), run_id: nullable('string'), job_id: nullable('string'), collected_at: str, observed_at: nullable('string'), delivered_at: nullable('string'), error: nullable('string'),
});
const dateTime = (what: string) => ({ type: 'string', format: 'date-time', description: what });

export const searchEvidence: ToolDefinition = {
  name: 'search_evidence',
  title: 'Search evidence',
  description:
    'The evidence ledger: every item the hub produced or received (title, control, result, delivery status, when its data was collected), without payloads; ' +
    'filter by control_ref, result, job, run and a collection time range. get_evidence reads one item with its payload.',
  scopes: ['evidence:read'],
  readOnly: true,
  inputSchema: input({
    control_ref: { type: 'string', maxLength: 500, description: 'The control the items evidence, exactly as mapped (e.g. "Access Control").' },
    result: { enum: RESULTS },
    job_id: id('Only items of this job’s runs.'),
    run_id: id('Only items of this run.'),
    collected_from: dateTime('Items whose data was collected at or after this time (ISO 8601).'),
    collected_to: dateTime('Items whose data was collected before this time (ISO 8601).'),
    ...pageInput,
  }),
  outputSchema: pageOutput('evidence', summary),
  async run(hub, args) {
    const page = (await hub.get<{ data: Json[]; next_cursor: string | null }>('/api/v1/evidence', {
      control_ref: args.control_ref as string, result: args.result as string, job_id: args.job_id as string, run_id: args.run_id as string,
      collected_from: args.collected_from as string, collected_to: args.collected_to as string, ...pageQuery(args),
    })).body;
    const evidence = page.data.map((e) => pick(e, SUMMARY_FIELDS));
    return {
      structured: { evidence, next_cursor: page.next_cursor },
      text: lines(evidence, (e: Json) => `[${e.result}] ${e.title} — ${e.control_ref}, ${e.status}, collected ${e.collected_at} (${e.id})`, 'No evidence matches.') + more(page.next_cursor),
    };
  },
};

export const getEvidence: ToolDefinition = {
  name: 'get_evidence',
  title: 'Get an evidence item',
  description: 'One evidence item with its payload (what the rule found: counts, the records it kept, its evaluation). Long lists in the payload are cut to 50 entries, with the total stated.',
  scopes: ['evidence:read'],
  readOnly: true,
  inputSchema: input({ evidence_id: id('The item (id from search_evidence, get_check or get_run).') }, ['evidence_id']),
  outputSchema: object({
    evidence: summary,
    payload: { type: 'object' },
    payload_sha256: str,
    payload_truncated: { type: 'boolean', description: 'True when lists or texts of the payload were cut here (the item itself is whole).' },
  }),
  async run(hub, args) {
    const item = (await hub.get<Json>(`/api/v1/evidence/${encodeURIComponent(String(args.evidence_id))}`)).body;
    const payload = bounded(item.payload ?? {});
    const structured = { evidence: pick(item, SUMMARY_FIELDS), payload: payload.value as Json, payload_sha256: String(item.payload_sha256), payload_truncated: payload.truncated };
    const text = `[${item.result}] ${item.title} — ${item.control_ref}, ${item.status}\n${JSON.stringify(payload.value).slice(0, 4_000)}`;
    return { structured, text };
  },
};

export const evidenceTools = [searchEvidence, getEvidence];
