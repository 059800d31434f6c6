import type { CompletionContext, CompletionResult, Completion } from '@codemirror/autocomplete';
import { syntaxTree } from '@codemirror/language';
import type { EditorState } from '@codemirror/state';

/**
 * Completion in the rules text: rule keys and enum values from the rule schema (GET
 * /mappings/rule-schema) at the place the cursor is in the document, and record field names
 * from the sample's records.
 */

type Schema = Record<string, unknown>;
export interface CompletionData { schema: Schema | null; fields: string[] }

type Step = string | '[]';

function deref(root: Schema, schema: unknown, seen = 0): Schema[] {
  if (!schema || typeof schema !== 'object' || seen > 20) return [];
  const s = schema as Schema;
  const out: Schema[] = [s];
  if (typeof s.$ref === 'string' && s.$ref.startsWith('#/$defs/')) out.push(...deref(root, (root.$defs as Schema | undefined)?.[s.$ref.slice(8)], seen + 1));
  for (const key of ['allOf', 'anyOf', 'oneOf']) if (Array.isArray(s[key])) for (const sub of s[key] as unknown[]) out.push(...deref(root, sub, seen + 1));
  for (const key of ['then', 'else']) if (s[key]) out.push(...deref(root, s[key], seen + 1));
  return out;
}

function step(root: Schema, schemas: Schema[], key: Step): Schema[] {
  const out: Schema[] = [];
  for (const s of schemas) {
    if (key === '[]') { if (s.items) out.push(...deref(root, s.items)); continue; }
    const props = s.properties as Record<string, unknown> | undefined;
    if (props?.[key]) out.push(...deref(root, props[key]));
    else if (s.additionalProperties && typeof s.additionalProperties === 'object') out.push(...deref(root, s.additionalProperties));
  }
  return out;
}

/** The schemas at a path in the document (a `{rules: [...]}` document or a bare list). */
function at(schema: Schema, path: Step[]): Schema[] {
  let current = deref(schema, schema);
  const rest = path[0] === 'rules' ? path.slice(1) : path;
  for (const key of rest) current = step(schema, current, key);
  return current;
}

function keysAt(schema: Schema, path: Step[]): Completion[] {
  const seen = new Map<string, Completion>();
  if (path.length === 0) seen.set('rules', { label: 'rules', type: 'property', detail: 'the list of rules' });
  for (const s of at(schema, path)) {
    for (const [name, prop] of Object.entries((s.properties as Record<string, Schema> | undefined) ?? {})) {
      if (seen.has(name)) continue;
      const described = deref(schema, prop).find((p) => typeof p.description === 'string');
      seen.set(name, { label: name, type: 'property', info: described?.description as string | undefined });
    }
  }
  return [...seen.values()];
}

function valuesAt(schema: Schema, path: Step[], fields: string[]): Completion[] {
  const out = new Map<string, Completion>();
  const schemas = at(schema, path);
  for (const s of schemas) {
    if (Array.isArray(s.enum)) for (const v of s.enum) if (v !== null) out.set(String(v), { label: String(v), type: 'enum' });
    if (s.const !== undefined) out.set(String(s.const), { label: String(s.const), type: 'enum' });
    if (s.type === 'boolean') { out.set('true', { label: 'true', type: 'keyword' }); out.set('false', { label: 'false', type: 'keyword' }); }
    if (s.$ref === '#/$defs/FieldPath') for (const f of fields) out.set(f, { label: f, type: 'variable', detail: 'field' });
  }
  const last = path.at(-1);
  if (!schemas.length && (last === 'field' || last === 'label_field' || last === 'id_field')) for (const f of fields) out.set(f, { label: f, type: 'variable', detail: 'field' });
  return [...out.values()];
}

interface LineInfo { indent: number; dashes: number[]; key: string | null; keyCol: number; blank: boolean }

