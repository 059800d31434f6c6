/**
 * Compiles predicates (tests of one record) into closures, once per rule.
 *
 * A predicate is either a JSONPath filter string `$[?(...)]`, compiled by the filter compiler,
 * or a structured predicate (`{field, <op>: operand}`, `all_of`, `any_of`, `not`) translated
 * straight into JavaScript closures. Constant operands (literals and params) are converted
 * once here, so a record costs a field read, a conversion and a comparison.
 */
import { equal, order, parseTimestamp, toComparable, type Comparable } from './compare.js';
import { RuleSyntaxError, atPointer } from './errors.js';
import { compileFilter } from './jsonpath/filter-compiler.js';
import { filterExpressionOf, tokenizePath } from './jsonpath/path-compiler.js';
import { fieldPathReader, forbiddenSegment, isInheritedName, type PropertyReader } from './jsonpath/property-access.js';
import {
  FIELD_OPS,
  type CompareAs,
  type DaysOperand,
  type FieldOp,
  type FieldPredicate,
  type ListOperand,
  type Operand,
  type ParamValue,
  type Predicate,
  type Scalar,
} from './types.js';

/** What a record test may need besides the record: the evaluation instant and the array being tested. */
export interface RecordContext {
  readonly nowMs: number;
  readonly records: readonly unknown[];
}

export type RecordTest = (record: unknown, index: number, context: RecordContext) => boolean;

type Params = Readonly<Record<string, ParamValue>>;

const DAY_MS = 86_400_000;
const MAX_DEPTH = 20;

export function compilePredicate(predicate: Predicate, params: Params, pointer: string): RecordTest {
  return new PredicateCompiler(params).compile(predicate, pointer, 0);
}

/** Reads a `{param: name}` reference, failing at `pointer` when the rule declares no such param. */
export function resolveParam(params: Params, name: string, pointer: string): ParamValue {
  if (!Object.hasOwn(params, name)) throw new RuleSyntaxError(`unknown param "${name}"; declare it under params`, pointer);
  return params[name] as ParamValue;
}

/** A reader of a dotted record field, refusing names that lead to prototypes (blamed on `pointer`). */
export function recordFieldReader(path: string, pointer: string): PropertyReader {
  const forbidden = forbiddenSegment(path);
  if (forbidden !== undefined) throw new RuleSyntaxError(`field "${path}" uses "${forbidden}", which is not accessible`, pointer);
  return fieldPathReader(path);
}

function isParamRef(operand: unknown): operand is { param: string } {
  return typeof operand === 'object' && operand !== null && 'param' in operand;
}

function isFieldRef(operand: unknown): operand is { field: string } {
  return typeof operand === 'object' && operand !== null && 'field' in operand;
}

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

class PredicateCompiler {
  constructor(private readonly params: Params) {}

  compile(predicate: Predicate, pointer: string, depth: number): RecordTest {
    if (depth > MAX_DEPTH) throw new RuleSyntaxError(`predicates may be nested at most ${MAX_DEPTH} deep`, pointer);
    if (typeof predicate === 'string') return atPointer(pointer, () => this.filter(predicate));
    if ('all_of' in predicate) {
      const tests = predicate.all_of.map((p, i) => this.compile(p, `${pointer}/all_of/${i}`, depth + 1));
      return (record, index, context) => {
        for (const test of tests) if (!test(record, index, context)) return false;
        return true;
      };
    }
    if ('any_of' in predicate) {
      const tests = predicate.any_of.map((p, i) => this.compile(p, `${pointer}/any_of/${i}`, depth + 1));
      return (record, index, context) => {
        for (const test of tests) if (test(record, index, context)) return true;
        return false;
      };
    }
    if ('not' in predicate) {
      const test = this.compile(predicate.not, `${pointer}/not`, depth + 1);
      return (record, index, context) => !test(record, index, context);
    }
    return this.field(predicate, pointer);
  }

  private filter(path: string): RecordTest {
    const tokens = tokenizePath(path);
    const token = tokens[0];
    if (tokens.length !== 1 || token === undefined || !token.startsWith('?(')) {
      throw new RuleSyntaxError(`predicate "${path}" must be a single filter over the records, "$[?(<expression>)]"`);
    }
    const filter = compileFilter(filterExpressionOf(token), this.params);
    if (filter.kind !== 'closure') throw new RuleSyntaxError('@parent, @parentProperty and @path are not available in predicates');
    const test = filter.test;
    return (record, index, context) => Boolean(test(record, index, context.records));
  }

  private field(predicate: FieldPredicate, pointer: string): RecordTest {
    const read = recordFieldReader(predicate.field, `${pointer}/field`);
    const as = predicate.as ?? 'auto';
    const op = FIELD_OPS.find((candidate) => predicate[candidate] !== undefined) as FieldOp;
    const at = `${pointer}/${op}`;
    const fused = this.fused(predicate, op, as, at);
    if (fused) return fused;
    switch (op) {
      case 'eq':
      case 'ne':
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        return this.comparison(read, op, predicate[op] as Operand, as, at);
      case 'in':
      case 'not_in': {
        const list = this.list(predicate[op] as ListOperand, as, at);
        const negate = op === 'not_in';
        return (record) => {
          const value = toComparable(read(record), as);
          return list.some((item) => equal(value, item)) !== negate;
        };
      }
      case 'contains':
        return this.contains(read, predicate.contains as Operand, at);
      case 'exists': {
        const wanted = predicate.exists === true;
        return (record) => {
          const value = read(record);
          return (value !== undefined && value !== null) === wanted;
        };
      }
      case 'older_than_days': {
        const ms = this.days(predicate.older_than_days as DaysOperand, at) * DAY_MS;
        return (record, _index, context) => {
          const timestamp = parseTimestamp(read(record));
          return timestamp !== undefined && context.nowMs - timestamp > ms;
        };
      }
      case 'within_days': {
        const ms = this.days(predicate.within_days as DaysOperand, at) * DAY_MS;
        return (record, _index, context) => {
          const timestamp = parseTimestamp(read(record));
          return timestamp !== undefined && context.nowMs - timestamp <= ms;
        };
      }
    }
  }

