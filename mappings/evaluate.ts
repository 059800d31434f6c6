/**
 * Evaluates compiled rules over dataset snapshots. Pure and deterministic: the evaluation
 * instant is an input, nothing is read from the clock, the data is never mutated, and the
 * same inputs give byte-identical evidence (and the same payload_sha256).
 *
 * A rule whose data cannot be read, or whose expression fails on the data, yields
 * `result: 'error'` with the reason in the payload and in `errors`: never a silent pass.
 * Nothing a dataset contains makes this function throw.
 */
import { canonicalSha256 } from '../lib/canonical-json.js';
import { compareCount, type CompiledAssertion, type RecordAssertion } from './assertions.js';
import type { CompiledMapping, CompiledRule } from './compile.js';
import { collectDatasets, UnreadableDataset, type DatasetSource } from './datasets.js';
import type { RecordContext } from './predicates.js';
import type { EvaluateOptions, EvaluationResult, EvidenceItem, EvidenceResult, RuleError, RuleStats } from './types.js';

export const DEFAULT_MAX_LIST_ITEMS = 1000;

interface Capped<T> {
  items: T[];
  total: number;
  truncated: boolean;
}

interface FailingRecord {
  id: unknown;
  label?: unknown;
}

interface Counts {
  total: number;
  selected: number;
  excluded: number;
  count: number;
  matched: number;
  failing: number;
}

interface RuleOutcome {
  result: EvidenceResult;
  counts?: Counts;
  payload: Record<string, unknown>;
}

/** Why a rule could not be evaluated; `pointer` names the expression that failed, if one did. */
class RuleFailure extends Error {
  constructor(
    message: string,
    readonly pointer?: string,
  ) {
    super(message);
  }
}

/** Runs one stage of a rule, turning whatever it throws into a RuleFailure that names the stage. */
function stage<T>(pointer: string, what: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw new RuleFailure(`${what} failed: ${error instanceof Error ? error.message : String(error)}`, pointer);
  }
}

export function evaluate(mapping: CompiledMapping, datasets: Readonly<Record<string, unknown>>, options: EvaluateOptions): EvaluationResult {
  const nowMs = options.now instanceof Date ? options.now.getTime() : Number.NaN;
  if (Number.isNaN(nowMs)) throw new TypeError('evaluate: options.now must be a valid Date');
  const cap = options.maxListItems ?? DEFAULT_MAX_LIST_ITEMS;
  if (!Number.isInteger(cap) || cap < 1) throw new TypeError('evaluate: options.maxListItems must be a positive integer');

  const evidence: EvidenceItem[] = [];
  const errors: RuleError[] = [];
  const stats: RuleStats[] = [];
  const selections: Selections = new Map();
  for (const [index, rule] of mapping.rules.entries()) {
    options.onRule?.(index);
    let outcome: RuleOutcome;
    try {
      outcome = evaluateRule(rule, Object.hasOwn(datasets, rule.dataset) ? datasets[rule.dataset] : undefined, nowMs, cap, selections);
    } catch (error) {
      // Anything else (a stack overflow on absurdly deep data, say) is still this rule's error.
      const failure = error instanceof RuleFailure ? error : new RuleFailure(`evaluation failed: ${error instanceof Error ? error.message : String(error)}`, rule.pointer);
      errors.push({ rule_id: rule.id, dataset: rule.dataset, ...(failure.pointer === undefined ? {} : { pointer: failure.pointer }), message: failure.message });
      outcome = { result: 'error', payload: { _evaluation: { result: 'error', error: failure.message } } };
    }
    evidence.push(toEvidence(rule, outcome));
    stats.push({ rule_id: rule.id, selected: outcome.counts?.selected ?? 0, matched: outcome.counts?.matched ?? 0, excluded: outcome.counts?.excluded ?? 0 });
  }
  return { evidence, errors, stats };
}

/**
 * `evaluate` over datasets given as arrays, sync or async iterables (e.g. records parsed from
 * a gzip NDJSON snapshot) or UnreadableDataset markers. Only the datasets the mapping reads
 * are consumed.
 */
export async function evaluateFromStream(
  mapping: CompiledMapping,
  sources: Readonly<Record<string, DatasetSource | undefined>>,
  options: EvaluateOptions,
): Promise<EvaluationResult> {
  return evaluate(mapping, await collectDatasets(sources, mapping.datasets), options);
}

