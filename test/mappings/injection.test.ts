/**
 * Admin-written filters must never execute code. Every attempt below is refused when the
 * rule is compiled (with a pointer at the offending expression), and records crafted to
 * pollute prototypes are evaluated as plain data. Sentinels prove that nothing ran.
 */
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { compileRules, evaluate, parseRulesDocument, validateMappingDocument } from '../../mappings/engine.js';
import { NOW, rule, user } from './helpers.js';

declare global {
  var __mappingPwned: unknown;
}

const ATTEMPTS: Array<[string, string]> = [
  ["$[?(@.constructor.constructor('return process')())]", 'only method calls on a value are allowed'],
  ['$[?(@.constructor.constructor)]', 'property "constructor" is not accessible'],
  ["$[?(this.constructor.constructor('return process')())]", 'only method calls on a value are allowed'],
  ['$[?(this.x)]', '"this" is not available'],
  ['$[?(@.login.constructor.constructor("globalThis.__mappingPwned = 1").call())]', 'method "call" is not allowed'],
  ["$[?(@['constructor']['constructor']('return process')())]", 'only method calls on a value are allowed'],
  ["$[?(@.login['constructor'])]", 'property "constructor" is not accessible'],
  ["$[?(@['constr' + 'uctor'])]", 'a computed property must be a string or number literal'],
  ['$[?(process.exit(1))]', 'method "exit" is not allowed'],
  ['$[?(process.mainModule)]', 'unknown name "process"'],
  ["$[?(require('child_process').execSync('id'))]", 'method "execSync" is not allowed'],
  ["$[?(require('child_process'))]", 'only method calls on a value are allowed'],
  ['$[?(globalThis.__mappingPwned = 1)]', 'assignments are not allowed'],
  ['$[?(__mappingPwned = 1)]', 'assignments are not allowed'],
  ['$[?(@.__proto__.polluted = 1)]', 'assignments are not allowed'],
  ['$[?(@.__proto__)]', 'property "__proto__" is not accessible'],
  ["$[?(@['__proto__'])]", 'property "__proto__" is not accessible'],
  ['$[?(@.prototype)]', 'property "prototype" is not accessible'],
  ['$[?(@.__defineGetter__)]', 'property "__defineGetter__" is not accessible'],
  ['$[?(@.login.valueOf())]', 'method "valueOf" is not allowed'],
  ['$[?(@.login.repeat(1e9))]', 'method "repeat" is not allowed'],
  ['$[?(@root.pop())]', 'method "pop" is not allowed'],
  ['$[?(@.tags.push(1))]', 'method "push" is not allowed'],
  ["$[?(@.login.replace(/a/, 'b'))]", 'method "replace" is not allowed'],
  ['$[?(@.login == /(a+)+$/)]', 'regular expressions are not supported'],
  ['$[?(@.tags.map(x => x))]', 'does not parse'],
  ['$[?(Function("return 1")())]', 'only method calls on a value are allowed'],
  ['$[?(eval("1"))]', 'only method calls on a value are allowed'],
  ['$[?(Function)]', 'unknown name "Function"'],
  ['$[?(@.a; globalThis)]', 'only one expression is allowed'],
  ['$[?(@.a?.b)]', 'optional chaining'],
  ['$..[?(@.constructor)]', 'property "constructor" is not accessible'],
  ['$[(@.constructor.constructor("return process")())]', 'only method calls on a value are allowed'],
  ['$[(@.constructor)]', 'property "constructor" is not accessible'],
  ['$[?(@.a)]@other()', 'not supported'],
];

