import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/index.js';
import type { CliIo } from '../../cli/io.js';

const ROOT = path.join(import.meta.dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'evidence-hub.mjs');
const run = promisify(execFile);

async function spawnCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

async function inProcess(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (line) => out.push(line), err: (line) => err.push(line) };
  return { code: await main(args, io), out, err };
}

const directory = mkdtempSync(path.join(tmpdir(), 'evidence-hub-cli-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const full = path.join(directory, name);
  writeFileSync(full, text);
  return full;
}

const RULES = `
rules:
  - id: admin-mfa
    dataset: okta.users
    control_ref: Access Control
    question_match: MFA admin
    title: "Admins with MFA: {{matched}}/{{count}}"
    select: "$[?(@.is_admin == true)]"
    pass_when:
      - none: "$[?(@.mfa_enrolled == false)]"
`;

describe('evidence-hub mappings validate', () => {
  it('exits 0 and says ok for valid files (the built-in packs)', async () => {
    const result = await spawnCli('mappings', 'validate', 'mappings/packs/okta.yaml', 'mappings/packs/aws.yaml');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.trim().split('\n')).toEqual(['mappings/packs/okta.yaml: ok (6 rules)', 'mappings/packs/aws.yaml: ok (7 rules)']);
  });

  it('exits 1 and prints file: pointer: message for every problem', async () => {
    const bad = file('bad.yaml', RULES.replace('none: "$[?(@.mfa_enrolled == false)]"', 'count: { op: equals, value: 0 }').replace('select: "$[?(@.is_admin == true)]"', 'select: "$[?(@.is_admin ==)]"'));
    const good = file('good.json', JSON.stringify([{ id: 'x', dataset: 'a.b', control_ref: 'c', question_id: 'q', title: 't', mode: 'info' }]));
    const result = await spawnCli('mappings', 'validate', bad, good, path.join(directory, 'missing.yaml'));
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toContain(`${bad}: /rules/0/pass_when/0/count/op: must be one of: eq, ne, gt, gte, lt, lte`);
    expect(lines).toContain(`${good}: ok (1 rule)`);
    expect(lines.some((line) => line.startsWith(`${path.join(directory, 'missing.yaml')}: (document): cannot read the file`))).toBe(true);
    // The select error shows once the schema errors are fixed: compile errors come after schema errors per rule.
    const onlySelect = file('select.yaml', RULES.replace('select: "$[?(@.is_admin == true)]"', 'select: "$[?(@.is_admin ==)]"'));
    expect((await inProcess('mappings', 'validate', onlySelect)).out).toEqual([
      `${onlySelect}: /rules/0/select: filter "@.is_admin ==" does not parse: Expected expression after ==`,
    ]);
  });

  it('exits 2 on usage errors', async () => {
    expect((await inProcess('mappings', 'validate')).code).toBe(2);
    expect((await inProcess('mappings', 'frobnicate')).code).toBe(2);
    expect((await inProcess('--bogus')).code).toBe(2);
    expect((await inProcess('--help')).code).toBe(0);
  });
});

describe('evidence-hub mappings test', () => {
  const rules = file('rules.yaml', RULES);
  const users = (mfa: boolean) => [{ id: 'u1', is_admin: true, mfa_enrolled: mfa }];

  it('prints a PASS line per expectation and exits 0 when all hold', async () => {
    const fixtures = path.join(directory, 'fixtures-ok');
    mkdirSync(fixtures);
    writeFileSync(path.join(fixtures, 'a.yaml'), `now: 2025-06-01T00:00:00Z\ndata: { okta.users: ${JSON.stringify(users(true))} }\nexpect: { admin-mfa: pass }\n`);
    writeFileSync(path.join(fixtures, 'b.json'), JSON.stringify({ data: { 'okta.users': users(false) }, expect: { 'admin-mfa': 'fail' } }));
    const result = await spawnCli('mappings', 'test', rules, '--fixtures', fixtures);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([
      `PASS ${path.join(fixtures, 'a.yaml')} admin-mfa: pass`,
      `PASS ${path.join(fixtures, 'b.json')} admin-mfa: fail`,
      '2 expectations, 0 failed',
    ]);
  });

  it('exits 1 on a mismatch, an unknown rule or an invalid fixture, and says why', async () => {
    const mismatch = file('mismatch.yaml', `data: { okta.users: ${JSON.stringify(users(false))} }\nexpect: { admin-mfa: pass, no-such-rule: pass }\n`);
    const result = await spawnCli('mappings', 'test', rules, '--fixtures', mismatch);
    expect(result.code).toBe(1);
    expect(result.stdout.trim().split('\n')).toEqual([
      `FAIL ${mismatch} admin-mfa: expected pass, got fail (not met: none)`,
      `FAIL ${mismatch} no-such-rule: no enabled rule with this id in ${rules}`,
      '2 expectations, 2 failed',
    ]);
    const missingData = file('missing-data.yaml', 'data: {}\nexpect: { admin-mfa: pass }\n');
    expect((await inProcess('mappings', 'test', rules, '--fixtures', missingData)).out[0]).toBe(
      `FAIL ${missingData} admin-mfa: expected pass, got error (dataset "okta.users" was not provided)`,
    );
    const invalid = file('invalid.yaml', 'data: []\nexpect: { admin-mfa: maybe }\n');
    expect((await inProcess('mappings', 'test', rules, '--fixtures', invalid)).out[0]).toBe(`FAIL ${invalid}: invalid fixture: /data must be an object: dataset name → list of records`);
  });

  it('runs the pack fixtures against the built-in packs', async () => {
    const packs = readdirSync(`${ROOT}/test/fixtures/mappings`, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    expect(packs.length).toBeGreaterThanOrEqual(6);
    for (const pack of packs) {
      const result = await inProcess('mappings', 'test', `${ROOT}/mappings/packs/${pack}.yaml`, '--fixtures', `${ROOT}/test/fixtures/mappings/${pack}`);
      expect(result.code, result.out.join('\n')).toBe(0);
    }
  });

  it('exits 1 when the rules file is invalid and 2 when --fixtures is missing', async () => {
    const invalidRules = file('invalid-rules.yaml', 'rules: [{ id: x }]');
    const result = await inProcess('mappings', 'test', invalidRules, '--fixtures', directory);
    expect(result.code).toBe(1);
    expect(result.out).toContain(`${invalidRules}: /rules/0/dataset: is required`);
    expect((await inProcess('mappings', 'test', rules)).code).toBe(2);
  });
});
