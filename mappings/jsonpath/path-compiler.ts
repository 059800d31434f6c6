/**
 * Compiles a JSONPath once per rule into a function over a root value.
 *
 * The path is tokenised by jsonpath-plus itself (`JSONPath.toPathArray`). Paths made only of
 * child names, `*` and filters — nearly every path a rule uses — run as a loop of steps with
 * the filters as closures (see filter-compiler.ts). Anything else (`..`, slices, unions, `^`,
 * `~`, type selectors, filters using @parent/@path) is evaluated by jsonpath-plus with
 * `eval: 'safe'`, after the same allow-list check of every filter in it.
 *
 * The step loop follows jsonpath-plus's `_trace` rules, including its quirk that after a `*`
 * or a child step a key literally named like the next token wins; the rare record that would
 * need that rule sends the whole evaluation to jsonpath-plus instead, so results never differ.
 */
import { JSONPath } from 'jsonpath-plus';
import type { ParamValue } from '../types.js';
import { RuleSyntaxError } from '../errors.js';
import { compileFilter, type FilterFn } from './filter-compiler.js';

export interface CompiledPath {
  readonly source: string;
  /** The results of the path over `root`, in document order. Throws when a filter fails on a value. */
  evaluate(root: unknown): unknown[];
}

type Params = Readonly<Record<string, ParamValue>>;

type Step =
  | { kind: 'child'; name: string }
  | { kind: 'wildcard' }
  | { kind: 'filter'; token: string; test: FilterFn };

const SLICE = /^(-?\d*):(-?\d*):?(\d*)$/u;

/** Tokens jsonpath-plus gives a meaning other than "the property of that name". */
function isOperatorToken(token: string): boolean {
  return (
    token === '*' ||
    token === '..' ||
    token === '^' ||
    token === '~' ||
    token === '$' ||
    SLICE.test(token) ||
    token.startsWith('?(') ||
    token.startsWith('(') ||
    token.startsWith('@') ||
    token.startsWith('`') ||
    token.includes(',')
  );
}

/** The expression inside a `?(…)` token, extracted the way jsonpath-plus does. */
export function filterExpressionOf(token: string): string {
  return token.replace(/^\?\((.*?)\)$/u, '$1');
}

/**
 * jsonpath-plus's tokenizer is lenient: "$[0", "$['a" or "$." quietly mean something. A path
 * an admin left unfinished is refused instead: brackets, parentheses and quotes must close,
 * and the path must not end in ".".
 */