describe('JSONPath injection', () => {
  let exit: MockInstance<typeof process.exit>;
  beforeEach(() => {
    globalThis.__mappingPwned = undefined;
    exit = vi.spyOn(process, 'exit').mockImplementation((() => {
      throw new Error('process.exit was called');
    }) as never);
  });
  afterEach(() => {
    exit.mockRestore();
    delete (globalThis as { __mappingPwned?: unknown }).__mappingPwned;
  });

  it.each(ATTEMPTS)('refuses %s in every position where a path is accepted', (path, message) => {
    const documents = [
      [rule({ select: path })],
      [rule({ payload: { leak: path } })],
      [rule({ payload: { leak: { count: path } } })],
      [rule({ pass_when: [{ count: { path, op: 'eq', value: 0 } }] })],
      ...(/^\$\[\?\(.*\)\]$/u.test(path) ? [[rule({ pass_when: [{ none: path }] })]] : []),
    ];
    for (const document of documents) {
      const errors = validateMappingDocument(document);
      expect(errors.length).toBeGreaterThan(0);
      expect(() => compileRules(document)).toThrow();
    }
    expect(validateMappingDocument(documents[0])).toEqual([{ pointer: '/0/select', message: expect.stringContaining(message) as string }]);
    expect(globalThis.__mappingPwned).toBeUndefined();
    expect(exit).not.toHaveBeenCalled();
  });

  it('refuses prototype names in structured fields, payload fields, id and label fields', () => {
    expect(validateMappingDocument([rule({ pass_when: [{ none: { field: '__proto__.polluted', eq: 1 } }] })])).toEqual([
      { pointer: '/0/pass_when/0/none/field', message: 'field "__proto__.polluted" uses "__proto__", which is not accessible' },
    ]);
    expect(validateMappingDocument([rule({ pass_when: [{ none: { field: 'a', eq: { field: 'constructor' } } }] })])[0]?.pointer).toBe('/0/pass_when/0/none/eq/field');
    expect(validateMappingDocument([rule({ payload: { p: { list: '$[*]', fields: ['constructor'] } } })])[0]?.pointer).toBe('/0/payload/p/fields/0');
    expect(validateMappingDocument([rule({ id_field: 'constructor.name' })])[0]?.pointer).toBe('/0/id_field');
    expect(validateMappingDocument([rule({ label_field: '__proto__' })])[0]?.pointer).toBe('/0/label_field');
  });

  it('refuses __proto__ as a param or payload name, also from YAML', () => {
    const parsed = parseRulesDocument(`
- id: r
  dataset: okta.users
  control_ref: x
  question_match: y
  title: t
  mode: info
  params: { __proto__: { polluted: true } }
  payload: { __proto__: "$[*]" }
`);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect([...new Set(parsed.errors.map((error) => error.pointer))].sort()).toEqual(['/0/params/__proto__', '/0/payload/__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('evaluates records crafted to pollute prototypes as plain data', () => {
    const hostile = JSON.parse(
      '[{"id":"u1","__proto__":{"polluted":true,"mfa_enrolled":true},"constructor":{"prototype":{"polluted":true}},"login":"x","status":"ACTIVE"},' +
        '{"id":"u2","toString":"not a function","valueOf":1,"status":"ACTIVE","mfa_enrolled":true}]',
    ) as unknown[];
    const mapping = compileRules([
      rule({
        label_field: 'login',
        pass_when: [{ none: "$[?(@.status == 'ACTIVE' && @.mfa_enrolled != true)]" }, { all: { field: 'mfa_enrolled', eq: true } }],
        payload: { everything: { list: '$[*]' }, ids: '$[*].id', polluted: '$[*].polluted' },
        exclusions: [{ id: '__proto__', reason: 'no such record' }],
      }),
    ]);
    const result = evaluate(mapping, { 'okta.users': hostile }, { now: NOW });
    const item = result.evidence[0];
    // u1's mfa_enrolled lives only on its (own, data) "__proto__" key: it is not inherited.
    expect(item?.result).toBe('fail');
    expect(item?.payload.polluted).toEqual([]);
    expect(JSON.stringify(item?.payload)).toContain('"__proto__":{"polluted":true');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(hostile[0])).toBe(Object.prototype);
  });

  it('filters cannot mutate the data or reach globals', () => {
    const data = [user('u1', { tags: ['a'] })];
    const before = JSON.stringify(data);
    const mapping = compileRules([rule({ select: "$[?(@.tags.includes('a') && @.login.toUpperCase().startsWith('U1'))]", pass_when: [{ count: { op: 'eq', value: 1 } }] })]);
    expect(evaluate(mapping, { 'okta.users': data }, { now: NOW }).evidence[0]?.result).toBe('pass');
    expect(JSON.stringify(data)).toBe(before);
  });
});
