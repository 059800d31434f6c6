/**
 * The built-in mapping packs (mappings/packs/*.yaml): ready-made rule sets per source system.
 * They are read and compiled on first use; a pack that does not compile is a bug in this
 * repository, so loading fails loudly instead of serving half a pack.
 *
 * A mapping can start from a pack and override rules by id (see mergeWithPack), typically
 * only their params or exclusions.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRulesDocument } from './document.js';
import type { Rule, RuleOverride } from './types.js';

export interface MappingPack {
  /** The file name without extension, e.g. "okta". */
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly rules: readonly Rule[];
}

/**
 * Where the YAML files are: next to this module when running from source, and in the source
 * tree when running the compiled copy from dist/ (tsc does not copy YAML).
 */
function packDirectory(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, 'packs'), path.join(here, '..', '..', 'mappings', 'packs')];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`mapping packs not found (looked in ${candidates.join(', ')})`);
  return found;
}

function loadPack(file: string): MappingPack {
  const parsed = parseRulesDocument(readFileSync(file, 'utf8'));
  if (!parsed.ok) {
    throw new Error(`built-in mapping pack ${file} is invalid:\n${parsed.errors.map((e) => `  ${e.pointer || '(document)'}: ${e.message}`).join('\n')}`);
  }
  const { name, description, rules } = parsed.document;
  return deepFreeze({ id: path.basename(file, path.extname(file)), name: name ?? '', description: description ?? '', rules });
}

let packs: readonly MappingPack[] | undefined;

/** The built-in packs, ordered by id. Read-only: use mergeWithPack to derive a mapping. */
export function listPacks(): readonly MappingPack[] {
  if (!packs) {
    const directory = packDirectory();
    packs = Object.freeze(
      readdirSync(directory)
        .filter((file) => /\.ya?ml$/u.test(file))
        .sort()
        .map((file) => loadPack(path.join(directory, file))),
    );
  }
  return packs;
}

export function getPack(id: string): MappingPack | undefined {
  return listPacks().find((pack) => pack.id === id);
}

/**
 * A pack's rules with overrides applied, by rule id: fields of the override replace the pack
 * rule's (params are merged name by name, so overriding one param keeps the others);
 * `enabled: false` drops the rule; an override whose id is not in the pack is added as a new
 * rule. The result is a fresh copy that the caller compiles (and so validates) as usual.
 */
export function mergeWithPack(packRules: readonly Rule[], overrides: readonly RuleOverride[]): Rule[] {
  const byId = new Map(overrides.map((override) => [override.id, override]));
  const merged: Rule[] = packRules.map((rule) => {
    const override = byId.get(rule.id);
    return override ? applyOverride(rule, override) : structuredClone(rule);
  });
  const packIds = new Set(packRules.map((rule) => rule.id));
  const added = overrides.filter((override) => !packIds.has(override.id)).map((override) => structuredClone(override) as Rule);
  return [...merged, ...added].filter((rule) => rule.enabled !== false);
}

function applyOverride(rule: Rule, override: RuleOverride): Rule {
  const merged: Rule = { ...structuredClone(rule), ...structuredClone(override) };
  if (rule.params || override.params) merged.params = { ...structuredClone(rule.params), ...structuredClone(override.params) };
  // A rule addresses its question one way: choosing the other in an override replaces it.
  if (override.question_id !== undefined && override.question_match === undefined) delete merged.question_match;
  if (override.question_match !== undefined && override.question_id === undefined) delete merged.question_id;
  return merged;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
