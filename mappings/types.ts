/**
 * The mapping rule language as TypeScript types. The JSON Schema in rule-schema.ts is the
 * contract (it validates every document and is served in the OpenAPI document); these types
 * describe the same shapes for the compiler, after validation.
 */

export type Scalar = string | number | boolean | null;
export type ParamValue = Scalar | Scalar[];

/** A value next to an operator: a literal, a rule parameter, or another field of the same record. */
export type Operand = Scalar | { param: string } | { field: string };
/** The value of `in` / `not_in`: a list of literals or a list-valued parameter. */
export type ListOperand = Scalar[] | { param: string };
/** A number of days, literal or from a parameter. */
export type DaysOperand = number | { param: string };

export const COMPARISON_OPS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte'] as const;
export type ComparisonOp = (typeof COMPARISON_OPS)[number];

export const FIELD_OPS = [...COMPARISON_OPS, 'in', 'not_in', 'contains', 'exists', 'older_than_days', 'within_days'] as const;
export type FieldOp = (typeof FIELD_OPS)[number];

/** How both sides of a comparison are read before comparing. */
export type CompareAs = 'auto' | 'number' | 'string' | 'date' | 'version';

export interface FieldPredicate {
  field: string;
  as?: CompareAs;
  eq?: Operand;
  ne?: Operand;
  gt?: Operand;
  gte?: Operand;
  lt?: Operand;
  lte?: Operand;
  in?: ListOperand;
  not_in?: ListOperand;
  contains?: Operand;
  exists?: boolean;
  older_than_days?: DaysOperand;
  within_days?: DaysOperand;
}

/**
 * A test of one record: a JSONPath filter (`$[?(...)]`) or a structured predicate.
 * Structured predicates never throw on missing fields: a missing value simply does not compare.
 */
export type Predicate = string | { all_of: Predicate[] } | { any_of: Predicate[] } | { not: Predicate } | FieldPredicate;

export interface CountAssertion {
  /** JSONPath over the records under test whose results are counted. */
  path?: string;
  /** Structured alternative to `path`: count the records matching this predicate. */
  where?: Predicate;
  op: ComparisonOp;
  value: number | { param: string };
}

export type Assertion = ({ all: Predicate } | { none: Predicate } | { any: Predicate } | { count: CountAssertion }) & { description?: string };

export interface ListProjection {
  list: string;
  fields?: string[];
  limit?: number;
}

export type PayloadEntry = string | { count: string } | { value: string } | ListProjection;

export interface Exclusion {
  id: string | number;
  reason: string;
  /** Date (inclusive: the whole day) or date-time after which the exclusion no longer mutes. */
  expires?: string;
}

export type References = Record<string, string | string[]>;

export interface Rule {
  id: string;
  description?: string;
  enabled?: boolean;
  dataset: string;
  control_ref: string;
  question_match?: string;
  question_id?: string;
  title: string;
  source?: string;
  select?: string;
  where?: Predicate;
  mode?: 'assert' | 'info';
  /** How long the rule's result stays fresh ("36h"), over the job's setting. */
  fresh_for?: string;
  /** The result when the selection is empty (otherwise the assertions decide). */
  when_empty?: EvidenceResult;
  pass_when?: Assertion[];
  payload?: Record<string, PayloadEntry>;
  id_field?: string;
  label_field?: string;
  exclusions?: Exclusion[];
  params?: Record<string, ParamValue>;
  references?: References;
}

/** A partial rule that changes a pack rule with the same id (or adds a rule when none has it). */
export type RuleOverride = Partial<Rule> & { id: string };

export interface MappingDocument {
  name?: string;
  description?: string;
  rules: Rule[];
}

export type EvidenceResult = 'pass' | 'fail' | 'info' | 'error';

export interface EvidenceItem {
  rule_id: string;
  dataset: string;
  control_ref: string;
  question_match?: string;
  question_id?: string;
  title: string;
  source: string;
  result: EvidenceResult;
  payload: Record<string, unknown>;
  payload_sha256: string;
  references: References;
}

export interface RuleError {
  rule_id: string;
  dataset: string;
  /** Where in the submitted mapping document the failing expression is, when one is to blame. */
  pointer?: string;
  message: string;
}

export interface RuleStats {
  rule_id: string;
  /** Records chosen by `select`/`where`, before exclusions. */
  selected: number;
  /** Records under test that satisfy every per-record assertion. */
  matched: number;
  excluded: number;
}

export interface EvaluationResult {
  evidence: EvidenceItem[];
  errors: RuleError[];
  stats: RuleStats[];
}

export interface EvaluateOptions {
  /** The evaluation instant: ages and exclusion expiry are measured from it, never from the clock. */
  now: Date;
  /** Global cap on every list in a payload (default 1000). */
  maxListItems?: number;
  /** Called before each rule with its index: a supervisor can tell which rule runs long. */
  onRule?: (index: number) => void;
}
