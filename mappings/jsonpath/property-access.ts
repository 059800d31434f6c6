/**
 * Reading record properties without ever reaching an object's prototype machinery.
 *
 * Records are JSON data, so every meaningful property is an own property. A plain `obj[key]`
 * is the fastest read, and it is exact whenever `key` is not also the name of something on a
 * built-in prototype (`toString`, `constructor`, `length` of a function, …); only for those
 * names does the read check ownership. Names that lead to the Function constructor or let a
 * write reach a prototype are refused outright when a rule is compiled.
 */

/** Property names no expression may read: each is a step towards code execution or prototype pollution. */
export const FORBIDDEN_PROPERTY_NAMES: ReadonlySet<string> = new Set([
  'constructor',
  '__proto__',
  'prototype',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]);

const PROTOTYPES_OF_JSON_VALUES = [Object.prototype, Array.prototype, String.prototype, Number.prototype, Boolean.prototype];

/** Whether a plain `obj[key]` could find something on a built-in prototype instead of the record. */
export function isInheritedName(key: string): boolean {
  return PROTOTYPES_OF_JSON_VALUES.some((proto) => key in proto);
}

export type PropertyReader = (value: unknown) => unknown;

/**
 * A reader of one property: `undefined` when `value` is null/undefined or lacks the own property.
 * Compiled once per name so the per-record cost is one property access.
 */
export function ownPropertyReader(key: string): PropertyReader {
  if (isInheritedName(key)) {
    return (value) => (value !== null && value !== undefined && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined);
  }
  return (value) => (value === null || value === undefined ? undefined : (value as Record<string, unknown>)[key]);
}

/** A reader of a dotted path (`a.b.c`): undefined as soon as a step is missing. */
export function fieldPathReader(path: string): PropertyReader {
  const readers = path.split('.').map(ownPropertyReader);
  if (readers.length === 1) return readers[0] as PropertyReader;
  return (value) => {
    let current = value;
    for (const read of readers) {
      current = read(current);
      if (current === undefined) return undefined;
    }
    return current;
  };
}

/** The first forbidden name in a dotted field path, if any. */
export function forbiddenSegment(path: string): string | undefined {
  return path.split('.').find((segment) => FORBIDDEN_PROPERTY_NAMES.has(segment));
}
