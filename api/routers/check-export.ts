import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Check, CheckStore } from '../../store/checks.js';
import { citedRequirements } from '../../store/checks.js';

/** The OCSF schema version the export follows (Compliance Finding, class 2003). */
export const OCSF_VERSION = '1.3.0';

/**
 * OCSF compliance.status_id: 1 Pass, 2 Warning, 3 Fail, 99 Other. A stale result is a warning
 * (it may still hold, but nothing shows it now); error and info are not a verdict: Other.
 */
const OCSF_STATUS: Record<Check['status'], { id: number; name: string }> = {
  pass: { id: 1, name: 'Pass' }, stale: { id: 2, name: 'Warning' }, fail: { id: 3, name: 'Fail' }, error: { id: 99, name: 'Other' }, info: { id: 99, name: 'Other' },
};

/** One check as an OCSF Compliance Finding. */
export function ocsfFinding(check: Check, product: { version: string }): Record<string, unknown> {
  const status = OCSF_STATUS[check.status];
  const cited = citedRequirements(check.refs);
  const time = new Date(check.observed_at).getTime();
  return {
    class_uid: 2003, class_name: 'Compliance Finding', category_uid: 2, category_name: 'Findings',
    activity_id: 1, activity_name: 'Create', type_uid: 200301, type_name: 'Compliance Finding: Create',
    severity_id: check.status === 'fail' ? 3 : 1, severity: check.status === 'fail' ? 'Medium' : 'Informational',
    status_id: 1, status: 'New', time,
    metadata: { version: OCSF_VERSION, product: { name: 'Evidence Hub', vendor_name: 'Evidence Hub', version: product.version }, uid: check.evidence_id },
    finding_info: { uid: check.id, title: check.title, desc: `${check.control_ref}${check.question_match ? ` — ${check.question_match}` : ''}`, first_seen_time: new Date(check.changed_at).getTime(), last_seen_time: time },
    compliance: {
      standards: [...new Set(cited.map((c) => c.framework))],
      requirements: cited.map((c) => `${c.framework}:${c.requirement}`),
      control: check.control_ref,
      status_id: status.id, status: status.name,
    },
    resources: [
      { uid: check.job_id, type: 'Evidence Hub job' },
      ...(check.connection_id ? [{ uid: check.connection_id, type: 'Evidence Hub connection' }] : []),
    ],
    unmapped: { rule_id: check.rule_id, result: check.result, failing_count: check.failing_count, fresh_until: new Date(check.fresh_until).toISOString() },
  };
}

const CSV_COLUMNS = ['check_id', 'status', 'result', 'control_ref', 'question_match', 'title', 'job_id', 'rule_id', 'connection_id', 'failing_count', 'last_result_at', 'fresh_until', 'changed_at', 'evidence_id', 'references'] as const;

/** RFC 4180 quoting; a leading =, +, - or @ is defused so a spreadsheet never runs a cell as a formula. */
export function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? '' : value instanceof Date ? value.toISOString() : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function csvRow(check: Check): string {
  const references = citedRequirements(check.refs).map((c) => `${c.framework}:${c.requirement}`).join(' ');
  const cells: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    check_id: check.id, status: check.status, result: check.result, control_ref: check.control_ref, question_match: check.question_match, title: check.title,
    job_id: check.job_id, rule_id: check.rule_id, connection_id: check.connection_id, failing_count: check.failing_count,
    last_result_at: new Date(check.observed_at), fresh_until: new Date(check.fresh_until), changed_at: new Date(check.changed_at), evidence_id: check.evidence_id, references,
  };
  return CSV_COLUMNS.map((c) => csvCell(cells[c])).join(',') + '\r\n';
}

/** Every check of a workspace, a page at a time: memory stays flat however many there are. */
async function* allChecks(checks: CheckStore, workspaceId: string): AsyncGenerator<Check> {
  let after: string | null = null;
  do {
    const page = await checks.list(workspaceId, { limit: 1_000, after });
    yield* page.data;
    after = page.next_cursor === null ? null : page.data[page.data.length - 1]!.id;
  } while (after !== null);
}

/** Streams the export into `out`, honouring backpressure. */
export async function streamCheckExport(checks: CheckStore, workspaceId: string, format: 'ocsf' | 'csv', out: NodeJS.WritableStream, product: { version: string }): Promise<void> {
  async function* lines() {
    if (format === 'csv') yield CSV_COLUMNS.join(',') + '\r\n';
    for await (const check of allChecks(checks, workspaceId)) yield format === 'csv' ? csvRow(check) : JSON.stringify(ocsfFinding(check, product)) + '\n';
  }
  await pipeline(Readable.from(lines()), out);
}
