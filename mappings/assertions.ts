/**
 * `pass_when` assertions, compiled once per rule.
 *
 * `all` and `none` judge each record (a record fails `all` when it does not match and `none`
 * when it does), so they name the records that fail. `any` and `count` judge the set.
 */
import { RuleSyntaxError, atPointer } from './errors.js';
import { compileRecordsPath } from './records-path.js';
import { compilePredicate, resolveParam, type RecordContext, type RecordTest } from './predicates.js';
import type { Assertion, ComparisonOp, CountAssertion, ParamValue } from './types.js';

interface AssertionBase {
  readonly description?: string;
  /** JSON Pointer of the assertion in the mapping document, for evaluation errors. */
  readonly pointer: string;
}

export interface RecordAssertion extends AssertionBase {
  readonly kind: 'all' | 'none';
  /** Whether the record matches the predicate; it fails `all` on false and `none` on true. */
  readonly test: RecordTest;
}

export interface AnyAssertion extends AssertionBase {
  readonly kind: 'any';
  readonly test: RecordTest;
}

export interface CountingAssertion extends AssertionBase {
  readonly kind: 'count';
  readonly op: ComparisonOp;
  readonly expected: number;
  count(records: readonly unknown[], context: RecordContext): number;
}

export type CompiledAssertion = RecordAssertion | AnyAssertion | CountingAssertion;

type Params = Readonly<Record<string, ParamValue>>;

export function compileAssertion(assertion: Assertion, params: Params, pointer: string): CompiledAssertion {
  const common = { pointer, ...(assertion.description === undefined ? {} : { description: assertion.description }) };
  if ('all' in assertion) return { kind: 'all', test: compilePredicate(assertion.all, params, `${pointer}/all`), ...common };
  if ('none' in assertion) return { kind: 'none', test: compilePredicate(assertion.none, params, `${pointer}/none`), ...common };
  if ('any' in assertion) return { kind: 'any', test: compilePredicate(assertion.any, params, `${pointer}/any`), ...common };
  return { kind: 'count', ...compileCount(assertion.count, params, `${pointer}/count`), ...common };
}

function compileCount(count: CountAssertion, params: Params, pointer: string): Pick<CountingAssertion, 'op' | 'expected' | 'count'> {
  const expected = typeof count.value === 'number' ? count.value : resolveParam(params, count.value.param, `${pointer}/value/param`);
  if (typeof expected !== 'number' || !Number.isFinite(expected)) {
    throw new RuleSyntaxError(`param "${(count.value as { param: string }).param}" must be a number to compare a count with`, `${pointer}/value/param`);
  }
  const base = { op: count.op, expected };
  if (count.path !== undefined) {
    const path = atPointer(`${pointer}/path`, () => compileRecordsPath(count.path as string, params));
    return { ...base, count: (records) => path.evaluate(records).length };
  }
  if (count.where !== undefined) {
    const where = compilePredicate(count.where, params, `${pointer}/where`);
    return {
      ...base,
      count: (records, context) => {
        let n = 0;
        for (let i = 0; i < records.length; i++) if (where(records[i], i, context)) n++;
        return n;
      },
    };
  }
  return { ...base, count: (records) => records.length };
}

export function compareCount(actual: number, op: ComparisonOp, expected: number): boolean {
  switch (op) {
    case 'eq':
      return actual === expected;
    case 'ne':
      return actual !== expected;
    case 'gt':
      return actual > expected;
    case 'gte':
      return actual >= expected;
    case 'lt':
      return actual < expected;
    case 'lte':
      return actual <= expected;
  }
}
