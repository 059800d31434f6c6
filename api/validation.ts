import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { createRequire } from 'node:module';
import type { FormatsPlugin } from 'ajv-formats';
import { HubError, type FieldError } from '../lib/errors.js';
import type { JsonSchema } from './route.js';

// ajv-formats is CommonJS whose typings describe an ES default export; require it as it is.
const addFormats = createRequire(import.meta.url)('ajv-formats') as FormatsPlugin;

function makeAjv(coerce: boolean): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: false, coerceTypes: coerce ? 'array' : false, useDefaults: coerce });
  addFormats(ajv);
  return ajv;
}

const bodyAjv = makeAjv(false);
// Query strings are text; numbers and booleans are coerced, defaults filled in.
const queryAjv = makeAjv(true);

/** Turns Ajv errors into JSON Pointers into the request, with messages that say what is expected. */
export function toFieldErrors(errors: ErrorObject[] | null | undefined, prefix = ''): FieldError[] {
  return (errors ?? []).map((e) => {
    const params = e.params as Record<string, unknown>;
    let pointer = e.instancePath;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required') {
      pointer += `/${String(params.missingProperty)}`;
      message = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      pointer += `/${String(params.additionalProperty)}`;
      message = 'is not a known field';
    } else if (e.keyword === 'enum') {
      message = `must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}`;
    }
    return { pointer: prefix + pointer, message };
  });
}

export interface CompiledValidator {
  (value: unknown): void;
}

function compile(ajv: Ajv2020, schema: JsonSchema, prefix: string, what: string): CompiledValidator {
  const validate: ValidateFunction = ajv.compile(schema);
  return (value) => {
    if (!validate(value)) throw HubError.validation(toFieldErrors(validate.errors, prefix), `The ${what} does not match the schema.`);
  };
}

/** Validates a part of the body (e.g. a connector's `config`) with pointers under `prefix`. */
export const compileFieldValidator = (schema: JsonSchema, prefix: string) => compile(bodyAjv, schema, prefix, 'request body');
export const compileBodyValidator = (schema: JsonSchema) => compile(bodyAjv, schema, '', 'request body');
/** Query errors point at `/query/<name>` so they cannot be confused with body fields. */
export const compileQueryValidator = (schema: JsonSchema) => compile(queryAjv, schema, '/query', 'query string');