function checkComplete(source: string): void {
  const closers: string[] = [];
  let quote: string | undefined;
  for (let i = 0; i < source.length; i++) {
    const char = source[i] as string;
    if (quote) {
      if (char === '\\') i++;
      else if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') quote = char;
    else if (char === '[') closers.push(']');
    else if (char === '(') closers.push(')');
    else if (char === ']' || char === ')') {
      if (closers.pop() !== char) throw new RuleSyntaxError(`JSONPath "${source}" has an unmatched "${char}"`);
    }
  }
  if (quote) throw new RuleSyntaxError(`JSONPath "${source}" has an unclosed ${quote} quote`);
  if (closers.length > 0) throw new RuleSyntaxError(`JSONPath "${source}" is missing "${closers.reverse().join('')}"`);
  if (source.length > 1 && source.endsWith('.')) throw new RuleSyntaxError(`JSONPath "${source}" ends with "."`);
}

/** Tokenises a path with jsonpath-plus, refusing what it would read as something else than a path from the root. */
export function tokenizePath(source: string): string[] {
  if (!source.startsWith('$')) throw new RuleSyntaxError(`JSONPath "${source}" must start with "$"`);
  checkComplete(source);
  const tokens = JSONPath.toPathArray(source);
  if (tokens[0] !== '$') throw new RuleSyntaxError(`JSONPath "${source}" must start with "$" followed by "." or "["`);
  return tokens.slice(1);
}

export function compilePath(source: string, params: Params): CompiledPath {
  const tokens = tokenizePath(source);
  const steps: Step[] = [];
  let needsJsonPathPlus = false;
  for (const token of tokens) {
    if (token.startsWith('?(') || token.startsWith('(')) {
      const expression = token.startsWith('?(') ? filterExpressionOf(token) : token;
      const filter = compileFilter(expression, params);
      if (filter.kind === 'closure' && token.startsWith('?(')) steps.push({ kind: 'filter', token, test: filter.test });
      else needsJsonPathPlus = true;
    } else if (token === '@other()') {
      throw new RuleSyntaxError('the @other() type selector is not supported');
    } else if (token === '*') {
      steps.push({ kind: 'wildcard' });
    } else if (isOperatorToken(token)) {
      needsJsonPathPlus = true;
    } else {
      steps.push({ kind: 'child', name: token });
    }
  }
  const viaJsonPathPlus = (root: unknown) => evaluateWithJsonPathPlus(source, root, params);
  if (needsJsonPathPlus) return { source, evaluate: viaJsonPathPlus };
  return {
    source,
    evaluate: (root) => {
      // jsonpath-plus answers nothing at all for a falsy root (even for "$").
      if (!root) return [];
      const results = runSteps(steps, root);
      return results === NEEDS_JSONPATH_PLUS ? viaJsonPathPlus(root) : results;
    },
  };
}

/** Runs a path through jsonpath-plus in its safe evaluation mode, with `params` in the sandbox. */
function evaluateWithJsonPathPlus(path: string, json: unknown, params: Params): unknown[] {
  const results: unknown = JSONPath({
    path,
    json: json as object,
    eval: 'safe',
    wrap: true,
    resultType: 'value',
    // jsonpath-plus writes its per-element variables into the sandbox: give it a fresh one.
    sandbox: { params: { ...params } } as unknown as Map<string, unknown>,
  });
  return Array.isArray(results) ? results : [];
}

const NEEDS_JSONPATH_PLUS = Symbol('needs jsonpath-plus');

function hasOwn(value: unknown, key: string): boolean {
  return Boolean(value) && Object.hasOwn(value as object, key);
}

function runSteps(steps: readonly Step[], root: unknown): unknown[] | typeof NEEDS_JSONPATH_PLUS {
  let current: unknown[] = [root];
  // jsonpath-plus's `literalPriority`: true after `*` and after a child step reached without it.
  let literalPriority = false;
  for (const step of steps) {
    if (step.kind === 'child') {
      const next: unknown[] = [];
      for (const value of current) if (hasOwn(value, step.name)) next.push((value as Record<string, unknown>)[step.name]);
      current = next;
      literalPriority = !literalPriority;
      continue;
    }
    const token = step.kind === 'wildcard' ? '*' : step.token;
    if (literalPriority && current.some((value) => hasOwn(value, token))) return NEEDS_JSONPATH_PLUS;
    current = step.kind === 'wildcard' ? expandChildren(current) : filterChildren(current, step.test, root);
    literalPriority = step.kind === 'wildcard';
  }
  return current;
}

function expandChildren(values: unknown[]): unknown[] {
  // The common `$[*]` over the record array: the array itself is the answer (never mutated).
  if (values.length === 1 && Array.isArray(values[0])) return values[0];
  const next: unknown[] = [];
  for (const value of values) {
    if (Array.isArray(value)) for (const element of value) next.push(element);
    else if (value && typeof value === 'object') for (const key of Object.keys(value)) next.push((value as Record<string, unknown>)[key]);
  }
  return next;
}

function filterChildren(values: unknown[], test: FilterFn, root: unknown): unknown[] {
  const next: unknown[] = [];
  for (const value of values) {
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) {
        const element: unknown = value[index];
        if (test(element, index, root)) next.push(element);
      }
    } else if (value && typeof value === 'object') {
      for (const key of Object.keys(value)) {
        const element = (value as Record<string, unknown>)[key];
        if (test(element, key, root)) next.push(element);
      }
    }
  }
  return next;
}
