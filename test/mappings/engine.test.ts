import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../lib/canonical-json.js';
import { compileRules, evaluate, evaluateFromStream, UnreadableDataset, type EvidenceItem } from '../../mappings/engine.js';
import type { Rule } from '../../mappings/types.js';
import { NOW, rule, user } from './helpers.js';

function run(rules: Rule[], data: Record<string, unknown>, options: { now?: Date; maxListItems?: number } = {}) {
  return evaluate(compileRules(rules), data, { now: options.now ?? NOW, ...(options.maxListItems ? { maxListItems: options.maxListItems } : {}) });
}

function only(rules: Rule[], data: Record<string, unknown>, options?: { now?: Date; maxListItems?: number }): EvidenceItem {
  const [item] = run(rules, data, options).evidence;
  if (!item) throw new Error('no evidence');
  return item;
}

const evaluation = (item: EvidenceItem) => item.payload._evaluation as Record<string, unknown>;

describe('assertions', () => {
  const users = [user('u1'), user('u2', { mfa_enrolled: false }), user('u3', { status: 'SUSPENDED', mfa_enrolled: false })];

  it('none / all judge every selected record and name the failing ones', () => {
    const none = only([rule({ select: "$[?(@.status == 'ACTIVE')]", label_field: 'login' })], { 'okta.users': users });
    expect(none.result).toBe('fail');
    expect(evaluation(none).assertions).toEqual([
      { kind: 'none', passed: false, failing: { items: [{ id: 'u2', label: 'u2@example.com' }], total: 1, truncated: false } },
    ]);
    const all = only([rule({ select: "$[?(@.status == 'ACTIVE')]", pass_when: [{ all: { field: 'mfa_enrolled', eq: true } }] })], { 'okta.users': users });
    expect(all.result).toBe('fail');
    const passing = only([rule({ pass_when: [{ all: '$[?(@.login.endsWith("@example.com"))]' }] })], { 'okta.users': users });
    expect(passing.result).toBe('pass');
  });

  it('any passes when one record matches; count compares a number', () => {
    expect(only([rule({ pass_when: [{ any: { field: 'status', eq: 'SUSPENDED' } }] })], { 'okta.users': users }).result).toBe('pass');
    expect(only([rule({ pass_when: [{ any: { field: 'status', eq: 'LOCKED_OUT' } }] })], { 'okta.users': users }).result).toBe('fail');
    const counted = only([rule({ pass_when: [{ count: { where: { field: 'mfa_enrolled', eq: false }, op: 'lte', value: 1 } }] })], { 'okta.users': users });
    expect(counted.result).toBe('fail');
    expect(evaluation(counted).assertions).toEqual([{ kind: 'count', passed: false, actual: 2, op: 'lte', expected: 1 }]);
    expect(only([rule({ pass_when: [{ count: { path: '$[*].mfa_factors', op: 'eq', value: 0 } }] })], { 'okta.users': users }).result).toBe('pass');
    expect(only([rule({ params: { n: 3 }, pass_when: [{ count: { op: 'eq', value: { param: 'n' } } }] })], { 'okta.users': users }).result).toBe('pass');
  });

  it('all assertions must hold; an empty selection passes all/none vacuously, so packs guard with count', () => {
    const twoAssertions = rule({ pass_when: [{ all: { field: 'status', eq: 'ACTIVE' } }, { none: { field: 'mfa_enrolled', eq: false } }] });
    expect(only([twoAssertions], { 'okta.users': [user('u1')] }).result).toBe('pass');
    expect(only([twoAssertions], { 'okta.users': [] }).result).toBe('pass');
    const guarded = rule({ pass_when: [{ count: { op: 'gte', value: 1 } }, { none: { field: 'mfa_enrolled', eq: false } }] });
    expect(only([guarded], { 'okta.users': [] }).result).toBe('fail');
  });

  it('mode info always yields info, with the same payload', () => {
    const info = only([rule({ mode: 'info', payload: { users: { count: '$' } } })], { 'okta.users': users });
    expect(info.result).toBe('info');
    expect(info.payload.users).toBe(3);
  });

  it('where narrows the selection with a structured predicate', () => {
    const item = only(
      [rule({ select: "$[?(@.status == 'ACTIVE')]", where: { field: 'last_login', older_than_days: 30 }, pass_when: [{ count: { op: 'eq', value: 1 } }] })],
      { 'okta.users': [user('u1', { last_login: '2025-01-01T00:00:00Z' }), user('u2'), user('u3', { status: 'STAGED', last_login: '2020-01-01T00:00:00Z' })] },
    );
    expect(item.result).toBe('pass');
    expect(evaluation(item).counts).toEqual({ total: 3, selected: 1, excluded: 0, count: 1, matched: 1, failing: 0 });
  });
});

