import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { FRAMEWORK_IDS, framework, frameworks, requirement, unknownReferences } from '../../mappings/frameworks/index.js';
import { compileRules } from '../../mappings/engine.js';
import { rule } from './helpers.js';

const PACKS = path.join(import.meta.dirname, '..', '..', 'mappings', 'packs');

describe('framework catalogs', () => {
  it('hold each framework’s requirement ids once, in source order', () => {
    expect(frameworks().map((f) => f.id)).toEqual([...FRAMEWORK_IDS]);
    const sizes = Object.fromEntries(frameworks().map((f) => [f.id, f.requirements.length]));
    // SOC 2: 33 common criteria + availability 3, confidentiality 2, processing integrity 5, privacy 18.
    expect(sizes).toMatchObject({ soc2: 61, iso27001: 93, cis_aws: 62 });
    expect(sizes.nist_800_53).toBeGreaterThan(1000);
    for (const f of frameworks()) {
      expect(new Set(f.requirements.map((r) => r.id)).size, f.id).toBe(f.requirements.length);
      expect(f.version, f.id).not.toBe('');
    }
    expect(framework('iso27001')!.requirements.filter((r) => r.group === 'Technological')).toHaveLength(34);
    expect(requirement('nist_800_53', 'IA-2(1)')?.title).toBe('Multi-factor Authentication to Privileged Accounts');
    expect(requirement('soc2', 'CC6.1')?.group).toContain('Logical and Physical Access');
    expect(requirement('cis_aws', '1.14')).toEqual({ id: '1.14', group: 'Identity and Access Management' });
  });

  it('every pack rule cites SOC 2 and ISO 27001, and every reference to a catalogued framework resolves', () => {
    const files = readdirSync(PACKS).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const file of files) {
      const pack = parseYaml(readFileSync(path.join(PACKS, file), 'utf8')) as { rules: { id: string; references?: Record<string, unknown> }[] };
      for (const r of pack.rules) {
        expect(r.references?.soc2, `${file} ${r.id}`).toBeDefined();
        expect(r.references?.iso27001, `${file} ${r.id}`).toBeDefined();
        expect(unknownReferences(r.references ?? {}), `${file} ${r.id}`).toEqual([]);
      }
    }
  });

  it('refuse a rule citing an unknown requirement with a pointer, and keep other frameworks as written', () => {
    expect(() => compileRules([rule({ references: { iso27001: ['5.15', '10.2'], soc2: 'CC6.1', my_framework: ['anything'] } })]))
      .toThrow(/\/0\/references\/iso27001\/1: "10.2" is not a requirement of ISO\/IEC 27001:2022 Annex A/);
    expect(() => compileRules([rule({ references: { cis_aws: '9.9' } })])).toThrow(/\/0\/references\/cis_aws: "9.9"/);
    expect(() => compileRules([rule({ references: { soc2: ['CC6.1'], in_house: ['A-1'] } })])).not.toThrow();
  });
});
