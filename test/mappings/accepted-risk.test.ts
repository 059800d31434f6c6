import { describe, expect, it } from 'vitest';
import { compileRules, evaluate } from '../../mappings/engine.js';
import { underAcceptedRisk, withAcceptedRecords, type AcceptedRisk } from '../../mappings/accepted-risk.js';
import { NOW, rule, user } from './helpers.js';

const risk = (overrides: Partial<AcceptedRisk> = {}): AcceptedRisk => ({ id: 'exc_1', record_ids: null, reason: 'accepted', owner: 'ciso', expires_at: new Date('2025-07-01T00:00:00Z'), ...overrides });
const evaluateWith = (risks: AcceptedRisk[], data: Record<string, unknown>) => {
  const byRule = new Map([['test-rule', risks]]);
  const [item] = evaluate(compileRules(withAcceptedRecords([rule()], byRule)), data, { now: NOW }).evidence;
  return underAcceptedRisk(item!, byRule.get('test-rule'));
};

describe('exceptions applied to an evaluation', () => {
  const data = { 'okta.users': [user('u1', { mfa_enrolled: false }), user('u2', { mfa_enrolled: false }), user('u3')] };

  it('mute the records they name, and only those', () => {
    expect(evaluateWith([risk({ record_ids: ['u1'] })], data).result).toBe('fail');
    const both = evaluateWith([risk({ record_ids: ['u1', 'u2'] })], data);
    expect(both.result).toBe('pass');
    expect((both.payload._evaluation as { excluded: { items: { id: string }[] } }).excluded.items.map((e) => e.id)).toEqual(['u1', 'u2']);
  });

  it('accept a whole failing check as a pass that says so, and keep the hash honest', () => {
    const item = evaluateWith([risk()], data);
    expect(item).toMatchObject({ result: 'pass', payload: { _evaluation: { result: 'pass', accepted_result: 'fail' } } });
    expect(item.payload_sha256).not.toBe(evaluate(compileRules([rule()]), data, { now: NOW }).evidence[0]!.payload_sha256);
  });

  it('never turn an error into a pass', () => {
    const item = evaluateWith([risk()], {});
    expect(item.result).toBe('error');
    expect((item.payload._evaluation as { exceptions: unknown[] }).exceptions).toHaveLength(1);
  });
});
