import { readFileSync } from 'node:fs';

/** The frameworks whose requirement ids the hub knows; references under any other key are kept as written. */
export const FRAMEWORK_IDS = ['soc2', 'iso27001', 'nist_800_53', 'cis_aws'] as const;
export type FrameworkId = (typeof FRAMEWORK_IDS)[number];

export interface Requirement {
  id: string;
  /** Absent where the catalog carries ids only (CIS). */
  title?: string;
  group: string;
}

export interface Framework {
  id: FrameworkId;
  name: string;
  version: string;
  source: string;
  requirements: readonly Requirement[];
}

// Read once, next to this module (the build copies the JSON files beside the compiled code).
const catalogs = new Map<string, Framework & { byId: ReadonlyMap<string, Requirement> }>(FRAMEWORK_IDS.map((id) => {
  const framework = JSON.parse(readFileSync(new URL(`./${id}.json`, import.meta.url), 'utf8')) as Framework;
  return [id, Object.freeze({ ...framework, byId: new Map(framework.requirements.map((r) => [r.id, r])) })];
}));

export function frameworks(): Framework[] {
  return [...catalogs.values()];
}

export function framework(id: string): Framework | undefined {
  return catalogs.get(id);
}

export function isCatalogued(frameworkId: string): frameworkId is FrameworkId {
  return catalogs.has(frameworkId);
}

export function requirement(frameworkId: string, requirementId: string): Requirement | undefined {
  return catalogs.get(frameworkId)?.byId.get(requirementId);
}

/** The references under a catalogued framework that name no requirement of it, with their index. */
export function unknownReferences(references: Record<string, unknown>): { framework: string; requirement: string; index: number | null }[] {
  return Object.entries(references).flatMap(([frameworkId, ids]) => {
    const catalog = catalogs.get(frameworkId);
    if (!catalog) return [];
    const list = Array.isArray(ids) ? ids.map((id, index) => ({ id, index })) : [{ id: ids, index: null }];
    return list.filter(({ id }) => typeof id !== 'string' || !catalog.byId.has(id)).map(({ id, index }) => ({ framework: frameworkId, requirement: String(id), index }));
  });
}
