/**
 * Turns a mapping document into compiled rules: validated against the schema, then every
 * JSONPath, predicate, template, parameter reference and exclusion compiled once. Errors of
 * both stages come back together as `{pointer, message}` into the submitted document.
 */
import type { FieldError } from '../lib/errors.js';
import { compileAssertion, type CompiledAssertion } from './assertions.js';
import { RuleSyntaxError, atPointer } from './errors.js';
import { compileExclusions, type CompiledExclusions } from './exclusions.js';
import { compilePath, type CompiledPath } from './jsonpath/path-compiler.js';
import type { PropertyReader } from './jsonpath/property-access.js';
import { compilePayloadEntry, type CompiledPayloadEntry } from './payload.js';
import { compilePredicate, recordFieldReader, type RecordTest } from './predicates.js';
import { compileTemplate, type CompiledTemplate } from './template.js';
import { framework, unknownReferences } from './frameworks/index.js';
import type { EvidenceResult, ParamValue, References, Rule } from './types.js';
import { escapePointerToken, schemaErrors } from './validation.js';

export interface CompiledRule {
  readonly id: string;
  readonly dataset: string;
  readonly controlRef: string;
  readonly questionMatch?: string;
  readonly questionId?: string;
  readonly source: string;
  readonly references: References;
  readonly mode: 'assert' | 'info';
  readonly whenEmpty: EvidenceResult | undefined;
  readonly params: Readonly<Record<string, ParamValue>>;
  /** JSON Pointer of the rule in the document it was compiled from. */
  readonly pointer: string;
  readonly select: CompiledPath;
  /** Rules with equal keys select the same records from the same dataset: evaluation selects once. */
  readonly selectionKey: string;
  readonly where?: RecordTest;
  readonly readId: PropertyReader;
  readonly readLabel?: PropertyReader;
  readonly exclusions: CompiledExclusions;
  readonly assertions: readonly CompiledAssertion[];
  readonly payload: readonly CompiledPayloadEntry[];
  readonly title: CompiledTemplate;
}

export interface CompiledMapping {
  /** The enabled rules, in document order. */
  readonly rules: readonly CompiledRule[];
  /** The datasets the enabled rules read (what a run must collect). */
  readonly datasets: readonly string[];
}

/** The rule's document is invalid; `errors` point into it. */
export class MappingValidationError extends Error {
  override readonly name = 'MappingValidationError';

  constructor(readonly errors: FieldError[]) {
    super(`The mapping is invalid: ${errors.length} error${errors.length === 1 ? '' : 's'}, first at ${errors[0]?.pointer || '(document)'}: ${errors[0]?.message ?? ''}`);
  }
}

/** Template names every rule has; `params.<name>` and `payload.<count/value entry>` come on top. */
export const TEMPLATE_VARIABLES = ['result', 'rule_id', 'dataset', 'control_ref', 'total', 'selected', 'excluded', 'count', 'matched', 'failing'] as const;

/** Compiles a mapping document (`{rules}` or a bare array). Throws MappingValidationError when it is invalid. */
export function compileRules(document: unknown): CompiledMapping {
  const { mapping, errors } = compileDocument(document);
  if (!mapping) throw new MappingValidationError(errors);
  return mapping;
}

/** All schema and compile errors of a mapping document; empty when it compiles. */
export function validateMappingDocument(document: unknown): FieldError[] {
  return compileDocument(document).errors;
}

function compileDocument(document: unknown): { mapping?: CompiledMapping; errors: FieldError[] } {
  const errors = schemaErrors(document);
  const prefix = Array.isArray(document) ? '' : '/rules';
  const rules: unknown = Array.isArray(document) ? document : (document as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rules)) return { errors };

  const compiled: CompiledRule[] = [];
  const firstUse = new Map<string, string>();
  rules.forEach((rule: Rule, index) => {
    const pointer = `${prefix}/${index}`;
    // A rule the schema rejected has no reliable shape to compile; its schema errors say enough.
    if (errors.some((error) => error.pointer === pointer || error.pointer.startsWith(`${pointer}/`))) return;
    const earlier = firstUse.get(rule.id);
    if (earlier !== undefined) errors.push({ pointer: `${pointer}/id`, message: `duplicate rule id "${rule.id}" (also at ${earlier})` });
    else firstUse.set(rule.id, `${pointer}/id`);
    const result = compileRule(rule, pointer);
    if ('errors' in result) errors.push(...result.errors);
    else if (rule.enabled !== false) compiled.push(result.rule);
  });
  if (errors.length > 0) return { errors };
  return { mapping: { rules: compiled, datasets: [...new Set(compiled.map((rule) => rule.dataset))] }, errors };
}

