/**
 * Fixture files for `mappings test`: each gives datasets, an optional evaluation instant and
 * the result expected from each rule, in YAML or JSON:
 *
 *   now: 2025-06-01T00:00:00Z
 *   data: { okta.users: [ ... ] }
 *   expect: { okta-admin-mfa: pass }
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseYamlOrJson, type EvidenceResult } from '../mappings/engine.js';

export interface Fixture {
  file: string;
  /** Absent: the command uses the current time. */
  now?: Date;
  data: Record<string, unknown>;
  expect: Record<string, EvidenceResult>;
}

export interface FixtureProblem {
  file: string;
  message: string;
}

const RESULTS: readonly string[] = ['pass', 'fail', 'info', 'error'];
const FIXTURE_FILE = /\.(ya?ml|json)$/u;

/** A fixture file, or every fixture file under a directory (recursively, in name order). */
export async function fixtureFiles(location: string): Promise<string[]> {
  if (!(await stat(location)).isDirectory()) return [location];
  const entries = await readdir(location, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(location, entry.name);
    if (entry.isDirectory()) files.push(...(await fixtureFiles(full)));
    else if (FIXTURE_FILE.test(entry.name)) files.push(full);
  }
  return files;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export async function loadFixture(file: string): Promise<Fixture | FixtureProblem> {
  const parsed = parseYamlOrJson(await readFile(file, 'utf8'));
  if (!parsed.ok) return { file, message: parsed.errors.map((error) => error.message).join('; ') };
  const value = parsed.value;
  if (!isObject(value)) return { file, message: 'a fixture must be an object with data and expect' };
  if (!isObject(value.data)) return { file, message: '/data must be an object: dataset name → list of records' };
  if (!isObject(value.expect) || Object.keys(value.expect).length === 0) return { file, message: '/expect must map rule ids to results' };
  for (const [ruleId, result] of Object.entries(value.expect)) {
    if (typeof result !== 'string' || !RESULTS.includes(result)) return { file, message: `/expect/${ruleId} must be one of: ${RESULTS.join(', ')}` };
  }
  const fixture: Fixture = { file, data: value.data, expect: value.expect as Record<string, EvidenceResult> };
  if (value.now !== undefined) {
    const now = typeof value.now === 'string' ? new Date(value.now) : new Date(Number.NaN);
    if (Number.isNaN(now.getTime())) return { file, message: '/now must be an ISO-8601 date-time' };
    fixture.now = now;
  }
  return fixture;
}