describe('structured predicates', () => {
  const check = (predicate: unknown, record: Record<string, unknown>, params: Record<string, never> | Record<string, unknown> = {}) =>
    only([rule({ params: params as Rule['params'], pass_when: [{ all: predicate as never }] })], { 'okta.users': [record] }).result === 'pass';

  it('compare dates, versions and numbers as asked', () => {
    expect(check({ field: 'os_version', gte: '14.0', as: 'version' }, { os_version: '14.10' })).toBe(true);
    expect(check({ field: 'os_version', gte: '14.0', as: 'version' }, { os_version: '13.6.7' })).toBe(false);
    expect(check({ field: 'os_version', gte: '14.0' }, { os_version: '9.1' })).toBe(true); // as text, "9" > "1"
    expect(check({ field: 'os_version', eq: '14', as: 'version' }, { os_version: '14.0.0' })).toBe(true);
    expect(check({ field: 'a', gt: { field: 'b' }, as: 'date' }, { a: '2025-01-02T00:00:00Z', b: '2025-01-01T23:00:00+00:00' })).toBe(true);
    expect(check({ field: 'n', gt: 5, as: 'number' }, { n: '10' })).toBe(true);
    expect(check({ field: 'n', gt: 5 }, { n: '10' })).toBe(false); // auto: a string is not compared with a number
  });

  it('never satisfy an ordering on a missing, null or malformed value', () => {
    for (const record of [{}, { v: null }, { v: 'not a version' }, { v: { nested: 1 } }]) {
      expect(check({ field: 'v', gte: '1.0', as: 'version' }, record)).toBe(false);
      expect(check({ field: 'v', lt: '1.0', as: 'version' }, record)).toBe(false);
      expect(check({ field: 'v', older_than_days: 0 }, record)).toBe(false);
      expect(check({ field: 'v', within_days: 1000 }, record)).toBe(false);
    }
    expect(check({ field: 'v', eq: null }, {})).toBe(true);
    expect(check({ field: 'v', exists: false }, { v: null })).toBe(true);
    expect(check({ field: 'v', exists: true }, { v: 0 })).toBe(true);
  });

  it('measure ages from the evaluation instant', () => {
    const record = { last_login: '2025-03-03T00:00:00Z' }; // 90 days before NOW
    expect(check({ field: 'last_login', older_than_days: 90 }, record)).toBe(false);
    expect(check({ field: 'last_login', older_than_days: 89 }, record)).toBe(true);
    expect(check({ field: 'last_login', within_days: 90 }, record)).toBe(true);
    expect(check({ field: 'last_login', within_days: { param: 'days' } }, record, { days: 30 })).toBe(false);
  });

  it('support in, not_in, contains, nested fields and combinators', () => {
    expect(check({ field: 'status', in: ['ACTIVE', 'LOCKED_OUT'] }, { status: 'ACTIVE' })).toBe(true);
    expect(check({ field: 'status', not_in: { param: 'bad' } }, { status: 'ACTIVE' }, { bad: ['SUSPENDED'] })).toBe(true);
    expect(check({ field: 'admin_roles', contains: 'SUPER_ADMIN' }, { admin_roles: ['ORG_ADMIN', 'SUPER_ADMIN'] })).toBe(true);
    expect(check({ field: 'login', contains: '@example' }, { login: 'a@example.com' })).toBe(true);
    expect(check({ field: 'mfa_factors.length', gte: 1 }, { mfa_factors: [{}] })).toBe(true);
    expect(check({ field: 'profile.department', eq: 'IT' }, { profile: { department: 'IT' } })).toBe(true);
    expect(check({ any_of: [{ field: 'a', eq: 1 }, { not: { field: 'b', exists: true } }] }, { a: 2 })).toBe(true);
    expect(check({ all_of: [{ field: 'a', eq: 1 }, '$[?(@.b == 2)]'] }, { a: 1, b: 3 })).toBe(false);
  });

  it('read params inside JSONPath filters', () => {
    expect(check('$[?(@.length >= params.min_length)]', { length: 14 }, { min_length: 14 })).toBe(true);
    expect(check('$[?(@.length >= params.min_length)]', { length: 8 }, { min_length: 14 })).toBe(false);
  });
});