function describeType(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value;
}

/** Selected records by selection key, shared by the rules of one evaluation (the arrays are never mutated). */
type Selections = Map<string, unknown[]>;

function select(rule: CompiledRule, dataset: unknown[], selections: Selections): unknown[] {
  let selected = selections.get(rule.selectionKey);
  if (!selected) {
    selected = stage(`${rule.pointer}/select`, 'select', () => rule.select.evaluate(dataset));
    selections.set(rule.selectionKey, selected);
  }
  return selected;
}

function evaluateRule(rule: CompiledRule, dataset: unknown, nowMs: number, cap: number, selections: Selections): RuleOutcome {
  if (dataset === undefined) throw new RuleFailure(`dataset "${rule.dataset}" was not provided`);
  if (dataset instanceof UnreadableDataset) throw new RuleFailure(`dataset "${rule.dataset}" could not be ${dataset.stage}: ${dataset.reason}`);
  if (!Array.isArray(dataset)) throw new RuleFailure(`dataset "${rule.dataset}" must be a list of records (got ${describeType(dataset)})`);

  let selected = select(rule, dataset, selections);
  // when_empty is about `select` alone: an empty dataset (or selection), not records a where filters out.
  const nothingSelected = selected.length === 0;
  // An error says why, as every error result does (in the payload and the evaluation's errors).
  if (nothingSelected && rule.whenEmpty === 'error') throw new RuleFailure('select matched no record, which this rule reports as an error (when_empty: error)', `${rule.pointer}/select`);
  if (rule.where) {
    const where = rule.where;
    const context: RecordContext = { nowMs, records: selected };
    const candidates = selected;
    selected = stage(`${rule.pointer}/where`, 'where', () => candidates.filter((record, index) => where(record, index, context)));
  }
  const { underTest, muted, expired } = rule.exclusions.partition(selected, nowMs, rule.readId, rule.readLabel);
  const context: RecordContext = { nowMs, records: underTest };

  const checked = checkRecords(rule, underTest, context, cap);
  const assertionReports = rule.assertions.map((assertion) => stage(assertion.pointer, 'assertion', () => reportAssertion(assertion, underTest, context, checked.failures)));
  const passed = assertionReports.every((report) => report.passed);
  // An empty selection means what the rule says it means, when it says so.
  const emptyOutcome = nothingSelected ? rule.whenEmpty : undefined;
  const result: EvidenceResult = emptyOutcome ?? (rule.mode === 'info' ? 'info' : passed ? 'pass' : 'fail');
  const counts: Counts = {
    total: dataset.length,
    selected: selected.length,
    excluded: muted.length,
    count: underTest.length,
    matched: checked.matched,
    failing: underTest.length - checked.matched,
  };

  const payload: Record<string, unknown> = {};
  const truncated: Record<string, number> = {};
  for (const entry of rule.payload) {
    const projected = stage(entry.pointer, `payload entry "${entry.name}"`, () => entry.project(underTest, cap));
    payload[entry.name] = projected.value;
    if (projected.truncatedFrom !== undefined) truncated[entry.name] = projected.truncatedFrom;
  }
  // A fail says which assertion failed, in the payload and (toEvidence) in the title.
  const notMet = result === 'fail' && !emptyOutcome
    ? assertionReports.flatMap((report, i) => (report.passed ? [] : [typeof report.description === 'string' ? report.description : `pass_when[${i}] (${String(report.kind)})`]))
    : [];
  payload._evaluation = {
    result,
    ...(notMet.length ? { not_met: notMet } : {}),
    ...(emptyOutcome ? { empty_selection: `no record was selected; when_empty: ${emptyOutcome}` } : {}),
    counts,
    assertions: assertionReports,
    ...(muted.length > 0 ? { excluded: capList(muted, cap) } : {}),
    ...(expired.length > 0 ? { expired_exclusions: capList(expired, cap) } : {}),
    ...(Object.keys(rule.params).length > 0 ? { params: rule.params } : {}),
    ...(Object.keys(truncated).length > 0 ? { truncated } : {}),
  };
  return { result, counts, payload };
}

/**
 * One pass over the records under test for every `all`/`none` assertion: counts the records
 * satisfying all of them and keeps (capped) which records fail which assertion.
 */
