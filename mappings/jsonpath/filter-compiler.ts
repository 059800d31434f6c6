/**
 * Compiles a JSONPath filter expression into a closure, once per rule.
 *
 * The syntax tree comes from jsonpath-plus's own safe parser; this module first checks it
 * against an allow-list (record fields, literals, comparisons, arithmetic, logic and a few
 * side-effect-free string/list tests) and then turns each node into a small JavaScript
 * closure. Nothing is ever evaluated as code, and the closures mirror jsonpath-plus's safe
 * evaluator (same operators, same error on reading a property of null), so a filter gives
 * the same answer here as through `JSONPath({eval: 'safe'})`, only without re-walking the
 * tree for every record.
 */
import type { ParamValue } from '../types.js';
import { RuleSyntaxError } from '../errors.js';
import { FILTER_IDENTIFIERS, looksLikeNestedFilter, parseFilterExpression, type FilterNode } from './filter-syntax.js';
import { FORBIDDEN_PROPERTY_NAMES, isInheritedName, ownPropertyReader, type PropertyReader } from './property-access.js';

/** A compiled filter: truthy when the element `value` (at `property` of its container) passes. */
export type FilterFn = (value: unknown, property: string | number, root: unknown) => unknown;

export type CompiledFilter =
  /** Runs as a closure. */
  | { kind: 'closure'; test: FilterFn }
  /** Valid, but uses @parent, @parentProperty or @path: only jsonpath-plus tracks those. */
  | { kind: 'needs-jsonpath-plus' };

type Params = Readonly<Record<string, ParamValue>>;

const STRING_METHODS: ReadonlySet<string> = new Set(['startsWith', 'endsWith', 'includes', 'indexOf', 'toLowerCase', 'toUpperCase', 'trim']);
const LIST_METHODS: ReadonlySet<string> = new Set(['includes', 'indexOf']);

const COMPARISONS = ['==', '!=', '===', '!==', '<', '>', '<=', '>='] as const;
const ARITHMETIC = ['+', '-', '*', '/', '%'] as const;
const UNARY = ['!', '-', '+', 'typeof'] as const;

const REJECTED_NODE_MESSAGES: Record<string, string> = {
  Compound: 'only one expression is allowed (no ";" or ",")',
  ThisExpression: '"this" is not available; use @ for the current record',
  AssignmentExpression: 'assignments are not allowed',
  UpdateExpression: 'assignments are not allowed',
  SequenceExpression: 'only one expression is allowed (no ";" or ",")',
};

const ALLOWED_CALLS = `calls are limited to text.${[...STRING_METHODS].join('/')}() and list.${[...LIST_METHODS].join('/')}()`;

const ALLOWED_NAMES =
  '@ (the record), @root, @property, @parent, @parentProperty, @path and params.<name>';

function fail(message: string): never {
  throw new RuleSyntaxError(message);
}

/**
 * Validates and compiles the text inside `?(…)`. Throws RuleSyntaxError with a message an
 * admin can act on when the expression does not parse or steps outside the allow-list.
 */
export function compileFilter(expression: string, params: Params): CompiledFilter {
  if (expression.trim() === '') fail('the filter is empty; write a condition such as ?(@.status == "ACTIVE")');
  if (looksLikeNestedFilter(expression)) {
    fail(
      `filter "${expression}" is read by jsonpath-plus as a nested filter (a quote or "[" directly before "("); nested filters are not supported, use a structured predicate`,
    );
  }
  let ast: FilterNode;
  try {
    ast = parseFilterExpression(expression);
  } catch (error) {
    fail(`filter "${expression}" does not parse: ${describeParseError(error)}`);
  }
  const compiler = new FilterCompiler(params);
  const test = compiler.compile(ast);
  return compiler.needsJsonPathPlus ? { kind: 'needs-jsonpath-plus' } : { kind: 'closure', test };
}

function describeParseError(error: unknown): string {
  // jsep reports positions in the rewritten script (@ → _$_v), which would only confuse.
  return (error instanceof Error ? error.message : String(error)).replace(/ at character \d+$/u, '');
}

type Operator<T extends readonly string[]> = T[number];

class FilterCompiler {
  needsJsonPathPlus = false;

  constructor(private readonly params: Params) {}

  compile(node: FilterNode): FilterFn {
    switch (node.type) {
      case 'Literal':
        return this.literal(node);
      case 'Identifier':
        return this.identifier(node.name);
      case 'MemberExpression':
        return this.member(node);
      case 'CallExpression':
        return this.call(node);
      case 'UnaryExpression':
        return this.unary(node.operator, this.compile(node.argument));
      case 'BinaryExpression':
      case 'LogicalExpression':
        return this.binary(node.operator, node.left, node.right);
      case 'ConditionalExpression': {
        const test = this.compile(node.test);
        const consequent = this.compile(node.consequent);
        const alternate = this.compile(node.alternate);
        return (v, p, r) => (test(v, p, r) ? consequent(v, p, r) : alternate(v, p, r));
      }
      case 'ArrayExpression': {
        const elements = node.elements.map((element) => this.compile(element));
        return (v, p, r) => elements.map((element) => element(v, p, r));
      }
      default:
        return fail(REJECTED_NODE_MESSAGES[node.type] ?? `"${node.type}" is not allowed in a filter`);
    }
  }

