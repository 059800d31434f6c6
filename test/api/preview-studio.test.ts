import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.js';

const users = Array.from({ length: 1500 }, (_, i) => ({ id: `u${i}`, login: `user${i}@example.com`, active: i < 1200, mfa: i % 3 !== 0 }));
const rule = (select: string) => ({
  id: 'mfa', dataset: 'push.users', control_ref: 'CC6.1', question_match: 'MFA', title: 'MFA for {{matched}} of {{count}}', select,
  id_field: 'id', label_field: 'login', pass_when: [{ description: 'every user has MFA', all: { field: 'mfa', eq: true } }],
  payload: { without_mfa: { list: '$[?(@.mfa != true)]', fields: ['id'], limit: 50 } },
});

/** What the mapping studio asks of a preview beyond the items: every failing record, and what an edit changes. */
describe('previews for an editor: all of a rule’s failing records in pages, and a comparison with the published version', () => {
  let t: TestHub;
  let mappingId: string;
  beforeAll(async () => {
    t = await startTestHub();
    const created = await t.call('POST', '/api/v1/mappings', { json: { name: 'mfa', rules: [rule("$[?(@.active == true)]")] } });
    expect(created.status, created.text).toBe(201);
    mappingId = created.body.id;
  });
  afterAll(async () => { await t?.stop(); });

  it('pages through every failing record with its label, past the payload’s cap', async () => {
    const everyone = rule('$[*]');
    const preview = await t.call('POST', '/api/v1/mappings/preview', { json: { rules: [everyone], data: { 'push.users': users } } });
    expect(preview.body.evidence[0].payload.without_mfa.items).toHaveLength(50);
    const failing = users.filter((u) => !u.mfa);
    const page = await t.call('POST', '/api/v1/mappings/preview/failing-records', { json: { rules: [everyone], data: { 'push.users': users }, rule_id: 'mfa', offset: 450, limit: 100 } });
    expect(page.status, page.text).toBe(200);
    expect(page.body).toMatchObject({ rule_id: 'mfa', result: 'fail', total: failing.length, offset: 450 });
    expect(page.body.records).toEqual(failing.slice(450).map((u) => ({ id: u.id, label: u.login, fails: ['every user has MFA'] })));
    const unknown = await t.call('POST', '/api/v1/mappings/preview/failing-records', { json: { rules: [everyone], data: { 'push.users': users }, rule_id: 'nope' } });
    expect(unknown.status).toBe(200);
    expect(unknown.body).toMatchObject({ rule_id: 'nope', result: null, total: 0, records: [] });
  });

  it('compares edited rules with the published version on the same data: the records that flip', async () => {
    const res = await t.call('POST', '/api/v1/mappings/preview', { json: { rules: [rule('$[*]')], data: { 'push.users': users }, compare_with: { mapping_id: mappingId } } });
    expect(res.status, res.text).toBe(200);
    const [comparison] = res.body.comparison;
    const newlyFailing = users.filter((u) => !u.active && !u.mfa).map((u) => u.id);
    expect(comparison).toMatchObject({ rule_id: 'mfa', before: 'fail', after: 'fail', changed: true, now_passing: [] });
    expect(comparison.now_failing).toEqual(newlyFailing);
    // Without compare_with there is no comparison; a missing version is a 400 naming the field.
    const plain = await t.call('POST', '/api/v1/mappings/preview', { json: { rules: [rule('$[*]')], data: { 'push.users': users } } });
    expect(plain.body.comparison).toBeUndefined();
    const bad = await t.call('POST', '/api/v1/mappings/preview', { json: { rules: [rule('$[*]')], data: { 'push.users': users }, compare_with: { mapping_id: mappingId, version: 9 } } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].pointer).toBe('/compare_with/version');
  });
});
