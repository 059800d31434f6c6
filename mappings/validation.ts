/**
 * Schema validation of mapping documents, with errors as `{pointer, message}`: a JSON Pointer
 * into the submitted document and a sentence saying what is expected there.
 *
 * Ajv reports every failed keyword, including the bookkeeping of unions (`if`, the branches of
 * a "one of these keys" `oneOf`); this module keeps the errors an author can act on and words
 * them from the schema (`x-message`, the allowed keys, the allowed values).
 */
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import type { FieldError } from '../lib/errors.js';
import { mappingDocumentSchema } from './rule-schema.js';

// verbose: errors carry their parent schema, where the wording (x-message, known fields) comes from.
const ajv = new Ajv2020({ allErrors: true, verbose: true, allowUnionTypes: true });
ajv.addKeyword('x-message');
const validateDocument = ajv.compile(mappingDocumentSchema);

/** Errors of the document against the rule schema; empty when it conforms. */
export function schemaErrors(document: unknown): FieldError[] {
  if (validateDocument(document)) return [];
  return explain(validateDocument.errors ?? []);
}

export function escapePointerToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

type SchemaObject = Record<string, unknown>;

/** `oneOf: [{required: [a]}, {required: [b]}]`: the keys of which exactly one must be present. */
function exclusiveKeys(schema: unknown): string[] | undefined {
  const branches = (schema as SchemaObject | undefined)?.oneOf;
  if (!Array.isArray(branches)) return undefined;
  const keys = branches.map((branch: SchemaObject) => (Object.keys(branch).length === 1 && Array.isArray(branch.required) ? branch.required : []));
  return keys.every((required) => required.length === 1) ? keys.map((required) => String(required[0])) : undefined;
}

function explain(errors: readonly ErrorObject[]): FieldError[] {
  // Branch failures under a "one of these keys" oneOf only restate the oneOf error itself.
  const exclusiveOneOfs = errors.filter((e) => e.keyword === 'oneOf' && exclusiveKeys(e.parentSchema)).map((e) => `${e.schemaPath}/`);
  const seen = new Set<string>();
  // A value of the wrong type fails every branch of a union; the first type error says it all.
  const wrongType = new Set<string>();
  const result: FieldError[] = [];
  for (const error of errors) {
    if (error.keyword === 'if' || error.keyword === 'propertyNames') continue;
    if (exclusiveOneOfs.some((prefix) => error.schemaPath.startsWith(prefix))) continue;
    if (error.keyword === 'type') {
      if (wrongType.has(error.instancePath)) continue;
      wrongType.add(error.instancePath);
    }
    const fieldError = describe(error);
    const key = `${fieldError.pointer}\n${fieldError.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    result.push(fieldError);
  }
  return result;
}

function describe(error: ErrorObject): FieldError {
  const params = error.params as Record<string, unknown>;
  const parent = (error.parentSchema ?? {}) as SchemaObject;
  const custom = typeof parent['x-message'] === 'string' ? parent['x-message'] : undefined;
  const at = error.instancePath;
  switch (error.keyword) {
    case 'required':
      return { pointer: `${at}/${escapePointerToken(String(params.missingProperty))}`, message: 'is required' };
    case 'additionalProperties': {
      const property = String(params.additionalProperty);
      const known = Object.keys((parent.properties as SchemaObject | undefined) ?? {});
      const suggestion = closest(property, known);
      return {
        pointer: `${at}/${escapePointerToken(property)}`,
        message: `is not a known field${suggestion ? ` (did you mean "${suggestion}"?)` : known.length ? `; known fields: ${known.join(', ')}` : ''}`,
      };
    }
    case 'dependentRequired':
      return {
        pointer: `${at}/${escapePointerToken(String(params.property))}`,
        message: `is only allowed together with "${String(params.missingProperty)}"`,
      };
    case 'oneOf': {
      const keys = exclusiveKeys(parent);
      if (keys) return { pointer: at, message: `must have exactly one of: ${keys.join(', ')}` };
      return { pointer: at, message: custom ?? 'must match exactly one of the allowed forms' };
    }
    case 'enum':
      return { pointer: at, message: `must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}` };
    case 'type':
      return { pointer: at, message: custom ?? `must be ${typeList(params.type)}` };
    case 'pattern':
      if (error.propertyName !== undefined) {
        return { pointer: `${at}/${escapePointerToken(error.propertyName)}`, message: `name ${custom ?? `must match ${String(params.pattern)}`}` };
      }
      return { pointer: at, message: custom ?? `must match ${String(params.pattern)}` };
    case 'minLength':
      return { pointer: at, message: params.limit === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters long` };
    case 'not':
      return { pointer: at, message: custom ?? 'is not allowed in this form' };
    default:
      return { pointer: at, message: error.message ?? 'is invalid' };
  }
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  null: 'null',
  array: 'a list',
  object: 'an object',
};

function typeList(type: unknown): string {
  const names = (Array.isArray(type) ? type.map(String) : String(type).split(',')).map((name) => TYPE_NAMES[name] ?? name);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${String(names.at(-1))}` : (names[0] ?? 'valid');
}

/** The known name an unknown one most likely misspells (edit distance at most 2). */
function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
