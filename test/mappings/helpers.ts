import type { Rule } from '../../mappings/types.js';

export const NOW = new Date('2025-06-01T00:00:00Z');

/** A minimal valid rule over okta.users, to be varied by each test. */
export function rule(overrides: Partial<Rule> = {}): Rule {
  return {
    id: 'test-rule',
    dataset: 'okta.users',
    control_ref: 'Access Control',
    question_match: 'MFA',
    title: 'Test rule',
    pass_when: [{ none: '$[?(@.mfa_enrolled == false)]' }],
    ...overrides,
  };
}

export function user(id: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, login: `${id}@example.com`, status: 'ACTIVE', mfa_enrolled: true, is_admin: false, last_login: '2025-05-30T00:00:00Z', ...fields };
}
