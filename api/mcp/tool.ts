import type { JsonSchema } from '../../lib/json-schema.js';
import type { Scope } from '../../store/api-keys.js';
import type { HubClient } from './hub-client.js';

/** What a tool hands back: the structured result its outputSchema describes, and a short text rendering. */
export interface ToolResult {
  structured: Record<string, unknown>;
  text: string;
}

/**
 * One MCP tool: a thin, bounded view over one or a few API routes, described for a model.
 * `scopes` are the scopes of those routes; the key needs every one of them.
 */
export interface ToolDefinition {
  name: string;
  title: string;
  description: string;
  scopes: Scope[];
  inputSchema: JsonSchema;
  outputSchema: JsonSchema;
  /** Tools that change something say so: clients ask a human before calling them. */
  readOnly: boolean;
  run(hub: HubClient, args: Record<string, unknown>): Promise<ToolResult>;
}

/** The most items any one answer lists, so that one call cannot flood a model's context. */
export const MAX_ITEMS = 50;
const DEFAULT_ITEMS = 20;

export const pageInput: Record<string, JsonSchema> = {
  limit: { type: 'integer', minimum: 1, maximum: MAX_ITEMS, default: DEFAULT_ITEMS, description: `How many to list (at most ${MAX_ITEMS}).` },
  cursor: { type: 'string', maxLength: 2000, description: 'next_cursor of the previous answer, for the next page.' },
};

export const id = (what: string): JsonSchema => ({ type: 'string', minLength: 1, maxLength: 200, description: what });

/** An object schema whose listed properties are all present; the rest of a property list may be optional. */
export function object(properties: Record<string, JsonSchema>, required: string[] = Object.keys(properties)): JsonSchema {
  return { type: 'object', properties, required, additionalProperties: false };
}

export function input(properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema {
  return { type: 'object', properties, required, additionalProperties: false };
}

/** A page of items as a tool answers it. */
export function pageOutput(itemsName: string, item: JsonSchema): JsonSchema {
  return object({
    [itemsName]: { type: 'array', maxItems: MAX_ITEMS, items: item },
    next_cursor: { type: ['string', 'null'], description: 'Pass as cursor for the next page; null when there is none.' },
  });
}

export const nullable = (type: 'string' | 'integer' | 'number' | 'boolean' | 'object'): JsonSchema => ({ type: [type, 'null'] });
export const str: JsonSchema = { type: 'string' };
export const int: JsonSchema = { type: 'integer' };

/** Query parameters for a page of the API from a tool's arguments. */
export function pageQuery(args: Record<string, unknown>): { limit: number; cursor?: string } {
  return { limit: typeof args.limit === 'number' ? args.limit : DEFAULT_ITEMS, cursor: typeof args.cursor === 'string' ? args.cursor : undefined };
}

/** Picks the named fields of an API object, missing ones as null (so the output schema's required fields are always there). */
export function pick<K extends string>(value: unknown, fields: readonly K[]): Record<K, unknown> {
  const source = (value ?? {}) as Record<string, unknown>;
  return Object.fromEntries(fields.map((f) => [f, source[f] ?? null])) as Record<K, unknown>;
}

/** One line per item for the text rendering, capped so the text stays short too. */
export function lines(items: readonly unknown[], render: (item: never) => string, empty: string): string {
  if (!items.length) return empty;
  return items.map((item) => `- ${render(item as never)}`).join('\n');
}

export function more(nextCursor: unknown): string {
  return typeof nextCursor === 'string' ? '\n(more: call again with cursor=next_cursor)' : '';
}