  /**
   * The hottest shape, a top-level field equal (or not) to a constant, as one closure with the
   * property read inlined; it answers exactly as the general comparison does.
   */
  private fused(predicate: FieldPredicate, op: FieldOp, as: CompareAs, at: string): RecordTest | undefined {
    const key = predicate.field;
    const operand = op === 'eq' || op === 'ne' ? predicate[op] : undefined;
    if (operand === undefined || as !== 'auto' || isFieldRef(operand) || key.includes('.') || isInheritedName(key)) return undefined;
    type Fields = Record<string, unknown>;
    const constant = this.constant(operand, as, at);
    const negate = op === 'ne';
    // In auto mode a missing field reads as null, and objects equal no scalar.
    if (constant === null) {
      return (record) => {
        const value = record === null || record === undefined ? undefined : (record as Fields)[key];
        return (value === null || value === undefined) !== negate;
      };
    }
    return (record) => ((record === null || record === undefined ? undefined : (record as Fields)[key]) === constant) !== negate;
  }

  private comparison(read: PropertyReader, op: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte', operand: Operand, as: CompareAs, at: string): RecordTest {
    const holds = comparisonOutcome(op);
    if (isFieldRef(operand)) {
      const readOther = recordFieldReader(operand.field, `${at}/field`);
      return (record) => holds(toComparable(read(record), as), toComparable(readOther(record), as));
    }
    const constant = this.constant(operand, as, at);
    return (record) => holds(toComparable(read(record), as), constant);
  }

  private contains(read: PropertyReader, operand: Operand, at: string): RecordTest {
    let readNeedle: PropertyReader;
    if (isFieldRef(operand)) readNeedle = recordFieldReader(operand.field, `${at}/field`);
    else {
      const needle = this.scalar(operand, at);
      readNeedle = () => needle;
    }
    return (record) => {
      const haystack = read(record);
      const value = readNeedle(record);
      if (Array.isArray(haystack)) return value !== undefined && haystack.includes(value);
      return typeof haystack === 'string' && typeof value === 'string' && haystack.includes(value);
    };
  }

  private scalar(operand: Scalar | { param: string }, at: string): Scalar {
    if (!isParamRef(operand)) return operand;
    const value = resolveParam(this.params, operand.param, `${at}/param`);
    if (Array.isArray(value)) throw new RuleSyntaxError(`param "${operand.param}" is a list; this operator needs a single value`, `${at}/param`);
    return value;
  }

  /** A literal or param converted once for comparison; an unreadable constant is an error in the rule. */
  private constant(operand: Scalar | { param: string }, as: CompareAs, at: string): Comparable {
    const value = this.scalar(operand, at);
    const converted = toComparable(value, as);
    if (converted === undefined) {
      const where = isParamRef(operand) ? `param "${operand.param}" (${describe(value)})` : describe(value);
      throw new RuleSyntaxError(`${where} cannot be read as ${as === 'auto' ? 'a value' : `a ${as}`}`, isParamRef(operand) ? `${at}/param` : at);
    }
    return converted;
  }

  private list(operand: ListOperand, as: CompareAs, at: string): Comparable[] {
    const values = isParamRef(operand) ? resolveParam(this.params, operand.param, `${at}/param`) : operand;
    if (!Array.isArray(values)) throw new RuleSyntaxError(`param "${(operand as { param: string }).param}" must be a list`, `${at}/param`);
    return values.map((value, i) => this.constant(value, as, isParamRef(operand) ? `${at}/param` : `${at}/${i}`));
  }

  private days(operand: DaysOperand, at: string): number {
    const value = isParamRef(operand) ? resolveParam(this.params, operand.param, `${at}/param`) : operand;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RuleSyntaxError(`a number of days must be a non-negative number (got ${describe(value)})`, isParamRef(operand) ? `${at}/param` : at);
    }
    return value;
  }
}

function comparisonOutcome(op: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte'): (a: Comparable | undefined, b: Comparable | undefined) => boolean {
  switch (op) {
    case 'eq':
      return equal;
    case 'ne':
      return (a, b) => !equal(a, b);
    case 'gt':
      return (a, b) => (order(a, b) ?? 0) > 0;
    case 'gte':
      return (a, b) => {
        const o = order(a, b);
        return o !== undefined && o >= 0;
      };
    case 'lt':
      return (a, b) => (order(a, b) ?? 0) < 0;
    case 'lte':
      return (a, b) => {
        const o = order(a, b);
        return o !== undefined && o <= 0;
      };
  }
}
