// Query-parameter parsing shared by the Okta list endpoints.

/**
 * The subset of Okta's SCIM filter syntax the simulator understands:
 * `attribute eq "value"` terms joined by `or`, all on one attribute
 * (`status eq "ACTIVE" or status eq "SUSPENDED"`). Returns the accepted
 * values, or undefined when the expression is anything else.
 */
export function parseEqualityFilter(expression: string, attribute: string): Set<string> | undefined {
  const values = new Set<string>();
  for (const term of expression.trim().split(/\s+or\s+/i)) {
    const match = /^\(?\s*([\w.]+)\s+eq\s+"([^"]*)"\s*\)?$/i.exec(term.trim());
    if (!match || match[1] !== attribute || match[2] === undefined) return undefined;
    values.add(match[2]);
  }
  return values;
}

/** Okta's `limit`: the default when absent, capped at the endpoint's maximum; undefined when not a positive integer. */
export function parseLimit(raw: string | null, defaultLimit: number, maxLimit: number): number | undefined {
  if (raw === null) return defaultLimit;
  if (!/^\d+$/.test(raw)) return undefined;
  const limit = Number(raw);
  return limit < 1 ? undefined : Math.min(limit, maxLimit);
}

/** A URL with one query parameter replaced, on the given origin. */
export function withParam(origin: string, path: string, query: URLSearchParams, name: string, value: string): string {
  const next = new URLSearchParams(query);
  next.set(name, value);
  return `${origin}${path}?${next.toString()}`;
}

/** One RFC 8288 Link header value, as Okta sends them (one header per relation). */
export function link(url: string, rel: 'self' | 'next'): string {
  return `<${url}>; rel="${rel}"`;
}
