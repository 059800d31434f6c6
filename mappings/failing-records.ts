/**
 * Reading an evaluation the way the mapping studio shows it: the records a rule fails on (from
 * the `_evaluation` an item's payload carries), and what changes between two evaluations of
 * the same data (which rules change result, which records flip). Pure: no I/O.
 */
import type { EvaluationResult, EvidenceItem } from './types.js';

export interface FailingRecordView {
  id: unknown;
  label?: unknown;
  /** The assertions the record fails (their descriptions, else their kinds). */
  fails: string[];
}

interface AssertionReport { kind: string; description?: string; failing?: { items: { id: unknown; label?: unknown }[]; total: number } }

/** Each failing record once, in the order the rule met them, with what it fails. */
export function failingRecordsOf(item: EvidenceItem): FailingRecordView[] {
  const assertions = ((item.payload._evaluation as { assertions?: AssertionReport[] } | undefined)?.assertions ?? []);
  const byId = new Map<string, FailingRecordView>();
  for (const assertion of assertions) {
    for (const record of assertion.failing?.items ?? []) {
      const key = JSON.stringify(record.id ?? null);
      const seen = byId.get(key);
      const what = assertion.description ?? assertion.kind;
      if (seen) seen.fails.push(what);
      else byId.set(key, { id: record.id ?? null, ...(record.label === undefined ? {} : { label: record.label }), fails: [what] });
    }
  }
  return [...byId.values()];
}

export interface RuleComparison {
  rule_id: string;
  /** The result under the published rules (null: the rule is new). */
  before: string | null;
  /** The result under the edited rules (null: the rule was removed or disabled). */
  after: string | null;
  changed: boolean;
  /** Records failing now that did not before, and the reverse (ids). */
  now_failing: unknown[];
  now_passing: unknown[];
}

/** What the edited rules (`after`) change against the published ones (`before`) on the same data. */
export function compareEvaluations(before: EvaluationResult, after: EvaluationResult): RuleComparison[] {
  const old = new Map(before.evidence.map((item) => [item.rule_id, item]));
  const now = new Map(after.evidence.map((item) => [item.rule_id, item]));
  const ids = [...new Set([...now.keys(), ...old.keys()])];
  return ids.map((ruleId) => {
    const a = old.get(ruleId);
    const b = now.get(ruleId);
    const failingBefore = new Map((a ? failingRecordsOf(a) : []).map((r) => [JSON.stringify(r.id), r.id]));
    const failingAfter = new Map((b ? failingRecordsOf(b) : []).map((r) => [JSON.stringify(r.id), r.id]));
    const nowFailing = [...failingAfter].filter(([key]) => !failingBefore.has(key)).map(([, id]) => id);
    const nowPassing = b ? [...failingBefore].filter(([key]) => !failingAfter.has(key)).map(([, id]) => id) : [];
    const resultBefore = a?.result ?? null;
    const resultAfter = b?.result ?? null;
    return { rule_id: ruleId, before: resultBefore, after: resultAfter, changed: resultBefore !== resultAfter || nowFailing.length > 0 || nowPassing.length > 0, now_failing: nowFailing, now_passing: nowPassing };
  });
}