describe('errors are never a silent pass', () => {
  it('a missing dataset, or one that is not a list, is an error result', () => {
    const missing = run([rule()], {});
    expect(missing.evidence[0]?.result).toBe('error');
    expect(missing.errors).toEqual([{ rule_id: 'test-rule', dataset: 'okta.users', message: 'dataset "okta.users" was not provided' }]);
    expect(missing.evidence[0]?.payload).toEqual({ _evaluation: { result: 'error', error: 'dataset "okta.users" was not provided' } });
    const notAList = run([rule()], { 'okta.users': { users: [] } });
    expect(notAList.errors[0]?.message).toBe('dataset "okta.users" must be a list of records (got object)');
    expect(run([rule()], { 'okta.users': null }).evidence[0]?.result).toBe('error');
  });

  it('a filter failing on a record is an error pointing at the expression', () => {
    const result = run([rule({ pass_when: [{ none: '$[?(@.profile.department == "IT")]' }] })], { 'okta.users': [user('u1')] });
    expect(result.evidence[0]?.result).toBe('error');
    expect(result.errors).toEqual([
      {
        rule_id: 'test-rule',
        dataset: 'okta.users',
        pointer: '/0/pass_when/0',
        message: "assertion failed on record 0: Cannot read properties of undefined (reading 'department')",
      },
    ]);
    const selectFails = run([rule({ select: '$[?(@.status == "ACTIVE")]' })], { 'okta.users': [null] });
    expect(selectFails.errors[0]?.pointer).toBe('/0/select');
  });

  it('other rules still evaluate when one fails, and titles show unknown counts as "?"', () => {
    const result = run([rule({ id: 'a', title: '{{matched}}/{{count}} {{result}}' }), rule({ id: 'b', dataset: 'jamf.computers', title: '{{matched}}/{{count}} {{result}}' })], {
      'okta.users': [user('u1')],
    });
    expect(result.evidence.map((item) => [item.rule_id, item.result, item.title])).toEqual([
      ['a', 'pass', '1/1 pass'],
      ['b', 'error', '?/? error'],
    ]);
    expect(result.stats).toEqual([
      { rule_id: 'a', selected: 1, matched: 1, excluded: 0 },
      { rule_id: 'b', selected: 0, matched: 0, excluded: 0 },
    ]);
  });

  it('refuses an invalid evaluation instant instead of reading the clock', () => {
    const mapping = compileRules([rule()]);
    expect(() => evaluate(mapping, {}, { now: new Date('nonsense') })).toThrow(TypeError);
    expect(() => evaluate(mapping, {}, { now: undefined as unknown as Date })).toThrow(TypeError);
  });
});

describe('evidence items', () => {
  it('carry the rule identity, a default source, references and a canonical payload hash', () => {
    const item = only(
      [rule({ question_match: undefined, question_id: 'q-42', references: { soc2: ['CC6.1'], cis_aws: '1.5' }, payload: { users: { count: '$' } } })],
      { 'okta.users': [user('u1')] },
    );
    expect(item).toMatchObject({
      rule_id: 'test-rule',
      dataset: 'okta.users',
      control_ref: 'Access Control',
      question_id: 'q-42',
      source: 'Evidence Hub: okta.users',
      result: 'pass',
      references: { soc2: ['CC6.1'], cis_aws: '1.5' },
    });
    expect(item).not.toHaveProperty('question_match');
    expect(item.payload_sha256).toBe(sha256Hex(canonicalJson(item.payload)));
    expect(item.payload_sha256).toMatch(/^[0-9a-f]{64}$/u);
  });

  it('render titles from counts, params and scalar payload entries', () => {
    const item = only(
      [
        rule({
          title: '{{rule_id}} on {{dataset}} ({{control_ref}}): {{matched}}/{{count}} of {{total}}, {{failing}} failing, {{excluded}} excluded, {{ payload.admins }} admins, limit {{params.days}} days, {{result}}',
          select: "$[?(@.status == 'ACTIVE')]",
          params: { days: 90 },
          exclusions: [{ id: 'u3', reason: 'service account' }],
          payload: { admins: { count: '$[?(@.is_admin == true)]' } },
        }),
      ],
      { 'okta.users': [user('u1', { is_admin: true }), user('u2', { mfa_enrolled: false }), user('u3', { mfa_enrolled: false }), user('u4', { status: 'STAGED' })] },
    );
    expect(item.title).toBe('test-rule on okta.users (Access Control): 1/2 of 4, 1 failing, 1 excluded, 1 admins, limit 90 days, fail — not met: pass_when[0] (none)');
  });

  it('templates are text, not code', () => {
    const item = only([rule({ title: '{{count}} {{ count }} ${process.exit()} {{params.x}}', params: { x: '{{result}}' } })], { 'okta.users': [user('u1')] });
    expect(item.title).toBe('1 1 ${process.exit()} {{result}}');
  });
});

