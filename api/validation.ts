import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { createRequire } from 'node:module';
import type { FormatsPlugin } from 'ajv-formats';
import { HubError, type FieldError } from '../lib/errors.js';
import type { JsonSchema } from './route.js';
import { validationComponents } from './schemas.js';

// ajv-formats is CommonJS whose typings describe an ES default export; require it as it is.
const addFormats = createRequire(import.meta.url)('ajv-formats') as FormatsPlugin;

function makeAjv(coerce: boolean): Ajv2020 {
  // discriminator: a `oneOf` by `type` (connections, destinations) reports the faults of the
  // branch the caller chose, not of every branch; verbose: messages are worded from the schema.
  const ajv = new Ajv2020({ allErrors: true, strict: false, coerceTypes: coerce ? 'array' : false, useDefaults: coerce, discriminator: true, verbose: true });
  addFormats(ajv);
  return ajv;
}

const bodyAjv = makeAjv(false);
// Query strings are text; numbers and booleans are coerced, defaults filled in.
const queryAjv = makeAjv(true);

type SchemaObject = Record<string, unknown>;

/** `oneOf`/`anyOf: [{required: [a]}, {required: [b]}]`: the keys of which one must be given. */
function alternativeKeys(schema: unknown, keyword: 'oneOf' | 'anyOf'): string[] | undefined {
  const branches = (schema as SchemaObject | undefined)?.[keyword];
  if (!Array.isArray(branches)) return undefined;
  const keys = branches.map((branch: SchemaObject) => (Array.isArray(branch.required) && branch.required.length === 1 ? String(branch.required[0]) : undefined));
  return keys.every((key) => key !== undefined) ? (keys as string[]) : undefined;
}

/** The values a discriminated `oneOf` allows for its tag. */
function tagValues(schema: unknown, tag: string): string[] {
  const branches = ((schema as SchemaObject | undefined)?.oneOf ?? []) as SchemaObject[];
  return branches.map((branch) => ((branch.properties as Record<string, SchemaObject> | undefined)?.[tag]?.const)).filter((v) => v !== undefined).map(String);
}

/** Turns Ajv errors into JSON Pointers into the request, with messages that say what is expected. */
export function toFieldErrors(errors: ErrorObject[] | null | undefined, prefix = ''): FieldError[] {
  const all = errors ?? [];
  // Under a "one (or any) of these keys" union, the branches' own `required` errors only restate it.
  const unions = all.filter((e) => (e.keyword === 'oneOf' || e.keyword === 'anyOf') && alternativeKeys(e.parentSchema, e.keyword)).map((e) => `${e.schemaPath}/`);
  const seen = new Set<string>();
  const result: FieldError[] = [];
  for (const e of all) {
    if (e.keyword === 'if' || unions.some((union) => e.schemaPath.startsWith(union))) continue;
    const params = e.params as Record<string, unknown>;
    const custom = (e.parentSchema as SchemaObject | undefined)?.['x-message'];
    let pointer = e.instancePath;
    let message = typeof custom === 'string' ? custom : e.message ?? 'is invalid';
    if (e.keyword === 'required') {
      pointer += `/${String(params.missingProperty)}`;
      message = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      pointer += `/${String(params.additionalProperty)}`;
      message = 'is not a known field';
    } else if (e.keyword === 'enum') {
      message = `must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}`;
    } else if (e.keyword === 'discriminator') {
      pointer += `/${String(params.tag)}`;
      message = params.tagValue === undefined ? 'is required' : `must be one of: ${tagValues(e.parentSchema, String(params.tag)).join(', ')}`;
    } else if (e.keyword === 'oneOf' || e.keyword === 'anyOf') {
      const keys = alternativeKeys(e.parentSchema, e.keyword);
      if (keys) {
        const given = keys.filter((key) => e.data !== null && typeof e.data === 'object' && Object.hasOwn(e.data, key));
        pointer += `/${given[1] ?? keys[0]}`;
        message = e.keyword === 'oneOf' ? `give exactly one of: ${keys.join(', ')}` : `give at least one of: ${keys.join(', ')}`;
      }
    } else if (e.keyword === 'dependentRequired') {
      pointer += `/${String(params.property)}`;
      message = `is only allowed together with ${String(params.missingProperty)}`;
    }
    const key = `${pointer}\n${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    result.push({ pointer: prefix + pointer, message });
  }
  return result;
}

export interface CompiledValidator {
  (value: unknown): void;
}

/**
 * A subschema marked `x-checked-by-handler` documents what the handler checks itself, with
 * what it alone knows (a job's target against the target_schema of its destination's type):
 * the request validator checks its type only, so that the handler reports every fault at once.
 */
export const CHECKED_BY_HANDLER = 'x-checked-by-handler';

function forValidation(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forValidation);
  if (schema === null || typeof schema !== 'object') return schema;
  const node = schema as SchemaObject;
  if (node[CHECKED_BY_HANDLER] === true) return node.type === undefined ? {} : { type: node.type };
  return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, forValidation(value)]));
}

function compile(ajv: Ajv2020, schema: JsonSchema, prefix: string, what: string): CompiledValidator {
  // References to the document's shared schemas (`#/components/schemas/…`) resolve as they do there.
  const usesComponents = JSON.stringify(schema).includes('"#/components/schemas/');
  const checked = forValidation(schema) as JsonSchema;
  const validate: ValidateFunction = ajv.compile(usesComponents ? { ...checked, components: { schemas: validationComponents } } : checked);
  return (value) => {
    if (!validate(value)) throw HubError.validation(toFieldErrors(validate.errors, prefix), `The ${what} does not match the schema.`);
  };
}

/** Validates a part of the body (e.g. a connector's `config`) with pointers under `prefix`. */
export const compileFieldValidator = (schema: JsonSchema, prefix: string) => compile(bodyAjv, schema, prefix, 'request body');
export const compileBodyValidator = (schema: JsonSchema) => compile(bodyAjv, schema, '', 'request body');
/** Query errors point at `/query/<name>` so they cannot be confused with body fields. */
export const compileQueryValidator = (schema: JsonSchema) => compile(queryAjv, schema, '/query', 'query string');
