/**
 * Bounds a JSON value for a model's context: arrays cut to `maxItems` (with a marker saying how
 * many there were), long strings cut, deep nesting summarised. The hub's payloads are already
 * capped per list, but a rule may keep hundreds of records; a tool answer keeps fifty.
 */
export interface Bounds {
  maxItems: number;
  maxString: number;
  maxDepth: number;
}

export const DEFAULT_BOUNDS: Bounds = { maxItems: 50, maxString: 2_000, maxDepth: 12 };

export function bounded(value: unknown, bounds: Bounds = DEFAULT_BOUNDS): { value: unknown; truncated: boolean } {
  let truncated = false;
  const visit = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') {
      if (v.length <= bounds.maxString) return v;
      truncated = true;
      return `${v.slice(0, bounds.maxString)}… (${v.length} characters)`;
    }
    if (v === null || typeof v !== 'object') return v;
    if (depth >= bounds.maxDepth) {
      truncated = true;
      return Array.isArray(v) ? `(a list of ${v.length})` : '(an object)';
    }
    if (Array.isArray(v)) {
      if (v.length <= bounds.maxItems) return v.map((item) => visit(item, depth + 1));
      truncated = true;
      return [...v.slice(0, bounds.maxItems).map((item) => visit(item, depth + 1)), `… ${v.length - bounds.maxItems} more (${v.length} in all)`];
    }
    return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, visit(item, depth + 1)]));
  };
  return { value: visit(value, 0), truncated };
}
