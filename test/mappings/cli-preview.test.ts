import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/index.js';
import type { CliIo } from '../../cli/io.js';
import { newId } from '../../lib/ids.js';
import { SnapshotStore } from '../../store/snapshots.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

const directory = mkdtempSync(path.join(tmpdir(), 'evidence-hub-cli-preview-'));
const file = (name: string, text: string) => { const full = path.join(directory, name); writeFileSync(full, text); return full; };

const RULES = `# kept in git beside the pipeline
rules:
  - id: mfa
    dataset: okta.users
    control_ref: CC6.1
    question_match: MFA
    title: "MFA for {{matched}} of {{count}} users"
    select: "$[?(@.status == 'ACTIVE')]"
    label_field: login
    pass_when:
      - description: every active user has MFA
        all: { field: mfa_enrolled, eq: true }
`;
const users = [
  { id: 'u1', login: 'ada@example.com', status: 'ACTIVE', mfa_enrolled: true },
  { id: 'u2', login: 'bob@example.com', status: 'ACTIVE', mfa_enrolled: false },
  { id: 'u3', login: 'cy@example.com', status: 'SUSPENDED', mfa_enrolled: false },
];

async function cli(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (line) => out.push(line), err: (line) => err.push(line) };
  return { code: await main(args, io, env), out, err };
}

describe('evidence-hub mappings preview: the studio’s per-rule results in a terminal', () => {
  let t: TestHub;
  beforeAll(async () => { t = await startTestHub(); });
  afterAll(async () => { await t?.stop(); rmSync(directory, { recursive: true, force: true }); });

  it('evaluates a rules file on a data file offline, naming the failing records', async () => {
    const rules = file('rules.yaml', RULES);
    const data = file('data.json', JSON.stringify({ 'okta.users': users }));
    const { code, out } = await cli(['mappings', 'preview', rules, '--data', data]);
    expect(code).toBe(0);
    expect(out).toEqual(['FAIL  mfa: MFA for 1 of 2 users — not met: every active user has MFA', '      2 selected, 1 matched, 0 excluded, 1 failing', '      - bob@example.com (every active user has MFA)']);
  });

  it('exits 1 with file:line:column for rules that do not read, and for a rule that errors', async () => {
    const broken = file('broken.yaml', RULES.replace("select: \"$[?(@.status == 'ACTIVE')]\"", 'select: 7'));
    const bad = await cli(['mappings', 'preview', broken, '--data', file('d.json', '{}')]);
    expect(bad.code).toBe(1);
    expect(bad.out[0]).toMatch(/^.*broken\.yaml:8:13: \/rules\/0\/select: /);
    const empty = await cli(['mappings', 'preview', file('r2.yaml', RULES.replace('    label_field: login\n', '    label_field: login\n    when_empty: error\n')), '--data', file('none.json', '{"okta.users": []}')]);
    expect(empty.code).toBe(1);
    expect(empty.out[0]).toMatch(/^ERROR mfa:/);
    expect((await cli(['mappings', 'preview', broken])).code).toBe(2);
  });

  it('previews on a snapshot the hub holds, through its API, with the key from EVIDENCE_HUB_API_KEY', async () => {
    const ref = await t.hub.blobs.put(users.map((u) => JSON.stringify(u)).join('\n') + '\n');
    const snapshotId = newId('snap');
    await new SnapshotStore(t.hub.db).record({
      id: snapshotId, workspace_id: 'default', connection_id: 'conn_x', dataset: 'okta.users', sha256: ref.sha256, bytes: ref.bytes,
      record_count: users.length, collected_at: new Date(), metadata: { format: 'ndjson' }, collection_key: `${snapshotId}:okta.users`,
    });
    const rules = file('online.yaml', RULES);
    const online = await cli(['mappings', 'preview', rules, '--url', t.url, '--snapshot', snapshotId], { EVIDENCE_HUB_API_KEY: t.adminKey });
    expect(online.err).toEqual([]);
    expect(online.code).toBe(0);
    const offline = await cli(['mappings', 'preview', rules, '--data', file('same.json', JSON.stringify({ 'okta.users': users }))]);
    expect(online.out).toEqual(offline.out);
    const noKey = await cli(['mappings', 'preview', rules, '--url', t.url, '--snapshot', snapshotId]);
    expect(noKey.code).toBe(1);
    expect(noKey.err[0]).toMatch(/EVIDENCE_HUB_API_KEY/);
    const wrongKey = await cli(['mappings', 'preview', rules, '--url', t.url, '--snapshot', snapshotId], { EVIDENCE_HUB_API_KEY: 'ehk_wrong' });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.err[0]).toMatch(/answered 401/);
  });
});