function lineInfo(text: string): LineInfo {
  if (/^\s*(#.*)?$/.test(text)) return { indent: 0, dashes: [], key: null, keyCol: 0, blank: true };
  let col = 0;
  while (text[col] === ' ') col++;
  const indent = col;
  const dashes: number[] = [];
  while (text[col] === '-' && (text[col + 1] === ' ' || col + 1 === text.length)) { dashes.push(col); col += 2; while (text[col] === ' ') col++; }
  const match = /^(["']?)([\w.$-]+)\1\s*:(\s|$)/.exec(text.slice(col));
  return { indent, dashes, key: match ? match[2]! : null, keyCol: col, blank: false };
}

/** The keys and list items above a YAML position, from indentation (works while lines are half typed). */
function yamlPath(state: EditorState, lineNumber: number, column: number): Step[] {
  const path: Step[] = [];
  let target = column;
  const current = lineInfo(state.doc.line(lineNumber).text);
  for (const d of [...current.dashes].reverse()) if (d < target) { path.unshift('[]'); target = d; }
  for (let n = lineNumber - 1; n >= 1 && target > 0; n--) {
    const info = lineInfo(state.doc.line(n).text);
    if (info.blank) continue;
    if (info.key !== null && info.keyCol < target) { path.unshift(info.key); target = info.keyCol; }
    for (const d of [...info.dashes].reverse()) if (d < target) { path.unshift('[]'); target = d; }
    if (info.key === null && info.dashes.length === 0 && info.indent < target) break; // a scalar line (a folded text) above
  }
  return path;
}

function yamlCompletions(context: CompletionContext, data: CompletionData): CompletionResult | null {
  const { state, pos } = context;
  const line = state.doc.lineAt(pos);
  const before = line.text.slice(0, pos - line.from);
  if (/#/.test(before.replace(/(["']).*?\1/g, ''))) return null;
  // Inside a JSONPath or filter: field names after "@." (or "params." would be params).
  const inPath = /@\.([\w.]*)$/.exec(before);
  if (inPath) return { from: pos - inPath[1]!.length, options: data.fields.map((f) => ({ label: f, type: 'variable', detail: 'field' })), validFor: /^[\w.]*$/ };
  if (/[{[]/.test(before.replace(/(["']).*?\1/g, '')) && !/:\s*[{[]?\s*$/.test(before)) {
    // In a flow collection (`{ field: x, eq: 1 }`): keys and fields, without context.
    const word = /([\w.]*)$/.exec(before)!;
    if (!word[1] && !context.explicit) return null;
    const value = /:\s*[\w.]*$/.test(before);
    const options = value ? data.fields.map((f) => ({ label: f, type: 'variable', detail: 'field' })) : data.schema ? allKeys(data.schema) : [];
    return { from: pos - word[1]!.length, options, validFor: /^[\w.]*$/ };
  }
  const info = lineInfo(before);
  const valueMatch = /^(\s*(?:-\s+)*)(["']?)([\w.-]+)\2\s*:\s*(["']?)([\w.-]*)$/.exec(before);
  if (valueMatch) {
    const keyCol = valueMatch[1]!.length;
    const path = [...yamlPath(state, line.number, keyCol), valueMatch[3]!];
    const options = data.schema ? valuesAt(data.schema, path, data.fields) : [];
    if (!options.length) return null;
    return { from: pos - valueMatch[5]!.length, options, validFor: /^[\w.-]*$/ };
  }
  const keyMatch = /^(\s*(?:-\s+)*)([\w-]*)$/.exec(before);
  if (keyMatch && data.schema) {
    if (!keyMatch[2] && !context.explicit) return null;
    const path = yamlPath(state, line.number, info.blank ? before.length : keyMatch[1]!.length);
    const options = keysAt(data.schema, path).map((o) => ({ ...o, apply: `${o.label}: ` }));
    return { from: pos - keyMatch[2]!.length, options, validFor: /^[\w-]*$/ };
  }
  return null;
}

let allKeysCache: { schema: Schema; keys: Completion[] } | null = null;
function allKeys(schema: Schema): Completion[] {
  if (allKeysCache?.schema === schema) return allKeysCache.keys;
  const names = new Set<string>();
  const visit = (v: unknown) => {
    if (!v || typeof v !== 'object') return;
    if (Array.isArray(v)) { v.forEach(visit); return; }
    const o = v as Schema;
    if (o.properties && typeof o.properties === 'object') for (const k of Object.keys(o.properties)) names.add(k);
    for (const value of Object.values(o)) visit(value);
  };
  visit(schema);
  const keys = [...names].sort().map((label) => ({ label, type: 'property' }));
  allKeysCache = { schema, keys };
  return keys;
}

function jsonCompletions(context: CompletionContext, data: CompletionData): CompletionResult | null {
  const { state, pos } = context;
  const node = syntaxTree(state).resolveInner(pos, -1);
  const stringNode = node.name === 'String' || node.name === 'PropertyName' ? node : null;
  const from = stringNode ? stringNode.from + 1 : pos;
  const typed = state.sliceDoc(from, pos);
  const inPath = /@\.([\w.]*)$/.exec(typed);
  if (inPath) return { from: pos - inPath[1]!.length, options: data.fields.map((f) => ({ label: f, type: 'variable', detail: 'field' })), validFor: /^[\w.]*$/ };
  if (!stringNode && !context.explicit) return null;
  // The path from the tree: each Property above names a key, each Array an item.
  const keyOf = (property: typeof node | null) => {
    const name = property?.firstChild;
    return name && name.name === 'PropertyName' ? state.sliceDoc(name.from + 1, name.to - 1) : null;
  };
  let isKey = node.name === 'PropertyName' || (!!stringNode && node.parent?.name === 'Object') || !stringNode;
  let valueOf: string | null = null;
  let start = node.parent;
  if (node.name === 'PropertyName') start = node.parent?.parent ?? null;
  else if (stringNode && node.parent?.name === 'Property') { valueOf = keyOf(node.parent); isKey = false; start = node.parent.parent; }
  else if (stringNode && node.parent?.name === 'Array') isKey = false;
  const path: Step[] = [];
  for (let n = start; n; n = n.parent) {
    if (n.name === 'Property') { const key = keyOf(n); if (key !== null) path.unshift(key); }
    else if (n.name === 'Array') path.unshift('[]');
  }
  if (!data.schema) return null;
  const options = isKey ? keysAt(data.schema, path) : valuesAt(data.schema, valueOf === null ? path : [...path, valueOf], data.fields);
  if (!options.length) return null;
  return { from, options, validFor: /^[\w.-]*$/ };
}

export function rulesCompletion(format: () => 'yaml' | 'json', data: () => CompletionData) {
  return (context: CompletionContext): CompletionResult | null => (format() === 'json' ? jsonCompletions(context, data()) : yamlCompletions(context, data()));
}

/** Field names (dotted, two levels) of sample records. */
export function fieldNames(records: unknown[]): string[] {
  const names = new Set<string>();
  const visit = (value: unknown, prefix: string, depth: number) => {
    if (!value || typeof value !== 'object' || Array.isArray(value) || depth > 2) return;
    for (const [key, v] of Object.entries(value)) {
      const name = prefix ? `${prefix}.${key}` : key;
      names.add(name);
      if (Array.isArray(v)) names.add(`${name}.length`);
      else visit(v, name, depth + 1);
    }
  };
  for (const record of records.slice(0, 50)) visit(record, '', 0);
  return [...names].sort();
}