  private literal(node: Extract<FilterNode, { type: 'Literal' }>): FilterFn {
    const value = node.value;
    if (value instanceof RegExp) fail('regular expressions are not supported in filters; use startsWith, endsWith or includes');
    return () => value;
  }

  private identifier(name: string): FilterFn {
    switch (name) {
      case FILTER_IDENTIFIERS.value:
        return (v) => v;
      case FILTER_IDENTIFIERS.root:
        return (_v, _p, r) => r;
      case FILTER_IDENTIFIERS.property:
        return (_v, p) => p;
      case FILTER_IDENTIFIERS.parent:
      case FILTER_IDENTIFIERS.parentProperty:
      case FILTER_IDENTIFIERS.path:
        this.needsJsonPathPlus = true;
        return () => undefined;
      case 'params': {
        const params = Object.freeze(Object.assign(Object.create(null) as Record<string, ParamValue>, this.params));
        return () => params;
      }
      default:
        return fail(`unknown name "${name}" in filter; filters can use ${ALLOWED_NAMES}`);
    }
  }

  private memberName(node: Extract<FilterNode, { type: 'MemberExpression' }>): string {
    if (node.optional) fail('optional chaining "?." is not supported; guard with "&&" instead (e.g. @.a && @.a.b)');
    const property = node.property;
    let name: string;
    if (!node.computed && property.type === 'Identifier') name = property.name;
    else if (node.computed && property.type === 'Literal' && (typeof property.value === 'string' || typeof property.value === 'number')) {
      name = String(property.value);
    } else fail('a computed property must be a string or number literal, e.g. @["first name"]');
    if (FORBIDDEN_PROPERTY_NAMES.has(name)) fail(`property "${name}" is not accessible in filters`);
    return name;
  }

  private member(node: Extract<FilterNode, { type: 'MemberExpression' }>): FilterFn {
    const name = this.memberName(node);
    if (node.object.type === 'Identifier' && node.object.name === 'params') {
      if (!Object.hasOwn(this.params, name)) fail(`unknown param "${name}"; declare it under params`);
      const value = this.params[name];
      return () => value;
    }
    if (recordField(node) !== undefined) {
      return (v) => (v === null || v === undefined ? nullRead(v, name) : (v as Record<string, unknown>)[name]);
    }
    const object = this.compile(node.object);
    const read = ownPropertyReader(name);
    return (v, p, r) => readMember(object(v, p, r), name, read);
  }

  private call(node: Extract<FilterNode, { type: 'CallExpression' }>): FilterFn {
    const callee = node.callee;
    if (callee.type !== 'MemberExpression' || callee.computed) fail(`only method calls on a value are allowed; ${ALLOWED_CALLS}`);
    const method = this.memberName(callee);
    if (!STRING_METHODS.has(method) && !LIST_METHODS.has(method)) fail(`method "${method}" is not allowed; ${ALLOWED_CALLS}`);
    const receiver = this.compile(callee.object);
    const args = node.arguments.map((argument) => this.compile(argument));
    return (v, p, r) => callAllowedMethod(receiver(v, p, r), method, args.map((argument) => argument(v, p, r)));
  }

  private unary(operator: string, argument: FilterFn): FilterFn {
    switch (operator as Operator<typeof UNARY>) {
      case '!':
        return (v, p, r) => !argument(v, p, r);
      case '-':
        return (v, p, r) => -(argument(v, p, r) as number);
      case '+':
        return (v, p, r) => +(argument(v, p, r) as number);
      case 'typeof':
        return (v, p, r) => typeof argument(v, p, r);
      default:
        return fail(`operator "${operator}" is not allowed; allowed: ${UNARY.join(' ')}`);
    }
  }

  private binary(operator: string, leftNode: FilterNode, rightNode: FilterNode): FilterFn {
    const left = this.compile(leftNode);
    const right = this.compile(rightNode);
    if (operator === '&&') return (v, p, r) => left(v, p, r) && right(v, p, r);
    if (operator === '||') return (v, p, r) => left(v, p, r) || right(v, p, r);
    if (rightNode.type === 'Literal') {
      const constant = (rightNode as { value?: unknown }).value;
      const field = recordField(leftNode);
      const fused = field === undefined ? undefined : fieldComparedWithConstant(operator, field, constant);
      if (fused) return fused;
      const compare = comparisonWithConstant(operator, constant);
      if (compare) return (v, p, r) => compare(left(v, p, r));
    }
    const apply = BINARY_OPERATORS[operator as Operator<typeof COMPARISONS> | Operator<typeof ARITHMETIC>];
    if (!apply) fail(`operator "${operator}" is not allowed; allowed: ${[...COMPARISONS, ...ARITHMETIC, '&&', '||'].join(' ')}`);
    return (v, p, r) => apply(left(v, p, r), right(v, p, r));
  }
}

