import { describe, expect, it } from 'vitest';
import { compileRules, evaluate, UnreadableDataset } from '../../mappings/engine.js';
import type { Rule } from '../../mappings/types.js';
import { schemaErrors } from '../../mappings/validation.js';
import { NOW, rule, user } from './helpers.js';

const one = (r: Rule, data: Record<string, unknown>) => evaluate(compileRules([r]), data, { now: NOW }).evidence[0]!;
const admins = (overrides: Partial<Rule> = {}) => rule({ select: '$[?(@.is_admin == true)]', ...overrides });

describe('when_empty: what an empty selection means', () => {
  it('gives the stated result when select matches no record, with the reason in the payload', () => {
    const nobody = { 'okta.users': [user('u1', { is_admin: false })] };
    for (const outcome of ['pass', 'fail', 'info'] as const) {
      const item = one(admins({ when_empty: outcome }), nobody);
      expect(item.result, outcome).toBe(outcome);
      expect((item.payload._evaluation as { empty_selection: string }).empty_selection).toBe(`no record was selected; when_empty: ${outcome}`);
    }
    const { evidence, errors } = evaluate(compileRules([admins({ when_empty: 'error' })]), nobody, { now: NOW });
    expect(evidence[0]!.result).toBe('error');
    expect(errors).toEqual([expect.objectContaining({ rule_id: 'test-rule', pointer: '/0/select', message: expect.stringContaining('when_empty: error') })]);
  });

  it('is about select alone: records a where filters out leave the assertions to decide', () => {
    const filtered = one(admins({ when_empty: 'error', where: { field: 'mfa_enrolled', eq: false } }), { 'okta.users': [user('u1', { is_admin: true })] });
    expect(filtered.result).toBe('pass');
  });

  it('changes nothing when the selection is not empty, or when the rule does not set it', () => {
    const someone = { 'okta.users': [user('u1', { is_admin: true, mfa_enrolled: false })] };
    expect(one(admins({ when_empty: 'pass' }), someone).result).toBe('fail');
    expect(one(admins(), { 'okta.users': [user('u1', { is_admin: false })] }).result).toBe('pass');
  });

  it('never turns a missing or unreadable dataset into anything but an error', () => {
    expect(one(admins({ when_empty: 'pass' }), {}).result).toBe('error');
    expect(one(admins({ when_empty: 'pass' }), { 'okta.users': new UnreadableDataset('gone') }).result).toBe('error');
  });

  it('is validated like every other field', () => {
    expect(schemaErrors({ rules: [{ ...admins(), when_empty: 'maybe' }] }).map((e) => e.pointer)).toContain('/rules/0/when_empty');
    expect(schemaErrors({ rules: [{ ...admins(), when_empty: 'pass' }] })).toEqual([]);
  });
});

describe('a failing result says which assertion failed', () => {
  it('lists the assertions not met in the payload and at the end of the title', () => {
    const item = one(admins({
      title: 'Admins: {{result}}',
      pass_when: [{ description: 'every admin has MFA', none: '$[?(@.mfa_enrolled == false)]' }, { description: 'there is an admin', count: { op: 'gte', value: 1 } }],
    }), { 'okta.users': [user('u1', { is_admin: true, mfa_enrolled: false })] });
    expect(item.result).toBe('fail');
    expect((item.payload._evaluation as { not_met: string[] }).not_met).toEqual(['every admin has MFA']);
    expect(item.title).toBe('Admins: fail — not met: every admin has MFA');
    const passing = one(admins({ title: 'Admins: {{result}}' }), { 'okta.users': [user('u1', { is_admin: true })] });
    expect(passing.title).toBe('Admins: pass');
    expect(passing.payload._evaluation).not.toHaveProperty('not_met');
  });
});