function checkRecords(rule: CompiledRule, records: readonly unknown[], context: RecordContext, cap: number) {
  const recordAssertions = rule.assertions.filter((assertion): assertion is RecordAssertion => assertion.kind === 'all' || assertion.kind === 'none');
  const failureLists = recordAssertions.map((): Capped<FailingRecord> => ({ items: [], total: 0, truncated: false }));
  const mustMatch = recordAssertions.map((assertion) => assertion.kind === 'all');
  const tests = recordAssertions.map((assertion) => assertion.test);
  let matched = 0;
  let index = 0;
  let current = 0;
  try {
    for (; index < records.length; index++) {
      const record = records[index];
      let ok = true;
      for (current = 0; current < tests.length; current++) {
        if ((tests[current] as RecordAssertion['test'])(record, index, context) === mustMatch[current]) continue;
        ok = false;
        const list = failureLists[current] as Capped<FailingRecord>;
        list.total++;
        if (list.items.length < cap) list.items.push(failingRecord(rule, record));
        else list.truncated = true;
      }
      if (ok) matched++;
    }
  } catch (error) {
    const failed = recordAssertions[current];
    throw new RuleFailure(`assertion failed on record ${index}: ${error instanceof Error ? error.message : String(error)}`, failed?.pointer ?? rule.pointer);
  }
  const failures = new Map<CompiledAssertion, Capped<FailingRecord>>(recordAssertions.map((assertion, a) => [assertion, failureLists[a] as Capped<FailingRecord>]));
  return { matched, failures };
}

function failingRecord(rule: CompiledRule, record: unknown): FailingRecord {
  const id = rule.readId(record) ?? null;
  return rule.readLabel ? { id, label: rule.readLabel(record) ?? null } : { id };
}

function reportAssertion(
  assertion: CompiledAssertion,
  records: readonly unknown[],
  context: RecordContext,
  failures: ReadonlyMap<CompiledAssertion, Capped<FailingRecord>>,
): Record<string, unknown> & { passed: boolean } {
  const described = assertion.description === undefined ? {} : { description: assertion.description };
  switch (assertion.kind) {
    case 'all':
    case 'none': {
      const failing = failures.get(assertion) as Capped<FailingRecord>;
      return { kind: assertion.kind, ...described, passed: failing.total === 0, failing };
    }
    case 'any':
      return { kind: 'any', ...described, passed: records.some((record, index) => assertion.test(record, index, context)) };
    case 'count': {
      const actual = assertion.count(records, context);
      return { kind: 'count', ...described, passed: compareCount(actual, assertion.op, assertion.expected), actual, op: assertion.op, expected: assertion.expected };
    }
  }
}

function capList<T>(items: readonly T[], cap: number): Capped<T> {
  return { items: items.slice(0, cap), total: items.length, truncated: items.length > cap };
}

/** Titles stay readable in a GRC platform's list, however many assertions failed. */
const MAX_TITLE_LENGTH = 400;

function toEvidence(rule: CompiledRule, outcome: RuleOutcome): EvidenceItem {
  const { counts, result, payload } = outcome;
  // After an error the counts are unknown: they render as "?" rather than as a misleading 0.
  const values: Record<string, unknown> = { result, rule_id: rule.id, dataset: rule.dataset, control_ref: rule.controlRef, ...counts };
  const rendered = rule.title.render((name) => {
    if (name.startsWith('params.')) return rule.params[name.slice('params.'.length)];
    if (name.startsWith('payload.')) return counts ? payload[name.slice('payload.'.length)] : undefined;
    return values[name];
  });
  const notMet = (payload._evaluation as { not_met?: string[] } | undefined)?.not_met;
  const title = notMet?.length ? `${rendered} — not met: ${notMet.join('; ')}`.slice(0, MAX_TITLE_LENGTH) : rendered;
  return {
    rule_id: rule.id,
    dataset: rule.dataset,
    control_ref: rule.controlRef,
    ...(rule.questionMatch === undefined ? {} : { question_match: rule.questionMatch }),
    ...(rule.questionId === undefined ? {} : { question_id: rule.questionId }),
    title,
    source: rule.source,
    result,
    payload,
    payload_sha256: canonicalSha256(payload),
    references: rule.references,
  };
}
