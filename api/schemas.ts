import type { JsonSchema, LinkSpec } from './route.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, decodeCursor, type PageRequest } from '../store/pagination.js';
import type { Response } from 'express';
import { mappingRulesSchema } from '../mappings/rule-schema.js';

export const pageQuery: JsonSchema = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, description: `Page size (default ${DEFAULT_PAGE_SIZE}, max ${MAX_PAGE_SIZE}).` },
    cursor: { type: 'string', maxLength: 400, description: 'The next_cursor of the previous page.' },
  },
};

export function listOf(item: JsonSchema): JsonSchema {
  return {
    type: 'object',
    required: ['data', 'next_cursor'],
    properties: { data: { type: 'array', items: item }, next_cursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page.' } },
  };
}

/** An object whose every listed property is always sent (the views handlers build field by field). */
export function exact(properties: Record<string, JsonSchema>, extra: JsonSchema = {}): JsonSchema {
  return { type: 'object', required: Object.keys(properties), properties, ...extra };
}

export function pageRequest(res: Response): PageRequest {
  const query = (res.locals.query ?? {}) as { limit?: number; cursor?: string };
  return { limit: query.limit ?? DEFAULT_PAGE_SIZE, after: decodeCursor(query.cursor) };
}

export const timestamp: JsonSchema = { type: 'string', format: 'date-time' };
export const nullableTimestamp: JsonSchema = { type: ['string', 'null'], format: 'date-time' };
export const name: JsonSchema = { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' };

/**
 * The rule language's schema (mappings/rule-schema.ts) as components of the OpenAPI document:
 * each of its definitions `X` becomes `#/components/schemas/MappingX`.
 */
const ruleDefinitions = JSON.parse(JSON.stringify(mappingRulesSchema.$defs).replaceAll('"#/$defs/', '"#/components/schemas/Mapping')) as Record<string, JsonSchema>;
const ruleComponents = Object.fromEntries(Object.entries(ruleDefinitions).map(([definition, schema]) => [`Mapping${definition}`, schema]));

/** Schemas the document holds once, under `components/schemas`. */
export const componentSchemas: Record<string, JsonSchema> = { ...ruleComponents };

/**
 * The same, as request validation resolves them. A mapping rule is checked against its schema
 * (the very one above) and compiled by the mapping validator, which words its errors for rule
 * authors; the request validator only checks that each rule is an object.
 */
export const validationComponents: Record<string, JsonSchema> = { ...componentSchemas, MappingRule: { type: 'object' } };

/** One mapping rule, as the document describes it. */
export const ruleRef: JsonSchema = { $ref: '#/components/schemas/MappingRule' };
/** The fields of a rule, for partial rules (pack overrides). */
export const ruleProperties = (ruleDefinitions.Rule as { properties: Record<string, JsonSchema> }).properties;

/** Links from a response to operations on what it names: each takes `id` (or `parameter`) from the response's `id`. */
export function linksTo(operationIds: string[], parameter = 'id', expression = '$response.body#/id'): Record<string, LinkSpec> {
  return Object.fromEntries(operationIds.map((operationId) => [operationId, { operationId, parameters: { [parameter]: expression } }]));
}

/** A link into another operation's request body: `field` takes the response's `id`. */
export function bodyLink(operationId: string, field: string, expression = '$response.body#/id'): LinkSpec {
  return { operationId, requestBody: { [field]: expression } };
}

/**
 * What assertOutboundUrl (lib/net-guard.ts) lets through, as a pattern: http(s) (https alone
 * when `httpsOnly`) and no credentials in the URL. Private addresses are checked on top.
 */
export function outboundUrl(httpsOnly = false): JsonSchema {
  return {
    pattern: `^[Hh][Tt][Tt][Pp]${httpsOnly ? '[Ss]' : '[Ss]?'}://[^/?#@:][^/?#@]*([/?#].*)?$`,
    'x-message': `must be an ${httpsOnly ? 'https' : 'http or https'} URL without credentials in it`,
  };
}
