import type { JsonSchema } from '../route.js';

/**
 * OpenAPI 3.1 (JSON Schema 2020-12) schemas → Swagger 2.0 schema objects, which is all Power
 * Automate reads. Swagger 2.0 has no `null`, no type arrays, no `const`, no `oneOf`/`anyOf`,
 * no numeric `exclusiveMinimum`: each is turned into what Swagger 2.0 can say, and every
 * keyword Swagger 2.0 does not know is left out (a whitelist, so a new 3.1 keyword in a route
 * declaration can never leak into the connector).
 */

/** The Swagger 2.0 Schema Object's keywords (besides `$ref`, which is inlined here). */
const SCHEMA_KEYWORDS = new Set([
  'format', 'title', 'description', 'default', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum',
  'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'maxProperties', 'minProperties', 'required',
  'enum', 'type', 'items', 'allOf', 'properties', 'additionalProperties', 'discriminator', 'readOnly', 'xml', 'externalDocs', 'example',
]);

export type SwaggerSchema = Record<string, unknown>;

export interface ConvertOptions {
  /** Resolves a `$ref` (e.g. `#/components/schemas/X`) of the OpenAPI document. */
  resolve?: (ref: string) => JsonSchema | undefined;
  /** Adds `x-ms-summary` (from the property name) to every property, as Power Automate shows it. */
  summaries?: boolean;
}

const ACRONYMS: Record<string, string> = { id: 'ID', ids: 'IDs', url: 'URL', sha256: 'SHA256', api: 'API', ocsf: 'OCSF' };