describe('payload projections', () => {
  const users = Array.from({ length: 12 }, (_, i) => user(`u${i}`, { is_admin: i < 3, mfa_enrolled: i % 2 === 0 }));

  it('project lists, counts, values and field-limited lists', () => {
    const item = only(
      [
        rule({
          payload: {
            logins: '$[?(@.is_admin == true)].login',
            admins: { count: '$[?(@.is_admin == true)]' },
            first: { value: '$[0].login' },
            nothing: { value: '$[0].no_such_field' },
            sample: { list: '$[?(@.mfa_enrolled == false)]', fields: ['id', 'missing'], limit: 2 },
          },
        }),
      ],
      { 'okta.users': users },
    );
    expect(item.payload.logins).toEqual(['u0@example.com', 'u1@example.com', 'u2@example.com']);
    expect(item.payload.admins).toBe(3);
    expect(item.payload.first).toBe('u0@example.com');
    expect(item.payload.nothing).toBeNull();
    expect(item.payload.sample).toEqual({ items: [{ id: 'u1', missing: null }, { id: 'u3', missing: null }], total: 6, truncated: true });
  });

  it('cap every list at the global limit and say so', () => {
    const item = only([rule({ payload: { logins: '$[*].login', everyone: { list: '$[*]', fields: ['id'], limit: 100 } } })], { 'okta.users': users }, { maxListItems: 5 });
    expect(item.payload.logins).toHaveLength(5);
    expect((item.payload.everyone as { items: unknown[]; total: number; truncated: boolean }).items).toHaveLength(5);
    expect(item.payload.everyone).toMatchObject({ total: 12, truncated: true });
    expect(evaluation(item).truncated).toEqual({ logins: 12 });
    const failing = (evaluation(item).assertions as Array<{ failing: { items: unknown[]; total: number; truncated: boolean } }>)[0]?.failing;
    expect(failing?.items).toHaveLength(5);
    expect(failing).toMatchObject({ total: 6, truncated: true });
  });
});

describe('exclusions', () => {
  const users = [user('u1', { mfa_enrolled: false }), user('u2', { mfa_enrolled: false }), user('u3')];

  it('mute records by id, report them with the reason, and only those', () => {
    const partly = only([rule({ exclusions: [{ id: 'u1', reason: 'break-glass account' }] })], { 'okta.users': users });
    expect(partly.result).toBe('fail');
    expect(evaluation(partly).excluded).toEqual({ items: [{ id: 'u1', reason: 'break-glass account' }], total: 1, truncated: false });
    const fully = only([rule({ label_field: 'login', exclusions: [{ id: 'u1', reason: 'a' }, { id: 'u2', reason: 'b', expires: '2025-06-30' }] })], { 'okta.users': users });
    expect(fully.result).toBe('pass');
    expect(evaluation(fully).excluded).toEqual({
      items: [
        { id: 'u1', label: 'u1@example.com', reason: 'a' },
        { id: 'u2', label: 'u2@example.com', reason: 'b', expires: '2025-06-30' },
      ],
      total: 2,
      truncated: false,
    });
    expect(evaluation(fully).counts).toMatchObject({ selected: 3, excluded: 2, count: 1 });
  });

  it('stop muting when expired: a date is valid through that whole day', () => {
    const exclusions = [{ id: 'u1', reason: 'a', expires: '2025-05-31' }, { id: 'u2', reason: 'b', expires: '2025-06-01T00:00:00Z' }];
    const item = only([rule({ exclusions })], { 'okta.users': users });
    expect(item.result).toBe('fail');
    expect(evaluation(item)).not.toHaveProperty('excluded');
    expect(evaluation(item).expired_exclusions).toEqual({ items: exclusions, total: 2, truncated: false });
    const dayBefore = only([rule({ exclusions })], { 'okta.users': users }, { now: new Date('2025-05-31T23:59:59Z') });
    expect(dayBefore.result).toBe('pass');
  });

  it('match numeric ids by their text, using the configured id field', () => {
    const computers = [{ serial: 'C1', computer_id: 7, ok: false }, { serial: 'C2', computer_id: 8, ok: true }];
    const item = only(
      [rule({ dataset: 'jamf.computers', id_field: 'computer_id', label_field: 'serial', pass_when: [{ all: { field: 'ok', eq: true } }], exclusions: [{ id: '7', reason: 'lab machine' }] })],
      { 'jamf.computers': computers },
    );
    expect(item.result).toBe('pass');
    expect(evaluation(item).excluded).toEqual({ items: [{ id: 7, label: 'C1', reason: 'lab machine' }], total: 1, truncated: false });
  });
});