// The operators keep their JavaScript meaning for every operand type, as in jsonpath-plus's
// safe evaluator; the casts only tell TypeScript so.
type Binary = (a: unknown, b: unknown) => unknown;
const BINARY_OPERATORS: Record<Operator<typeof COMPARISONS> | Operator<typeof ARITHMETIC>, Binary> = {
  // JSONPath filters use JavaScript's loose equality, as jsonpath-plus does.
  '==': (a, b) => a == b,
  '!=': (a, b) => a != b,
  '===': (a, b) => a === b,
  '!==': (a, b) => a !== b,
  '<': (a, b) => (a as number) < (b as number),
  '>': (a, b) => (a as number) > (b as number),
  '<=': (a, b) => (a as number) <= (b as number),
  '>=': (a, b) => (a as number) >= (b as number),
  '+': (a, b) => (a as number) + (b as number),
  '-': (a, b) => (a as number) - (b as number),
  '*': (a, b) => (a as number) * (b as number),
  '/': (a, b) => (a as number) / (b as number),
  '%': (a, b) => (a as number) % (b as number),
};

/**
 * The name in `@.name` (a field of the record itself) when a plain property read is exact for
 * it; such reads are compiled inline, without a reader closure in between.
 */
function recordField(node: FilterNode): string | undefined {
  if (node.type !== 'MemberExpression' || node.object.type !== 'Identifier' || node.object.name !== FILTER_IDENTIFIERS.value) return undefined;
  const property = node.property;
  const name = !node.computed && property.type === 'Identifier' ? property.name : property.type === 'Literal' ? String(property.value) : undefined;
  return name === undefined || isInheritedName(name) ? undefined : name;
}

function nullRead(value: null | undefined, name: string): never {
  throw new TypeError(`Cannot read properties of ${String(value)} (reading '${name}')`);
}

/**
 * `@.name <op> literal`, the shape of nearly every filter, as a single closure: one property
 * read and one comparison per record, with no calls in between.
 */
function fieldComparedWithConstant(operator: string, name: string, c: unknown): FilterFn | undefined {
  type Fields = Record<string, unknown>;
  const read = (v: unknown): unknown => (v === null || v === undefined ? nullRead(v, name) : (v as Fields)[name]);
  switch (operator) {
    case '==':
      return (v) => (v === null || v === undefined ? nullRead(v, name) : (v as Fields)[name]) == c;
    case '!=':
      return (v) => (v === null || v === undefined ? nullRead(v, name) : (v as Fields)[name]) != c;
    case '===':
      return (v) => (v === null || v === undefined ? nullRead(v, name) : (v as Fields)[name]) === c;
    case '!==':
      return (v) => (v === null || v === undefined ? nullRead(v, name) : (v as Fields)[name]) !== c;
    case '<':
      return (v) => (read(v) as number) < (c as number);
    case '>':
      return (v) => (read(v) as number) > (c as number);
    case '<=':
      return (v) => (read(v) as number) <= (c as number);
    case '>=':
      return (v) => (read(v) as number) >= (c as number);
    default:
      return undefined;
  }
}

/** The common `<expression> == 'literal'` shape as one closure. */
function comparisonWithConstant(operator: string, c: unknown): ((a: unknown) => boolean) | undefined {
  switch (operator) {
    case '==':
      return (a) => a == c;
    case '!=':
      return (a) => a != c;
    case '===':
      return (a) => a === c;
    case '!==':
      return (a) => a !== c;
    case '<':
      return (a) => (a as number) < (c as number);
    case '>':
      return (a) => (a as number) > (c as number);
    case '<=':
      return (a) => (a as number) <= (c as number);
    case '>=':
      return (a) => (a as number) >= (c as number);
    default:
      return undefined;
  }
}

/** `object.name`, failing like jsonpath-plus (and JavaScript) when the object is null or undefined. */
function readMember(object: unknown, name: string, read: PropertyReader): unknown {
  if (object === null || object === undefined) throw new TypeError(`Cannot read properties of ${String(object)} (reading '${name}')`);
  return read(object);
}

function callAllowedMethod(receiver: unknown, method: string, args: unknown[]): unknown {
  if (typeof receiver === 'string' && STRING_METHODS.has(method)) {
    const impl = String.prototype[method as 'startsWith'] as (this: string, ...a: unknown[]) => unknown;
    return impl.apply(receiver, args);
  }
  if (Array.isArray(receiver) && LIST_METHODS.has(method)) {
    const impl = Array.prototype[method as 'includes'] as (this: unknown[], ...a: unknown[]) => unknown;
    return impl.apply(receiver, args);
  }
  if (receiver === null || receiver === undefined) throw new TypeError(`Cannot read properties of ${String(receiver)} (reading '${method}')`);
  throw new TypeError(`${method} is not a function of ${Array.isArray(receiver) ? 'a list' : typeof receiver}`);
}