/**
 * Rules with equal keys select the same records: the same dataset and path, and the same
 * params when the path reads any.
 */
function selectionKeyOf(rule: Rule, source: string, params: Readonly<Record<string, ParamValue>>): string {
  return [rule.dataset, source, source.includes('params') ? JSON.stringify(params) : ''].join('\u0000');
}

/** The title template, which may use the fixed variables, the rule's params and its scalar payload entries. */
function compileTitle(title: string, params: Readonly<Record<string, ParamValue>>, payload: ReadonlyArray<CompiledPayloadEntry | undefined>): CompiledTemplate {
  const scalarEntries = payload.flatMap((entry) => (entry?.isScalar ? [entry.name] : []));
  const known = new Set<string>([...TEMPLATE_VARIABLES, ...Object.keys(params).map((name) => `params.${name}`), ...scalarEntries.map((name) => `payload.${name}`)]);
  return compileTemplate(title, (name) => known.has(name), () => [...known].join(', '));
}

/**
 * Compiles one schema-valid rule. Each part is compiled on its own so that one mistake does
 * not hide the next: the author sees every broken path and reference at once.
 */
function compileRule(rule: Rule, pointer: string): { rule: CompiledRule } | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  const attempt = <T>(at: string, compile: () => T): T | undefined => {
    try {
      return atPointer(at, compile);
    } catch (error) {
      if (!(error instanceof RuleSyntaxError)) throw error;
      errors.push({ pointer: error.pointer ?? at, message: error.message });
      return undefined;
    }
  };
  const params: Readonly<Record<string, ParamValue>> = Object.freeze({ ...rule.params });
  const selectSource = rule.select ?? '$[*]';
  const select = attempt(`${pointer}/select`, () => compilePath(selectSource, params));
  const where = rule.where;
  const compiledWhere = where === undefined ? undefined : attempt(`${pointer}/where`, () => compilePredicate(where, params, `${pointer}/where`));
  const idField = rule.id_field ?? 'id';
  const readId = attempt(`${pointer}/id_field`, () => recordFieldReader(idField, `${pointer}/id_field`));
  const labelField = rule.label_field;
  const readLabel = labelField === undefined ? undefined : attempt(`${pointer}/label_field`, () => recordFieldReader(labelField, `${pointer}/label_field`));
  const exclusions = attempt(`${pointer}/exclusions`, () => compileExclusions(rule.exclusions ?? [], `${pointer}/exclusions`));
  const assertions = (rule.pass_when ?? []).map((assertion, i) => {
    const at = `${pointer}/pass_when/${i}`;
    return attempt(at, () => compileAssertion(assertion, params, at));
  });
  const payload = Object.entries(rule.payload ?? {}).map(([name, entry]) => {
    const at = `${pointer}/payload/${escapePointerToken(name)}`;
    return attempt(at, () => compilePayloadEntry(name, entry, params, at));
  });
  const title = attempt(`${pointer}/title`, () => compileTitle(rule.title, params, payload));
  // References to the catalogued frameworks must name their requirements; other keys are kept as written.
  for (const unknown of unknownReferences(rule.references ?? {})) {
    const at = `${pointer}/references/${escapePointerToken(unknown.framework)}${unknown.index === null ? '' : `/${unknown.index}`}`;
    errors.push({ pointer: at, message: `"${unknown.requirement}" is not a requirement of ${framework(unknown.framework)!.name} ${framework(unknown.framework)!.version}` });
  }

  if (errors.length > 0 || !select || !readId || !exclusions || !title) return { errors };
  return {
    rule: {
      id: rule.id,
      dataset: rule.dataset,
      controlRef: rule.control_ref,
      ...(rule.question_match === undefined ? {} : { questionMatch: rule.question_match }),
      ...(rule.question_id === undefined ? {} : { questionId: rule.question_id }),
      source: rule.source ?? `Evidence Hub: ${rule.dataset}`,
      references: rule.references ?? {},
      mode: rule.mode ?? 'assert',
      whenEmpty: rule.when_empty,
      params,
      pointer,
      select,
      selectionKey: selectionKeyOf(rule, selectSource, params),
      ...(compiledWhere ? { where: compiledWhere } : {}),
      readId,
      ...(readLabel ? { readLabel } : {}),
      exclusions,
      assertions: assertions as CompiledAssertion[],
      payload: payload as CompiledPayloadEntry[],
      title,
    },
  };
}
