import { describe, expect, it } from 'vitest';
import { bounded } from '../../api/mcp/bounds.js';
import { failingRecordsOf } from '../../api/mcp/tools/posture.js';
import { redactedConfig } from '../../api/mcp/tools/operations.js';

describe('what MCP tools hand a model is bounded', () => {
  it('cuts long lists and texts, says how many there were, and leaves small values whole', () => {
    const payload = { admins: { items: Array.from({ length: 500 }, (_, i) => ({ id: i })), total: 500 }, note: 'x'.repeat(5000), count: 3 };
    const { value, truncated } = bounded(payload) as { value: { admins: { items: unknown[]; total: number }; note: string; count: number }; truncated: boolean };
    expect(truncated).toBe(true);
    expect(value.admins.items).toHaveLength(51);
    expect(value.admins.items[50]).toBe('… 450 more (500 in all)');
    expect(value.admins.total).toBe(500);
    expect(value.note).toMatch(/… \(5000 characters\)$/);
    expect(bounded({ a: [1, 2], b: 'short' })).toEqual({ value: { a: [1, 2], b: 'short' }, truncated: false });
  });

  it('lists at most the asked number of failing records across assertions, with their total', () => {
    const evidence = {
      payload: {
        _evaluation: {
          assertions: [
            { kind: 'all', description: 'every user has MFA', failing: { items: Array.from({ length: 40 }, (_, i) => ({ id: `u${i}`, label: `user${i}@example.com` })), total: 120, truncated: true } },
            { kind: 'none', description: 'no stale user', failing: { items: Array.from({ length: 30 }, (_, i) => ({ id: `s${i}` })), total: 30, truncated: false } },
          ],
        },
      },
    };
    const records = failingRecordsOf(evidence, 50);
    expect(records.total).toBe(150);
    expect(records.items).toHaveLength(50);
    expect(records.items[0]).toEqual({ id: 'u0', label: 'user0@example.com', assertion: 'every user has MFA' });
    expect(records.items[49]).toEqual({ id: 's9', label: null, assertion: 'no stale user' });
    expect(records.truncated).toBe(true);
    expect(failingRecordsOf(null, 50)).toEqual({ total: 0, items: [], truncated: false });
  });

  it('shows a connection’s URLs by origin only: a path or query may hold a token', () => {
    expect(redactedConfig({ base_url: 'https://acme.okta.com/api?token=s3cr3t', auth_method: 'api_token', regions: ['eu-west-1'], nested: { a: 1 } }))
      .toEqual({ base_url: 'https://acme.okta.com', auth_method: 'api_token', regions: ['eu-west-1'], nested: '(structured; see the console)' });
  });
});
