import { canonicalSha256 } from './canonical-json.js';

/**
 * What a connection's secrets are bound to: the values of its URL-bearing config fields.
 * Secrets entered for one set of URLs are never opened for another, so re-pointing a
 * connection cannot send its stored token to a new host.
 */
export function urlBinding(urlFields: readonly string[], config: Record<string, unknown>): string {
  const values: Record<string, unknown> = {};
  for (const field of [...urlFields].sort()) values[field] = config[field] ?? null;
  return canonicalSha256(values);
}

/** The URL fields whose values differ between two configs. */
export function changedUrlFields(urlFields: readonly string[], before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  return urlFields.filter((field) => JSON.stringify(before[field] ?? null) !== JSON.stringify(after[field] ?? null));
}
