import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../lib/canonical-json.js';

/** The plain recursive definition (RFC 8785 for JSON values), to check the stack-based one against. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const object = value as Record<string, unknown>;
  return `{${Object.keys(object).sort().map((k) => `${JSON.stringify(k)}:${reference(object[k])}`).join(',')}}`;
}

describe('canonical JSON', () => {
  it('matches the recursive definition on any JSON value, lone surrogates and NULs included', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => { expect(canonicalJson(value)).toBe(reference(value)); }), { numRuns: 500 });
    expect(canonicalJson({ b: '\u0000', a: '\ud800' })).toBe('{"a":"\\ud800","b":"\\u0000"}');
  });
});
