/**
 * `npx tsx scripts/nist-catalog.ts <oscal catalog …> > mappings/frameworks/nist_800_53.json`
 * (the catalog as published: NIST_SP-800-53_rev5_catalog.json, then the resolved baselines):
 * the NIST SP 800-53 Rev. 5 control and enhancement ids with their titles and families, from
 * OSCAL catalogs (JSON or YAML, NIST's public-domain usnistgov/oscal-content). Several files
 * are merged (e.g. the resolved Low, Moderate, High and Privacy baselines); withdrawn controls
 * are left out.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

interface OscalControl { id: string; title: string; props?: { name: string; value: string }[]; controls?: OscalControl[] }
interface OscalGroup { id: string; title: string; controls?: OscalControl[]; groups?: OscalGroup[] }

const found = new Map<string, { id: string; title: string; group: string; sort: string }>();
const prop = (c: OscalControl, name: string) => c.props?.find((p) => p.name === name)?.value;
function visit(control: OscalControl, family: string): void {
  if (prop(control, 'status') !== 'withdrawn') {
    // Labels as the publication writes them: AC-2(1), not the zero-padded AC-02(01) some files carry.
    const label = (prop(control, 'label') ?? control.id.toUpperCase()).replace(/-0*(\d+)/u, '-$1').replace(/\(0*(\d+)\)/u, '($1)');
    found.set(label, { id: label, title: control.title, group: family, sort: prop(control, 'sort-id') ?? control.id });
  }
  for (const child of control.controls ?? []) visit(child, family);
}
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, 'utf8');
  const doc = (file.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { maxAliasCount: -1 })) as { catalog: { groups?: OscalGroup[] } };
  const walk = (groups: OscalGroup[] = []) => { for (const g of groups) { for (const c of g.controls ?? []) visit(c, g.title); walk(g.groups); } };
  walk(doc.catalog.groups);
}
const requirements = [...found.values()].sort((a, b) => a.sort.localeCompare(b.sort)).map(({ id, title, group }) => ({ id, title, group }));
process.stdout.write(JSON.stringify({
  id: 'nist_800_53', name: 'NIST SP 800-53 Rev. 5', version: '5.1.1',
  source: 'NIST SP 800-53 Rev. 5: every control and control enhancement of the catalog (release 5.0.1) and of the release 5.1.1 Low, Moderate, High and Privacy baselines, ids and titles from NIST\'s public-domain OSCAL content (usnistgov/oscal-content); withdrawn controls left out.',
  requirements,
}, null, 1) + '\n');
