/**
 * `evidence-hub mappings test <rules-file> --fixtures <dir-or-file>`: evaluates the rules on
 * each fixture's data and compares every rule's result with the fixture's expectation, one
 * PASS/FAIL line each. Exits 1 on any mismatch, invalid fixture or invalid rules file.
 */
import { readFile } from 'node:fs/promises';
import { evaluate, parseRulesDocument, type EvidenceItem } from '../mappings/engine.js';
import { fixtureFiles, loadFixture } from './fixtures.js';
import { EXIT, type CliIo } from './io.js';
import { printFieldErrors } from './report.js';

export async function testMappingFile(rulesFile: string, fixturesLocation: string, io: CliIo): Promise<number> {
  let rulesText: string;
  let files: string[];
  try {
    rulesText = await readFile(rulesFile, 'utf8');
    files = await fixtureFiles(fixturesLocation);
  } catch (error) {
    io.err(`cannot read: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.failed;
  }
  const parsed = parseRulesDocument(rulesText);
  if (!parsed.ok) {
    printFieldErrors(io, rulesFile, parsed.errors);
    return EXIT.failed;
  }
  if (files.length === 0) {
    io.err(`no fixture files (.yaml, .yml, .json) in ${fixturesLocation}`);
    return EXIT.failed;
  }

  let checked = 0;
  let failed = 0;
  for (const file of files) {
    const fixture = await loadFixture(file);
    if ('message' in fixture) {
      io.out(`FAIL ${file}: invalid fixture: ${fixture.message}`);
      failed++;
      continue;
    }
    // The engine never reads the clock; a fixture without `now` is evaluated as of this run.
    const { evidence } = evaluate(parsed.mapping, fixture.data, { now: fixture.now ?? new Date() });
    for (const [ruleId, expected] of Object.entries(fixture.expect)) {
      checked++;
      const item = evidence.find((candidate) => candidate.rule_id === ruleId);
      if (!item) {
        failed++;
        io.out(`FAIL ${file} ${ruleId}: no enabled rule with this id in ${rulesFile}`);
      } else if (item.result !== expected) {
        failed++;
        io.out(`FAIL ${file} ${ruleId}: expected ${expected}, got ${item.result}${explain(item)}`);
      } else {
        io.out(`PASS ${file} ${ruleId}: ${item.result}`);
      }
    }
  }
  io.out(`${checked} expectation${checked === 1 ? '' : 's'}, ${failed} failed`);
  return failed > 0 ? EXIT.failed : EXIT.ok;
}

/** Why a rule came out as it did: the error, or the assertions that did not hold. */
function explain(item: EvidenceItem): string {
  const evaluation = item.payload._evaluation as { error?: string; assertions?: Array<{ passed: boolean; kind: string; description?: string }> } | undefined;
  if (evaluation?.error) return ` (${evaluation.error})`;
  const failedAssertions = (evaluation?.assertions ?? []).filter((assertion) => !assertion.passed).map((assertion) => assertion.description ?? assertion.kind);
  return failedAssertions.length > 0 ? ` (not met: ${failedAssertions.join('; ')})` : '';
}
