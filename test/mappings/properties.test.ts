/**
 * Property-based tests of the engine's guarantees: it never throws on any JSON input,
 * it is deterministic, exclusions only ever pass a rule by naming its failing records, and
 * the fast timestamp reader agrees with Date.parse.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { canonicalSha256 } from '../../lib/canonical-json.js';
import { parseTimestamp } from '../../mappings/compare.js';
import { compileRules, evaluate, parseRulesDocument, type EvaluationResult } from '../../mappings/engine.js';
import { listPacks } from '../../mappings/packs.js';
import type { Assertion, Predicate, Rule } from '../../mappings/types.js';
import { NOW, rule } from './helpers.js';

const allPackRules = listPacks().flatMap((pack) => pack.rules);
const extraRules: Rule[] = [
  rule({
    id: 'custom',
    select: '$[*]',
    where: { any_of: [{ field: 'a.b', gte: 1, as: 'number' }, { field: 'tags', contains: 'x' }, '$[?(@ && @.n > 0)]'] },
    exclusions: [{ id: 'x', reason: 'r' }, { id: 1, reason: 'r', expires: '2025-01-01' }],
    pass_when: [{ count: { path: '$..n', op: 'gte', value: 0 } }, { any: { field: 'v', eq: null } }],
    payload: { deep: '$..*', first: { value: '$[0]' }, many: { list: '$[*]', fields: ['a.b', 'id'], limit: 3 } },
  }),
];
const mapping = compileRules([...allPackRules, ...extraRules]);
const datasetNames = [...new Set([...mapping.datasets])];

const anyJson = fc.jsonValue({ maxDepth: 4 });
const recordLike = fc.dictionary(fc.constantFrom('id', 'status', 'mfa_enrolled', 'last_login', 'managed', 'os_version', 'a', 'n', 'tags', 'v', 'created', 'complete_by'), anyJson, {
  maxKeys: 6,
});
const datasetValue = fc.oneof(anyJson, fc.array(anyJson, { maxLength: 8 }), fc.array(recordLike, { maxLength: 8 }));
const datasets = fc.dictionary(fc.constantFrom(...datasetNames), datasetValue);

function checkWellFormed(result: EvaluationResult): void {
  expect(result.evidence).toHaveLength(mapping.rules.length);
  for (const item of result.evidence) {
    expect(['pass', 'fail', 'info', 'error']).toContain(item.result);
    expect(item.payload_sha256).toBe(canonicalSha256(item.payload));
    if (item.result === 'error') expect(result.errors.some((error) => error.rule_id === item.rule_id)).toBe(true);
  }
}

describe('the engine on arbitrary input', () => {
  it('never throws: unreadable data becomes result "error"', () => {
    fc.assert(
      fc.property(datasets, (data) => {
        checkWellFormed(evaluate(mapping, data, { now: NOW }));
      }),
      { numRuns: 400 },
    );
  });

  it('reports a dataset that is not a list as an error, never as a pass', () => {
    fc.assert(
      fc.property(fc.constantFrom(...datasetNames), anyJson.filter((value) => !Array.isArray(value)), (name, value) => {
        const result = evaluate(mapping, { [name]: value }, { now: NOW });
        for (const item of result.evidence.filter((candidate) => candidate.dataset === name)) expect(item.result).toBe('error');
      }),
      { numRuns: 100 },
    );
  });

  it('is deterministic: same input, byte-identical output, however it was compiled', () => {
    fc.assert(
      fc.property(datasets, fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }), (data, now) => {
        const first = evaluate(mapping, data, { now });
        const second = evaluate(compileRules([...allPackRules, ...extraRules]), structuredClone(data), { now: new Date(now.getTime()) });
        expect(JSON.stringify(second)).toBe(JSON.stringify(first));
      }),
      { numRuns: 150 },
    );
  });
});

describe('exclusions', () => {
  const ids = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'];
  const user = fc.record({
    id: fc.constantFrom(...ids),
    status: fc.constantFrom('ACTIVE', 'SUSPENDED'),
    mfa_enrolled: fc.boolean(),
    n: fc.integer({ min: 0, max: 3 }),
  });
  const predicate: fc.Arbitrary<Predicate> = fc.constantFrom<Predicate>(
    { field: 'mfa_enrolled', eq: true },
    { field: 'n', gte: 2 },
    { any_of: [{ field: 'status', eq: 'SUSPENDED' }, { field: 'n', lt: 1 }] },
    "$[?(@.mfa_enrolled == false && @.n > 0)]",
  );
  const assertion: fc.Arbitrary<Assertion> = fc.oneof(
    predicate.map((p) => ({ all: p })),
    predicate.map((p) => ({ none: p })),
    predicate.map((p) => ({ any: p })),
    fc.integer({ min: 0, max: 3 }).map((value) => ({ count: { op: 'gte' as const, value } })),
  );
  const exclusion = fc.record({ id: fc.constantFrom(...ids), reason: fc.constant('waived'), expired: fc.boolean() });

  function failingIds(result: EvaluationResult): Set<unknown> {
    const evaluation = result.evidence[0]?.payload._evaluation as { assertions: Array<{ failing?: { items: Array<{ id: unknown }> } }> };
    return new Set(evaluation.assertions.flatMap((a) => a.failing?.items ?? []).map((item) => item.id));
  }

  it('never turn a fail into a pass unless they name every failing record', () => {
    fc.assert(
      fc.property(fc.array(user, { maxLength: 8 }), fc.array(assertion, { minLength: 1, maxLength: 3 }), fc.uniqueArray(exclusion, { selector: (e) => e.id, maxLength: 6 }), (users, pass_when, chosen) => {
        const exclusions = chosen.map(({ id, reason, expired }) => ({ id, reason, expires: expired ? '2025-05-01' : '2025-12-31' }));
        const without = evaluate(compileRules([rule({ pass_when })]), { 'okta.users': users }, { now: NOW });
        const withExclusions = evaluate(compileRules([rule({ pass_when, exclusions })]), { 'okta.users': users }, { now: NOW });
        if (without.evidence[0]?.result === 'fail' && withExclusions.evidence[0]?.result === 'pass') {
          const active = new Set(chosen.filter((e) => !e.expired).map((e) => e.id));
          for (const id of failingIds(without)) expect(active.has(id as string)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('pass an all/none rule exactly when they name every failing record', () => {
    const recordAssertion = fc.oneof(predicate.map((p): Assertion => ({ all: p })), predicate.map((p): Assertion => ({ none: p })));
    fc.assert(
      fc.property(fc.array(user, { maxLength: 8 }), fc.array(recordAssertion, { minLength: 1, maxLength: 3 }), (users, pass_when) => {
        const without = evaluate(compileRules([rule({ pass_when })]), { 'okta.users': users }, { now: NOW });
        const exclusions = [...failingIds(without)].map((id) => ({ id: id as string, reason: 'waived' }));
        const muted = evaluate(compileRules([rule({ pass_when, exclusions })]), { 'okta.users': users }, { now: NOW });
        expect(muted.evidence[0]?.result).toBe('pass');
      }),
      { numRuns: 500 },
    );
  });
});

describe('timestamps', () => {
  it('are read exactly as Date.parse reads them', () => {
    const instant = fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true });
    const text = fc.oneof(
      instant.map((d) => d.toISOString()),
      instant.map((d) => d.toISOString().replace(/\.\d{3}Z$/u, 'Z')),
      fc.tuple(instant, fc.nat(23), fc.integer({ min: 0, max: 22 })).map(([d, at, digit]) => {
        const iso = d.toISOString();
        return iso.slice(0, at) + String(digit).slice(-1) + iso.slice(at + 1); // a digit or a separator replaced
      }),
      fc.string({ maxLength: 24 }),
    );
    fc.assert(
      fc.property(text, (value) => {
        const expected = Date.parse(value);
        expect(parseTimestamp(value)).toBe(Number.isNaN(expected) ? undefined : expected);
      }),
      { numRuns: 20000 },
    );
    for (const edge of ['2025-02-30T00:00:00Z', '2024-02-29T23:59:59.999Z', '2025-01-01T24:00:00Z', '2025-13-01T00:00:00Z', '0000-01-01T00:00:00Z']) {
      const expected = Date.parse(edge);
      expect(parseTimestamp(edge)).toBe(Number.isNaN(expected) ? undefined : expected);
    }
  });
});

describe('documents', () => {
  it('mean the same in YAML and JSON', () => {
    for (const pack of listPacks()) {
      const document = { name: pack.name, description: pack.description, rules: pack.rules };
      const fromYaml = parseRulesDocument(toYaml(document));
      const fromJson = parseRulesDocument(JSON.stringify(document));
      expect(fromYaml.ok && fromJson.ok).toBe(true);
      if (fromYaml.ok && fromJson.ok) expect(fromYaml.document).toEqual(fromJson.document);
    }
  });
});

describe('the inlined equality test', () => {
  it('answers as the general comparison does', () => {
    const constant = fc.oneof(fc.constant(null), fc.boolean(), fc.integer({ min: -2, max: 2 }), fc.constantFrom('ACTIVE', ''));
    fc.assert(
      fc.property(fc.array(fc.record({ v: fc.option(fc.jsonValue({ maxDepth: 1 }), { nil: undefined }) }, { requiredKeys: [] }), { maxLength: 5 }), constant, fc.constantFrom('eq', 'ne'), (records, c, op) => {
        // A dotted field takes the general path; a top-level one the inlined closure.
        const inlined = evaluate(compileRules([rule({ pass_when: [{ none: { field: 'v', [op]: c } }] })]), { 'okta.users': records }, { now: NOW });
        const general = evaluate(compileRules([rule({ pass_when: [{ none: { field: 'w.v', [op]: c } }] })]), { 'okta.users': records.map((w) => ({ w })) }, { now: NOW });
        expect(inlined.stats).toEqual(general.stats);
      }),
      { numRuns: 500 },
    );
  });
});