/** `job_id` → `Job ID`, `next_cursor` → `Next Cursor`: the title case Power Automate recommends for x-ms-summary. */
export function titleOf(name: string): string {
  return name
    .split(/[_\-\s.]+|(?<=[a-z])(?=[A-Z])/)
    .filter(Boolean)
    .map((word) => ACRONYMS[word.toLowerCase()] ?? word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}

/** A description as one sentence: capitalised, ending with a full stop. */
export function sentence(text: string): string {
  let s = text.trim().replace(/\s+/g, ' ').replace(/,?\s*…$/, ', and so on');
  s = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value of a schema that admits exactly one (a `const` or one-value `enum`). */
function singleValues(schema: JsonSchema | undefined): unknown[] | null {
  if (!schema) return null;
  if ('const' in schema) return [schema.const];
  if (Array.isArray(schema.enum)) return schema.enum as unknown[];
  return null;
}

/**
 * A `oneOf`/`anyOf` as the union of its alternatives' properties (Power Automate shows one
 * form): a property every alternative pins to values (a discriminator) becomes required with
 * the union of those values; otherwise what every alternative requires stays required.
 */
function mergeAlternatives(base: JsonSchema, alternatives: JsonSchema[], options: ConvertOptions, depth: number): JsonSchema {
  const resolved = alternatives.map((alt) => deref(alt, options, depth));
  const objects = resolved.filter((alt) => alt.type === 'object' || isObject(alt.properties) || Array.isArray(alt.required));
  if (objects.length === 0) {
    // Scalars or a mix: one value of several types, which Swagger 2.0 cannot name.
    const types = new Set(resolved.flatMap((alt) => (Array.isArray(alt.type) ? alt.type : alt.type ? [alt.type] : [])));
    const merged: JsonSchema = { ...base };
    if (types.size === 1 && !base.type) merged.type = [...types][0];
    const values = resolved.map(singleValues);
    if (values.every(Boolean) && !base.enum) merged.enum = [...new Set(values.flat())];
    return merged;
  }
  const properties: Record<string, JsonSchema> = {};
  for (const alt of objects) {
    for (const [name, schema] of Object.entries((alt.properties ?? {}) as Record<string, JsonSchema>)) {
      if (name in properties) {
        const values = [singleValues(properties[name]), singleValues(schema)];
        if (values[0] && values[1]) properties[name] = { ...properties[name], enum: [...new Set([...values[0], ...values[1]])] };
        continue;
      }
      properties[name] = schema;
    }
  }
  const requiredSets = objects.map((alt) => new Set((alt.required ?? []) as string[]));
  const required = new Set((base.required ?? []) as string[]);
  for (const name of requiredSets[0] ?? []) if (requiredSets.every((set) => set.has(name))) required.add(name);
  // The discriminator: present in every alternative, each pinning it to its values.
  for (const name of Object.keys(properties)) {
    const pinned = objects.every((alt) => singleValues(((alt.properties ?? {}) as Record<string, JsonSchema>)[name]));
    if (pinned && objects.length > 1) {
      required.add(name);
      const all = objects.flatMap((alt) => singleValues(((alt.properties ?? {}) as Record<string, JsonSchema>)[name])!);
      const { const: _c, ...rest } = properties[name]!;
      properties[name] = { ...rest, enum: [...new Set(all)] };
    }
  }
  const baseProperties = (base.properties ?? {}) as Record<string, JsonSchema>;
  // The base's own declaration of a property wins over an alternative's refinement of it.
  const mergedProperties = { ...properties, ...baseProperties };
  return {
    ...base,
    type: base.type ?? 'object',
    properties: mergedProperties,
    ...(required.size ? { required: [...required] } : {}),
  };
}

function deref(schema: JsonSchema, options: ConvertOptions, depth: number): JsonSchema {
  if (typeof schema.$ref !== 'string') return schema;
  if (depth > 32) return { type: 'object' };
  const target = options.resolve?.(schema.$ref);
  if (!target) return { type: 'object' };
  const { $ref: _ref, ...siblings } = schema;
  return deref({ ...target, ...siblings }, options, depth + 1);
}

function convert(input: JsonSchema, options: ConvertOptions, depth: number): SwaggerSchema {
  let schema = deref(input, options, depth);
  if (Array.isArray(schema.allOf)) {
    const { allOf, ...rest } = schema;
    schema = (allOf as JsonSchema[]).reduce<JsonSchema>((acc, part) => {
      const p = deref(part, options, depth + 1);
      return {
        ...p, ...acc,
        properties: { ...(p.properties as object), ...(acc.properties as object) },
        required: [...new Set([...((acc.required ?? []) as string[]), ...((p.required ?? []) as string[])])],
      };
    }, rest);
    if ((schema.required as string[]).length === 0) delete schema.required;
  }
  for (const keyword of ['oneOf', 'anyOf'] as const) {
    if (Array.isArray(schema[keyword])) {
      const { [keyword]: alternatives, ...rest } = schema;
      schema = mergeAlternatives(rest, alternatives as JsonSchema[], options, depth + 1);
    }
  }

  const out: SwaggerSchema = {};
  let nullable = false;
  let types: string[] = Array.isArray(schema.type) ? [...(schema.type as string[])] : typeof schema.type === 'string' ? [schema.type] : [];
  if (types.includes('null')) {
    nullable = true;
    types = types.filter((t) => t !== 'null');
  }
  let values = singleValues(schema);
  if (values && values.includes(null)) {
    nullable = true;
    values = values.filter((v) => v !== null);
  }
  if (types.length === 0 && values?.length) {
    const kinds = new Set(values.map((v) => (Number.isInteger(v) ? 'integer' : typeof v)));
    if (kinds.size === 1 && ['string', 'integer', 'number', 'boolean'].includes([...kinds][0]!)) types = [[...kinds][0]!];
  }
  // Several types (other than null) cannot be said in Swagger 2.0: the value is then of any type.
  const type = types.length === 1 ? types[0] : undefined;

  for (const [key, value] of Object.entries(schema)) {
    if (!SCHEMA_KEYWORDS.has(key)) continue;
    switch (key) {
      case 'type':
      case 'enum':
        break;
      case 'items':
        if (type === 'array' && isObject(value)) out.items = convert(value as JsonSchema, { ...options }, depth + 1);
        break;
      case 'properties':
        if (isObject(value)) {
          out.properties = Object.fromEntries(Object.entries(value).map(([name, sub]) => {
            const converted = convert(sub as JsonSchema, options, depth + 1);
            return [name, options.summaries ? { 'x-ms-summary': titleOf(name), ...converted } : converted];
          }));
        }
        break;
      case 'additionalProperties':
        out.additionalProperties = isObject(value) ? convert(value as JsonSchema, options, depth + 1) : value;
        break;
      case 'required':
        if (Array.isArray(value) && value.length) out.required = value;
        break;
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        // 3.1: a number; Swagger 2.0: a boolean modifying minimum/maximum.
        if (typeof value === 'number') {
          out[key === 'exclusiveMinimum' ? 'minimum' : 'maximum'] = value;
          out[key] = true;
        } else if (typeof value === 'boolean') out[key] = value;
        break;
      case 'discriminator':
        if (typeof value === 'string') out.discriminator = value;
        break;
      case 'description':
        if (typeof value === 'string') out.description = sentence(value);
        break;
      case 'default':
        if (value !== null) out.default = value;
        break;
      default:
        out[key] = value;
    }
  }
  if ('examples' in schema && Array.isArray(schema.examples) && schema.examples.length && !('example' in out)) out.example = schema.examples[0];
  if (type) out.type = type;
  if (values?.length) out.enum = values;
  if (type === 'array' && !out.items) out.items = {};
  if (type && type !== 'object') delete out.properties;
  if (type && type !== 'object') delete out.additionalProperties;
  if (nullable) out['x-nullable'] = true;
  // Put `type` first, as people write it (the order is deterministic either way).
  const { type: t, ...others } = out;
  return t ? { type: t, ...others } : others;
}

/** A JSON Schema of the OpenAPI 3.1 document as a Swagger 2.0 schema. */
export function toSwaggerSchema(schema: JsonSchema, options: ConvertOptions = {}): SwaggerSchema {
  return convert(schema, options, 0);
}

/** What a non-body parameter (path, query, header) may carry in Swagger 2.0. */
const PARAMETER_KEYWORDS = ['type', 'format', 'items', 'default', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'enum', 'multipleOf'];

/** A parameter's schema flattened onto the parameter, as Swagger 2.0 wants it. */
export function parameterFields(schema: JsonSchema, options: ConvertOptions = {}): SwaggerSchema {
  const converted = toSwaggerSchema(schema, options);
  const out: SwaggerSchema = {};
  for (const key of PARAMETER_KEYWORDS) if (key in converted) out[key] = converted[key];
  out.type ??= 'string';
  return out;
}

/**
 * The keywords of JSON Schema 2020-12 / OpenAPI 3.x that Swagger 2.0 does not have: none may
 * appear anywhere in the connector (the test walks the whole definition).
 */
export const OPENAPI_3_ONLY_KEYWORDS = [
  'oneOf', 'anyOf', 'not', 'const', 'if', 'then', 'else', 'prefixItems', 'contains', 'minContains', 'maxContains',
  'dependentRequired', 'dependentSchemas', 'propertyNames', 'patternProperties', 'unevaluatedProperties', 'unevaluatedItems',
  '$defs', '$id', '$anchor', '$dynamicRef', '$dynamicAnchor', '$schema', '$comment', '$vocabulary', 'contentEncoding',
  'contentMediaType', 'contentSchema', 'examples', 'nullable', 'writeOnly', 'deprecated', 'jsonSchemaDialect', 'openapi',
  'servers', 'components', 'requestBody', 'content', 'links', 'callbacks', 'webhooks',
];