describe('determinism', () => {
  it('gives byte-identical output for the same input, whatever the key order of the records', () => {
    const rules = [rule({ payload: { users: { list: '$[*]' } }, exclusions: [{ id: 'u2', reason: 'x' }] })];
    const a = run(rules, { 'okta.users': [user('u1'), user('u2', { mfa_enrolled: false })] });
    const b = run(rules, { 'okta.users': [user('u1'), user('u2', { mfa_enrolled: false })] });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const reordered = run(rules, { 'okta.users': [{ ...Object.fromEntries(Object.entries(user('u1')).reverse()) }, user('u2', { mfa_enrolled: false })] });
    expect(reordered.evidence[0]?.payload_sha256).toBe(a.evidence[0]?.payload_sha256);
  });

  it('does not mutate the datasets', () => {
    const data = { 'okta.users': [user('u1'), user('u2', { mfa_enrolled: false })] };
    const before = JSON.stringify(data);
    run([rule({ exclusions: [{ id: 'u1', reason: 'x' }], payload: { all: '$[*]' } })], data);
    expect(JSON.stringify(data)).toBe(before);
  });

  it('shares a selection between rules without mixing their results', () => {
    const select = "$[?(@.status == 'ACTIVE')]";
    const result = run(
      [
        rule({ id: 'a', select, exclusions: [{ id: 'u2', reason: 'x' }] }),
        rule({ id: 'b', select }),
        rule({ id: 'c', select, where: { field: 'is_admin', eq: true } }),
      ],
      { 'okta.users': [user('u1', { is_admin: true }), user('u2', { mfa_enrolled: false })] },
    );
    expect(result.evidence.map((item) => item.result)).toEqual(['pass', 'fail', 'pass']);
    expect(result.stats.map((stat) => [stat.selected, stat.excluded])).toEqual([
      [2, 1],
      [2, 0],
      [1, 0],
    ]);
  });
});

describe('evaluateFromStream', () => {
  async function* records(items: unknown[], failAfter?: number) {
    for (const [index, item] of items.entries()) {
      if (index === failAfter) throw new Error('unexpected end of gzip stream');
      yield item;
    }
  }

  it('reads async iterables like arrays', async () => {
    const mapping = compileRules([rule()]);
    const users = [user('u1'), user('u2', { mfa_enrolled: false })];
    const streamed = await evaluateFromStream(mapping, { 'okta.users': records(users) }, { now: NOW });
    expect(JSON.stringify(streamed)).toBe(JSON.stringify(evaluate(mapping, { 'okta.users': users }, { now: NOW })));
  });

  it('turns a stream that fails part-way, or an unreadable snapshot, into an error result', async () => {
    const mapping = compileRules([rule()]);
    const broken = await evaluateFromStream(mapping, { 'okta.users': records([user('u1'), user('u2')], 1) }, { now: NOW });
    expect(broken.evidence[0]?.result).toBe('error');
    expect(broken.errors[0]?.message).toBe('dataset "okta.users" could not be read: unexpected end of gzip stream');
    const unreadable = evaluate(mapping, { 'okta.users': new UnreadableDataset('blob sha256:ab… is missing') }, { now: NOW });
    expect(unreadable.errors[0]?.message).toBe('dataset "okta.users" could not be read: blob sha256:ab… is missing');
  });
});
