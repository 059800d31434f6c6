import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.js';

const yamlRules = (minimum: number) => `# Who may sign in without MFA: nobody.
rules:
  - id: mfa
    dataset: push.users
    control_ref: CC6.1
    question_match: MFA
    title: "MFA for {{matched}} of {{count}} users"
    select: "$[?(@.active == true)]"
    pass_when:
      - count: { op: gte, value: ${minimum} } # at least this many users
`;

describe('a mapping version keeps its rules as written, with a message; faults point at their place in the text', () => {
  let t: TestHub;
  beforeAll(async () => { t = await startTestHub(); });
  afterAll(async () => { await t?.stop(); });

  it('publishes YAML with its comments, lists versions with author and message, restores the text', async () => {
    const text = yamlRules(1);
    const probe = await t.call('POST', '/api/v1/mappings/preview', { json: { source: { text, format: 'yaml' }, data: { 'push.users': [{ active: true, mfa: true }] } } });
    if (probe.status !== 200) throw new Error(`the sample rules do not compile: ${probe.text}`);
    const created = await t.call('POST', '/api/v1/mappings', { json: { name: 'mfa', source: { text, format: 'yaml' }, message: 'first cut' } });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ version: 1, source: text, source_format: 'yaml', message: 'first cut' });
    expect(created.body.rules[0].pass_when[0].count).toEqual({ op: 'gte', value: 1 });

    const me = await t.call('GET', '/api/v1/me');
    const second = await t.call('PUT', `/api/v1/mappings/${created.body.id}`, { json: { source: { text: yamlRules(2), format: 'yaml' }, message: 'allow 10 %' } });
    expect(second.status, second.text).toBe(200);
    expect(second.body).toMatchObject({ version: 2, message: 'allow 10 %', created_by: me.body.key_id });

    const job = await t.call('POST', '/api/v1/connections', { json: { name: 'p', type: 'push', config: { datasets: [{ name: 'users' }] } } });
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'A', type: 'audigyd', config: { base_url: 'http://127.0.0.1:9' }, secrets: { api_key: 'x' } } });
    const pinned = await t.call('POST', '/api/v1/jobs', {
      json: { name: 'pinned to v1', connection_id: job.body.id, datasets: ['push.users'], mapping_id: created.body.id, mapping_version: 1, destination_id: destination.body.id, target: { assessment_id: 'a' } },
    });
    expect(pinned.status, pinned.text).toBe(201);

    const restored = await t.call('POST', `/api/v1/mappings/${created.body.id}/versions/1/restore`);
    expect(restored.status).toBe(201);
    expect(restored.body).toMatchObject({ version: 3, restored_from: 1, source: text, message: 'Restored version 1' });
    expect(restored.body.source).toContain('# Who may sign in without MFA');

    const versions = await t.call('GET', `/api/v1/mappings/${created.body.id}/versions`);
    expect(versions.body.data.map((v: { version: number; message: string }) => [v.version, v.message])).toEqual([[3, 'Restored version 1'], [2, 'allow 10 %'], [1, 'first cut']]);
    expect(versions.body.data.find((v: { version: number }) => v.version === 1).pinned_jobs).toEqual([{ id: pinned.body.id, name: 'pinned to v1' }]);
    expect(versions.body.data.every((v: { created_by: string }) => v.created_by === me.body.key_id)).toBe(true);
  });

  it('an edit of a set started from a pack keeps naming the pack', async () => {
    const created = await t.call('POST', '/api/v1/mappings', { json: { name: 'okta', pack: 'okta' } });
    const edited = await t.call('PUT', `/api/v1/mappings/${created.body.id}`, { json: { rules: created.body.rules.slice(1), message: 'without the first rule' } });
    expect(edited.body).toMatchObject({ version: 2, pack: 'okta' });
  });

  it('answers a fault in the text with its document pointer, line and column; nothing is published', async () => {
    const broken = yamlRules(1).replace('select: "$[?(@.active == true)]"', 'select: "$[?(@.active == "');
    const res = await t.call('POST', '/api/v1/mappings', { json: { name: 'broken', source: { text: broken, format: 'yaml' } } });
    expect(res.status).toBe(400);
    const byPointer = Object.fromEntries(res.body.errors.map((e: { document_pointer: string }) => [e.document_pointer, e]));
    expect(byPointer['/rules/0/select']).toMatchObject({ pointer: '/source/text', line: 8, column: 13 });
    const syntax = await t.call('POST', '/api/v1/mappings/preview', { json: { source: { text: 'rules:\n  - id: [\n', format: 'yaml' }, data: {} } });
    expect(syntax.status).toBe(400);
    expect(syntax.body.errors[0]).toMatchObject({ pointer: '/source/text', line: 3, column: 1 });
    expect(syntax.body.errors[0].message).toMatch(/^syntax error/);
    const list = await t.call('GET', '/api/v1/mappings');
    expect(list.body.data.map((m: { name: string }) => m.name)).not.toContain('broken');
  });
});
