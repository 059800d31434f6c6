import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FormatsPlugin } from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { builtInConnectors } from '../../connectors/index.js';
import { compileRules, evaluate, type EvidenceItem, type EvidenceResult } from '../../mappings/engine.js';
import { getPack, listPacks, mergeWithPack } from '../../mappings/packs.js';

const addFormats = createRequire(import.meta.url)('ajv-formats') as FormatsPlugin;
const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'mappings');
const PACKS = path.join(import.meta.dirname, '..', '..', 'mappings', 'packs');
// A pack is one YAML file plus a folder of fixtures: both are found, never listed here.
const packFiles = readdirSync(PACKS).filter((file) => file.endsWith('.yaml')).map((file) => file.slice(0, -'.yaml'.length)).sort();
const fixtureFolders = readdirSync(FIXTURES, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
// The record shapes every connector documents for its datasets.
const recordSchemas: Record<string, { record_schema: object }> = Object.assign({}, ...builtInConnectors().listSources().map((source) => source.datasets));

interface Fixture {
  file: string;
  now: string;
  data: Record<string, unknown[]>;
  expect: Record<string, EvidenceResult>;
}

function fixturesOf(packId: string): Fixture[] {
  const directory = path.join(FIXTURES, packId);
  return readdirSync(directory)
    .filter((file) => file.endsWith('.yaml'))
    .map((file) => ({ file: `${packId}/${file}`, ...(parseYaml(readFileSync(path.join(directory, file), 'utf8')) as Omit<Fixture, 'file'>) }));
}

const evaluationOf = (item: EvidenceItem) => item.payload._evaluation as { assertions: Array<{ kind: string; passed: boolean }> };

describe('built-in packs', () => {
  const packs = listPacks();

  it('are listed with id, name, description and compiled rules', () => {
    expect(packFiles.length).toBeGreaterThanOrEqual(6);
    expect(packs.map((pack) => pack.id).sort()).toEqual(packFiles);
    expect(fixtureFolders, 'every pack has a folder of fixtures, and every such folder a pack').toEqual(packFiles);
    for (const pack of packs) {
      expect(pack.name).not.toBe('');
      expect(pack.description.length).toBeGreaterThan(20);
      expect(() => compileRules(pack.rules)).not.toThrow();
    }
    expect(getPack('okta')?.rules.map((rule) => rule.id)).toContain('okta-admin-mfa');
    expect(getPack('nope')).toBeUndefined();
  });

  it('cite SOC 2 on every rule and the CIS benchmark id on every AWS rule', () => {
    for (const rule of packs.flatMap((pack) => pack.rules)) {
      expect(rule.references?.soc2, rule.id).toEqual(expect.arrayContaining([expect.stringMatching(/^CC\d\.\d$/u)]));
    }
    const cis = Object.fromEntries((getPack('aws')?.rules ?? []).map((rule) => [rule.id, rule.references?.cis_aws]));
    expect(cis).toEqual({
      'aws-root-mfa': '1.5',
      'aws-password-min-length': '1.8',
      'aws-password-reuse': '1.9',
      'aws-access-keys-rotated': '1.14',
      'aws-cloudtrail-multi-region': '3.1',
      'aws-cloudtrail-log-validation': '3.2',
      'aws-s3-account-public-access-block': '2.1.4',
    });
  });

  it('say on every rule what an empty selection means', () => {
    for (const rule of packs.flatMap((pack) => pack.rules)) expect(rule.when_empty, rule.id).toMatch(/^(pass|fail|info|error)$/u);
  });

  it('never give a question hint that another rule of the pack with the same control_ref also matches', () => {
    // AUDIGYD matches a hint to a question when every word of the hint is in it: a hint whose
    // words are all in another's matches that rule's question too, and both items end ambiguous.
    const words = (hint: string) => new Set(hint.toLowerCase().split(/\s+/u).filter(Boolean));
    const contained = (a: Set<string>, b: Set<string>) => [...a].every((w) => b.has(w));
    for (const pack of packs) {
      const hinted = pack.rules.filter((rule) => rule.question_match);
      for (const a of hinted) {
        for (const b of hinted) {
          if (a === b || a.control_ref !== b.control_ref) continue;
          expect(contained(words(a.question_match!), words(b.question_match!)), `${pack.id}: "${a.question_match}" (${a.id}) is contained in "${b.question_match}" (${b.id})`).toBe(false);
        }
      }
    }
  });

  it('are read-only', () => {
    const pack = getPack('okta');
    expect(() => {
      (pack?.rules[0] as { title: string }).title = 'changed';
    }).toThrow(TypeError);
  });

  for (const pack of packs) {
    describe(`${pack.id} fixtures`, () => {
      const fixtures = fixturesOf(pack.id);

      it('use the normalised record shapes of the connectors', () => {
        const ajv = new Ajv2020({ allErrors: true, strict: false });
        addFormats(ajv);
        for (const fixture of fixtures) {
          for (const [dataset, records] of Object.entries(fixture.data)) {
            const validate = ajv.compile(recordSchemas[dataset]?.record_schema ?? { not: {} });
            for (const [index, record] of records.entries()) {
              expect(validate(record) ? [] : validate.errors, `${fixture.file} ${dataset}[${index}]`).toEqual([]);
            }
          }
        }
      });

      it('give every rule a fixture where it passes and one where it fails', () => {
        for (const rule of pack.rules) {
          const expected = new Set(fixtures.map((fixture) => fixture.expect[rule.id]));
          if (rule.mode === 'info') expect(expected, rule.id).toContain('info');
          else expect([...expected].sort(), rule.id).toEqual(['fail', 'pass']);
        }
      });

      it.each(fixtures.map((fixture) => [fixture.file, fixture] as const))('%s gives the expected results', (_file, fixture) => {
        const { evidence, errors } = evaluate(compileRules(pack.rules), fixture.data, { now: new Date(fixture.now) });
        const results = Object.fromEntries(evidence.filter((item) => item.rule_id in fixture.expect).map((item) => [item.rule_id, item.result]));
        expect(results).toEqual(fixture.expect);
        expect(errors.filter((error) => error.rule_id in fixture.expect)).toEqual([]);
        // A failure must come from the substance of the check, not from a data-presence guard.
        for (const item of evidence.filter((candidate) => candidate.result === 'fail')) {
          const failed = evaluationOf(item).assertions.filter((assertion) => !assertion.passed);
          expect(failed.some((assertion) => assertion.kind !== 'count'), item.rule_id).toBe(true);
        }
      });
    });
  }
});

describe('mergeWithPack', () => {
  const okta = getPack('okta')?.rules ?? [];
  const jamf = getPack('jamf')?.rules ?? [];

  it('overrides a param and keeps the others, without touching the pack', () => {
    const merged = mergeWithPack(jamf, [{ id: 'jamf-os-version', params: { min_os_version: '15.0' } }]);
    expect(merged.find((rule) => rule.id === 'jamf-os-version')?.params).toEqual({ min_os_version: '15.0' });
    expect(jamf.find((rule) => rule.id === 'jamf-os-version')?.params).toEqual({ min_os_version: '14.0' });
    const fixture = fixturesOf('jamf').find((candidate) => candidate.file.endsWith('compliant.yaml') && !candidate.file.includes('non'));
    const result = evaluate(compileRules(merged), fixture?.data ?? {}, { now: new Date(fixture?.now ?? 0) });
    expect(result.evidence.find((item) => item.rule_id === 'jamf-os-version')?.result).toBe('fail');
    const withTwoParams = mergeWithPack([{ ...jamf[0], params: { a: 1, b: 2 } } as never], [{ id: jamf[0]?.id ?? '', params: { b: 3 } }]);
    expect(withTwoParams[0]?.params).toEqual({ a: 1, b: 3 });
  });

  it('drops rules disabled by an override and appends new rules', () => {
    const extra = { ...structuredClone(okta[0]), id: 'my-extra-rule' } as never;
    const merged = mergeWithPack(okta, [{ id: 'okta-inactive-users', enabled: false }, extra]);
    expect(merged.map((rule) => rule.id)).toEqual([...okta.map((rule) => rule.id).filter((id) => id !== 'okta-inactive-users'), 'my-extra-rule']);
    expect(() => compileRules(merged)).not.toThrow();
  });

  it('lets an override pin a question id instead of matching by text, and add exclusions', () => {
    const [merged] = mergeWithPack(okta.slice(0, 1), [{ id: okta[0]?.id ?? '', question_id: 'q-17', exclusions: [{ id: '00u1', reason: 'service account' }] }]);
    expect(merged).toMatchObject({ question_id: 'q-17', exclusions: [{ id: '00u1', reason: 'service account' }] });
    expect(merged).not.toHaveProperty('question_match');
    expect(() => compileRules([merged])).not.toThrow();
  });
});
