/**
 * The syntax of JSONPath filter expressions, exactly as jsonpath-plus reads them.
 *
 * jsonpath-plus rewrites `@`, `@root`, … into sandbox identifiers and parses the result with
 * its bundled jsep parser (the "safe" script engine). We reuse that parser through
 * `JSONPath.prototype.safeVm.Script`, so an expression means here what it means to jsonpath-plus,
 * and we only ever walk the syntax tree: nothing is handed to `eval`, `Function` or `vm`.
 */
import { JSONPath } from 'jsonpath-plus';

export type FilterNode =
  | { type: 'Literal'; value?: unknown; raw: string }
  | { type: 'Identifier'; name: string }
  | { type: 'MemberExpression'; computed: boolean; optional?: boolean; object: FilterNode; property: FilterNode }
  | { type: 'CallExpression'; callee: FilterNode; arguments: FilterNode[] }
  | { type: 'UnaryExpression'; operator: string; argument: FilterNode }
  | { type: 'BinaryExpression' | 'LogicalExpression'; operator: string; left: FilterNode; right: FilterNode }
  | { type: 'ConditionalExpression'; test: FilterNode; consequent: FilterNode; alternate: FilterNode }
  | { type: 'ArrayExpression'; elements: FilterNode[] }
  | { type: 'Compound' | 'ThisExpression' | 'AssignmentExpression' | 'UpdateExpression' | 'SequenceExpression' };

interface SafeScriptClass {
  new (code: string): { readonly ast: FilterNode };
}

const safeVm = (JSONPath.prototype as unknown as { safeVm?: { Script?: SafeScriptClass } }).safeVm;
if (typeof safeVm?.Script !== 'function') {
  // A jsonpath-plus release without its safe script engine would silently change what filters mean.
  throw new Error('jsonpath-plus does not expose its safe script engine (JSONPath.prototype.safeVm.Script); check the installed version');
}
const SafeScript = safeVm.Script;

/** The sandbox identifiers jsonpath-plus substitutes for the `@…` shorthands. */
export const FILTER_IDENTIFIERS = {
  value: '_$_v',
  root: '_$_root',
  property: '_$_property',
  parent: '_$_parent',
  parentProperty: '_$_parentProperty',
  path: '_$_path',
} as const;

/** Rewrites `@…` shorthands the way jsonpath-plus's `_eval` does (same order, same patterns). */
function toSandboxScript(expression: string): string {
  let script = expression
    .replaceAll('@parentProperty', FILTER_IDENTIFIERS.parentProperty)
    .replaceAll('@parent', FILTER_IDENTIFIERS.parent)
    .replaceAll('@property', FILTER_IDENTIFIERS.property)
    .replaceAll('@root', FILTER_IDENTIFIERS.root)
    .replaceAll(/@([.\s)[])/gu, `${FILTER_IDENTIFIERS.value}$1`);
  if (expression.includes('@path')) script = script.replaceAll('@path', FILTER_IDENTIFIERS.path);
  return script;
}

/** Parses a filter expression (the text inside `?(…)`); throws SyntaxError-like errors with jsep's message. */
export function parseFilterExpression(expression: string): FilterNode {
  return new SafeScript(toSandboxScript(expression)).ast;
}

/**
 * jsonpath-plus treats a filter whose text matches this pattern as a nested filter and
 * evaluates it by a different route (also hit by a quote or bracket directly before "(").
 */
const NESTED_FILTER = /@.?([^?]*)[['](\??\(.*?\))(?!.\)\])[\]']/u;

export function looksLikeNestedFilter(expression: string): boolean {
  return NESTED_FILTER.test(expression);
}
