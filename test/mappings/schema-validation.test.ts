import { describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { compileRules, MappingValidationError, mappingDocumentSchema, mappingRulesSchema, parseRulesDocument, validateMappingDocument } from '../../mappings/engine.js';
import { rule } from './helpers.js';

const errorsOf = (document: unknown) => validateMappingDocument(document);

describe('mapping document validation', () => {
  it('accepts {rules} documents and bare arrays', () => {
    expect(errorsOf({ rules: [rule()] })).toEqual([]);
    expect(errorsOf([rule()])).toEqual([]);
    expect(errorsOf({ name: 'n', description: 'd', rules: [] })).toEqual([]);
  });

  it('points at an invalid count operator and says what is expected', () => {
    const document = { rules: [rule(), rule({ id: 'b' }), rule({ id: 'c', pass_when: [{ count: { op: 'equals', value: 1 } as never }] })] };
    expect(errorsOf(document)).toEqual([{ pointer: '/rules/2/pass_when/0/count/op', message: 'must be one of: eq, ne, gt, gte, lt, lte' }]);
  });

  it('points into a bare array without the /rules prefix', () => {
    expect(errorsOf([rule({ id: 'Not A Slug' })])).toEqual([
      { pointer: '/0/id', message: 'must be a slug: lowercase letters and digits, separated by "-", "_" or "."' },
    ]);
  });

  it('names missing and unknown fields, with a suggestion for typos', () => {
    const { title: _title, ...withoutTitle } = rule();
    expect(errorsOf({ rules: [{ ...withoutTitle, pass_whenn: [] }] })).toEqual(
      expect.arrayContaining([
        { pointer: '/rules/0/title', message: 'is required' },
        { pointer: '/rules/0/pass_whenn', message: 'is not a known field (did you mean "pass_when"?)' },
      ]),
    );
  });

  it('requires exactly one of question_match and question_id', () => {
    expect(errorsOf([rule({ question_id: 'q-1' })])).toEqual([{ pointer: '/0', message: 'must have exactly one of: question_match, question_id' }]);
    const { question_match: _match, ...neither } = rule();
    expect(errorsOf([neither])).toEqual([{ pointer: '/0', message: 'must have exactly one of: question_match, question_id' }]);
    const { question_match: _m, ...byId } = rule({ question_id: 'q-1' });
    expect(errorsOf([byId])).toEqual([]);
  });

  it('requires pass_when in assert mode but not in info mode', () => {
    const { pass_when: _p, ...noAssertions } = rule();
    expect(errorsOf([noAssertions])).toEqual([{ pointer: '/0/pass_when', message: 'is required' }]);
    expect(errorsOf([{ ...noAssertions, mode: 'info' }])).toEqual([]);
  });

  it('reports structured predicate mistakes at the predicate', () => {
    const errors = errorsOf([rule({ pass_when: [{ none: { field: 'last_login', older_than_dayz: 90 } as never }] })]);
    expect(errors).toEqual([
      { pointer: '/0/pass_when/0/none', message: expect.stringMatching(/^must have exactly one of: eq, ne, .*older_than_days, within_days$/) as string },
      { pointer: '/0/pass_when/0/none/older_than_dayz', message: 'is not a known field (did you mean "older_than_days"?)' },
    ]);
    expect(errorsOf([rule({ pass_when: [{ all: 42 as never }] })])).toEqual([
      { pointer: '/0/pass_when/0/all', message: 'must be a JSONPath filter "$[?(...)]" or a predicate object ({field, <op>}, all_of, any_of or not)' },
    ]);
    expect(errorsOf([rule({ pass_when: [{ all: '@.mfa_enrolled' }] })])).toEqual([
      { pointer: '/0/pass_when/0/all', message: 'must be a JSONPath filter of the form "$[?(<expression>)]"' },
    ]);
  });

  it('validates payload entry names and forms', () => {
    const errors = errorsOf([rule({ payload: { Admins: '$[*]', list_without_path: { fields: ['a'] } as never, ok: { count: '$' } } })]);
    expect(errors).toEqual(
      expect.arrayContaining([
        { pointer: '/0/payload/Admins', message: 'name must be a payload entry name: lowercase letters, digits and underscores, starting with a letter' },
        { pointer: '/0/payload/list_without_path', message: 'must have exactly one of: count, value, list' },
        { pointer: '/0/payload/list_without_path/fields', message: 'is only allowed together with "list"' },
      ]),
    );
  });

  it('rejects a path that jsonpath-plus cannot parse, pointing at it', () => {
    expect(errorsOf([rule({ select: '$[?(@.status ==)]' })])).toEqual([
      { pointer: '/0/select', message: 'filter "@.status ==" does not parse: Expected expression after ==' },
    ]);
    expect(errorsOf([rule({ payload: { broken: { count: '$[?(@.a && )]' } } })])).toEqual([
      { pointer: '/0/payload/broken/count', message: expect.stringContaining('does not parse') as string },
    ]);
    expect(errorsOf([rule({ pass_when: [{ none: '$[?(@.a ==)]' }] })])).toEqual([
      { pointer: '/0/pass_when/0/none', message: expect.stringContaining('does not parse') as string },
    ]);
  });

  it('rejects unfinished paths that jsonpath-plus would quietly accept', () => {
    const messages = (select: string) => errorsOf([rule({ select })]).map((error) => `${error.pointer}: ${error.message}`);
    expect(messages('$[0')).toEqual(['/0/select: JSONPath "$[0" is missing "]"']);
    expect(messages("$['a")).toEqual(['/0/select: JSONPath "$[\'a" has an unclosed \' quote']);
    expect(messages('$.users.')).toEqual(['/0/select: JSONPath "$.users." ends with "."']);
    expect(messages('$[?(@.a))]')).toEqual(['/0/select: JSONPath "$[?(@.a))]" has an unmatched ")"']);
    expect(messages('$[?()]')).toEqual(['/0/select: the filter is empty; write a condition such as ?(@.status == "ACTIVE")']);
    expect(messages("$[?(@.name == 'a]')]")).toEqual([]);
  });

  it('reports every broken expression of a rule, not just the first', () => {
    const errors = errorsOf([rule({ select: '$[?(@.a ==)]', pass_when: [{ none: '$[?(@.b ==)]' }, { count: { path: '$[?(@.c ==)]', op: 'eq', value: 0 } }] })]);
    expect(errors.map((error) => error.pointer)).toEqual(['/0/select', '/0/pass_when/0/none', '/0/pass_when/1/count/path']);
  });

  it('checks params: references must be declared and of the right type', () => {
    expect(errorsOf([rule({ pass_when: [{ none: { field: 'last_login', older_than_days: { param: 'max_days' } } }] })])).toEqual([
      { pointer: '/0/pass_when/0/none/older_than_days/param', message: 'unknown param "max_days"; declare it under params' },
    ]);
    expect(errorsOf([rule({ params: { max_days: 'ninety' }, pass_when: [{ none: { field: 'last_login', older_than_days: { param: 'max_days' } } }] })])).toEqual([
      { pointer: '/0/pass_when/0/none/older_than_days/param', message: 'a number of days must be a non-negative number (got "ninety")' },
    ]);
    expect(errorsOf([rule({ params: { min: 'fourteen' }, pass_when: [{ all: { field: 'os_version', gte: { param: 'min' }, as: 'version' } }] })])).toEqual([
      { pointer: '/0/pass_when/0/all/gte/param', message: 'param "min" ("fourteen") cannot be read as a version' },
    ]);
    expect(errorsOf([rule({ select: '$[?(@.age > params.max_age)]' })])).toEqual([
      { pointer: '/0/select', message: 'unknown param "max_age"; declare it under params' },
    ]);
  });

  it('checks title templates against the known variables', () => {
    expect(errorsOf([rule({ title: '{{matched}} of {{count}} ({{result}}) {{total}} {{dataset}} {{rule_id}}' })])).toEqual([]);
    const [error] = errorsOf([rule({ title: 'Users: {{cuont}}' })]);
    expect(error?.pointer).toBe('/0/title');
    expect(error?.message).toMatch(/^unknown template variable "\{\{cuont\}\}"; known: result, rule_id, .*count/u);
    expect(errorsOf([rule({ title: '{{params.days}} {{payload.users}}', params: { days: 3 }, payload: { users: { count: '$' } } })])).toEqual([]);
    expect(errorsOf([rule({ title: '{{payload.users}}', payload: { users: '$[*].login' } })])[0]?.pointer).toBe('/0/title');
    expect(errorsOf([rule({ title: 'open {{count' })])).toEqual([{ pointer: '/0/title', message: 'unbalanced "{{" or "}}" in template; placeholders look like {{count}}' }]);
  });

  it('rejects duplicate rule ids and duplicate or impossible exclusions', () => {
    expect(errorsOf([rule(), rule()])).toEqual([{ pointer: '/1/id', message: 'duplicate rule id "test-rule" (also at /0/id)' }]);
    expect(
      errorsOf([rule({ exclusions: [{ id: 'u1', reason: 'a' }, { id: 'u1', reason: 'b' }, { id: 'u2', reason: 'c', expires: '2025-02-30' }] })]),
    ).toEqual([{ pointer: '/0/exclusions/1/id', message: 'duplicate exclusion for id "u1"' }]);
    expect(errorsOf([rule({ exclusions: [{ id: 'u2', reason: 'c', expires: '2025-02-30' }] })])).toEqual([
      { pointer: '/0/exclusions/0/expires', message: '"2025-02-30" is not a valid date' },
    ]);
    expect(errorsOf([rule({ exclusions: [{ id: 'u2', reason: 'c', expires: 'next week' }] })])[0]?.pointer).toBe('/0/exclusions/0/expires');
  });

  it('escapes payload names in pointers and rejects a non-document', () => {
    expect(errorsOf('hello')).toEqual([{ pointer: '', message: 'must be a list of rules or an object with "rules"' }]);
    expect(errorsOf({})).toEqual([{ pointer: '/rules', message: 'is required' }]);
  });

  it('compileRules throws MappingValidationError carrying the same errors', () => {
    const document = [rule({ select: 'users' })];
    expect(() => compileRules(document)).toThrow(MappingValidationError);
    try {
      compileRules(document);
    } catch (error) {
      expect((error as MappingValidationError).errors).toEqual(validateMappingDocument(document));
      expect((error as MappingValidationError).errors).toEqual([{ pointer: '/0/select', message: 'must be a JSONPath starting with "$"' }]);
    }
  });
});

describe('YAML and JSON documents', () => {
  const yaml = `
rules:
  - id: okta-admin-mfa
    dataset: okta.users
    control_ref: Access Control
    question_match: MFA admin
    title: "Okta: MFA for administrators"
    select: "$[?(@.is_admin == true)]"
    exclusions: [{ id: 00u9, reason: break-glass account, expires: 2025-12-31 }]
    pass_when:
      - none: "$[?(@.mfa_enrolled == false)]"
    payload:
      admins: { count: "$" }
`;

  it('parse to the same document', () => {
    const fromYaml = parseRulesDocument(yaml);
    expect(fromYaml.ok).toBe(true);
    if (!fromYaml.ok) return;
    const fromJson = parseRulesDocument(JSON.stringify(fromYaml.document));
    expect(fromJson.ok).toBe(true);
    if (!fromJson.ok) return;
    expect(fromJson.document).toEqual(fromYaml.document);
    // YAML 1.2: dates and ids like 00u9 stay strings, as they would in JSON.
    expect(fromYaml.document.rules[0]?.exclusions?.[0]).toEqual({ id: '00u9', reason: 'break-glass account', expires: '2025-12-31' });
  });

  it('give the same errors with the same pointers', () => {
    const badYaml = yaml.replace('MFA admin', '').replace('control_ref: Access Control', 'control_ref: 42');
    const fromYaml = parseRulesDocument(badYaml);
    expect(fromYaml.ok).toBe(false);
    const value = JSON.parse(JSON.stringify({ rules: [{ ...parseRules(yaml), control_ref: 42, question_match: null }] })) as unknown;
    const fromJson = parseRulesDocument(JSON.stringify(value));
    expect(fromJson).toEqual(fromYaml);
    if (!fromYaml.ok) expect(fromYaml.errors.map((e) => e.pointer).sort()).toEqual(['/rules/0/control_ref', '/rules/0/question_match']);
  });

  it('report syntax errors with their line, and reject duplicate keys', () => {
    const broken = parseRulesDocument('rules:\n  - id: a\n    id: b\n');
    expect(broken).toEqual({ ok: false, errors: [{ pointer: '', message: expect.stringContaining('syntax error: Map keys must be unique') as string }] });
    const json = parseRulesDocument('{"rules": [ }');
    expect(json.ok).toBe(false);
    if (!json.ok) expect(json.errors[0]?.message).toMatch(/line 1/u);
  });

  function parseRules(text: string): Record<string, unknown> {
    const parsed = parseRulesDocument(text);
    if (!parsed.ok) throw new Error('fixture must parse');
    return parsed.document.rules[0] as unknown as Record<string, unknown>;
  }
});

describe('the exported schemas', () => {
  it('are valid, self-contained draft 2020-12 schemas', () => {
    const ajv = new Ajv2020({ strict: false });
    expect(ajv.validateSchema(mappingDocumentSchema)).toBe(true);
    expect(ajv.validateSchema(mappingRulesSchema)).toBe(true);
    const text = JSON.stringify(mappingDocumentSchema);
    expect(text).not.toMatch(/"\$ref":"(?!#\/\$defs\/)/u);
    expect(ajv.compile(mappingRulesSchema)([rule()])).toBe(true);
  });
});
