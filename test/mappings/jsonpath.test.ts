/**
 * The compiled JSONPath evaluator must answer exactly what jsonpath-plus answers in its safe
 * mode: these tests run both on the same paths and data and compare results (or failures).
 */
import fc from 'fast-check';
import { JSONPath } from 'jsonpath-plus';
import { describe, expect, it } from 'vitest';
import { compilePath } from '../../mappings/jsonpath/path-compiler.js';

function viaJsonPathPlus(path: string, json: unknown): { ok: true; value: unknown[] } | { ok: false } {
  try {
    return { ok: true, value: JSONPath({ path, json: json as object, eval: 'safe', wrap: true, sandbox: { params: { limit: 2 } } as never }) as unknown[] };
  } catch {
    return { ok: false };
  }
}

function viaCompiled(path: string, json: unknown): { ok: true; value: unknown[] } | { ok: false } {
  const compiled = compilePath(path, { limit: 2 });
  try {
    return { ok: true, value: compiled.evaluate(json) };
  } catch {
    return { ok: false };
  }
}

const KEYS = ['a', 'b', 'status', 'n', 'tags', '*'];
const scalar = fc.oneof(fc.constantFrom('ACTIVE', 'x', '', 'a@example.com'), fc.integer({ min: -3, max: 5 }), fc.boolean(), fc.constant(null));
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('node'), { maxLength: 3 }), tie('object')),
  object: fc.dictionary(fc.constantFrom(...KEYS), tie('node'), { maxKeys: 4 }),
})).node;

const FILTERS = [
  '@.a == 1',
  "@.status == 'ACTIVE'",
  "@.status === 'ACTIVE' && @.n > 2",
  '@.n >= 3 || @.b',
  '!@.b',
  "@.tags && @.tags.includes('x')",
  '@.a.b == 1',
  '@property == 0',
  '@.n * 2 - 1 > params.limit',
  '@.n % 2 === 0 ? @.a : @.b',
  'typeof @.n === "number"',
  '@.a != null',
  "['ACTIVE', 'x'].includes(@.status)",
  '@ == 3',
  "@.status.startsWith('A')",
  '@root.length > 1 && @.n < 2',
];
const segment = fc.oneof(
  fc.constantFrom('.a', '.b', '.status', '.n', '.tags', '[*]', '.*', "['status']", '[0]', '[1]', '.length'),
  fc.constantFrom(...FILTERS).map((filter) => `[?(${filter})]`),
  fc.constantFrom('..a', '[0:2]', '[a,b]', '.a~', '^'),
);
const path = fc.array(segment, { minLength: 0, maxLength: 4 }).map((segments) => `$${segments.join('')}`);

describe('compiled JSONPath', () => {
  it('agrees with jsonpath-plus (safe eval) on random paths and data', () => {
    fc.assert(
      fc.property(path, fc.array(value, { maxLength: 6 }), (p, json) => {
        expect(viaCompiled(p, json)).toEqual(viaJsonPathPlus(p, json));
      }),
      { numRuns: 3000 },
    );
  });

  it('follows jsonpath-plus when a key is literally named like the next token', () => {
    const json = { a: { '*': 'literal', other: 'wildcard' }, list: [{ a: { '*': 'literal', other: 'wildcard' } }] };
    for (const p of ['$.a.*', '$.a[*]', '$.list[*].a[*]', '$.list[0].a.*']) expect(viaCompiled(p, json)).toEqual(viaJsonPathPlus(p, json));
    // After a child step jsonpath-plus prefers a key named "*" over the wildcard…
    expect(viaCompiled('$.a.*', json)).toEqual({ ok: true, value: ['literal'] });
    // …but not when that child step itself followed a wildcard (the priority alternates).
    expect(viaCompiled('$.list[*].a[*]', json)).toEqual({ ok: true, value: ['literal', 'wildcard'] });
  });

  it('handles the common record-array shapes', () => {
    const users = [
      { id: 'u1', status: 'ACTIVE', mfa: true, roles: ['a'] },
      { id: 'u2', status: 'SUSPENDED', mfa: false, roles: [] },
    ];
    expect(compilePath("$[?(@.status == 'ACTIVE')].id", {}).evaluate(users)).toEqual(['u1']);
    expect(compilePath('$[*].roles[*]', {}).evaluate(users)).toEqual(['a']);
    expect(compilePath('$[?(@.roles.length == 0)]', {}).evaluate(users)).toEqual([users[1]]);
    expect(compilePath('$..id', {}).evaluate(users)).toEqual(['u1', 'u2']);
    expect(compilePath('$', {}).evaluate(users)).toEqual([users]);
  });
});
