/**
 * Payload projections: named views of the records under test that become the evidence
 * payload. Every list is capped (by the entry's `limit` and by the global cap), and a capped
 * list says so, so a payload never grows with the size of a dataset.
 */
import { atPointer } from './errors.js';
import { compileRecordsPath } from './records-path.js';
import type { PropertyReader } from './jsonpath/property-access.js';
import { recordFieldReader } from './predicates.js';
import type { ParamValue, PayloadEntry } from './types.js';

export interface ProjectedEntry {
  value: unknown;
  /** Set when a bare list had to be cut to the cap: how many results there were. */
  truncatedFrom?: number;
}

export interface CompiledPayloadEntry {
  readonly name: string;
  /** JSON Pointer of the entry in the mapping document, for evaluation errors. */
  readonly pointer: string;
  /** count and value entries are scalars, usable in title templates. */
  readonly isScalar: boolean;
  project(records: readonly unknown[], maxListItems: number): ProjectedEntry;
}

export function compilePayloadEntry(name: string, entry: PayloadEntry, params: Readonly<Record<string, ParamValue>>, pointer: string): CompiledPayloadEntry {
  if (typeof entry === 'string') {
    const path = atPointer(pointer, () => compileRecordsPath(entry, params));
    return listEntry(name, pointer, path, (results, cap) => (results.length > cap ? { value: results.slice(0, cap), truncatedFrom: results.length } : { value: results }));
  }
  if ('count' in entry) {
    const path = atPointer(`${pointer}/count`, () => compileRecordsPath(entry.count, params));
    return { name, pointer, isScalar: true, project: (records) => ({ value: path.evaluate(records).length }) };
  }
  if ('value' in entry) {
    const path = atPointer(`${pointer}/value`, () => compileRecordsPath(entry.value, params));
    return { name, pointer, isScalar: true, project: (records) => ({ value: path.evaluate(records)[0] ?? null }) };
  }
  const path = atPointer(`${pointer}/list`, () => compileRecordsPath(entry.list, params));
  const project = entry.fields ? fieldProjector(entry.fields, `${pointer}/fields`) : (item: unknown) => item;
  const limit = entry.limit ?? Number.POSITIVE_INFINITY;
  return listEntry(name, pointer, path, (results, cap) => {
    const kept = Math.min(limit, cap);
    return { value: { items: results.slice(0, kept).map(project), total: results.length, truncated: results.length > kept } };
  });
}

/** An entry whose value is built from every record its path selects, at most `cap` of them listed. */
function listEntry(name: string, pointer: string, path: { evaluate(records: readonly unknown[]): unknown[] }, shape: (results: unknown[], cap: number) => ProjectedEntry): CompiledPayloadEntry {
  return { name, pointer, isScalar: false, project: (records, cap) => shape(path.evaluate(records), cap) };
}

/** Keeps the listed fields of an object item (missing ones as null); other items pass through. */
function fieldProjector(fields: readonly string[], pointer: string): (item: unknown) => unknown {
  const readers: Array<[string, PropertyReader]> = fields.map((field, i) => [field, recordFieldReader(field, `${pointer}/${i}`)]);
  return (item) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
    const projected: Record<string, unknown> = {};
    for (const [field, read] of readers) projected[field] = read(item) ?? null;
    return projected;
  };
}
