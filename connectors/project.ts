import type { JsonSchema } from '../lib/json-schema.js';
import type { JsonValue } from './types.js';

/**
 * Keeps the properties a record schema names (null for missing ones), dropping everything
 * else: what a system returns beyond its documented record shape never reaches evidence.
 */
export function projectToSchema(item: Record<string, unknown>, schema: JsonSchema): JsonValue {
  const properties = Object.keys((schema.properties as Record<string, unknown> | undefined) ?? {});
  const out: Record<string, JsonValue> = {};
  for (const key of properties) out[key] = (item[key] ?? null) as JsonValue;
  return out;
}
