import { isMap, isNode, isSeq, LineCounter, parseDocument, stringify, type Document } from 'yaml';

/**
 * Edits of the rules text that keep the rest of it as written: YAML through the `yaml`
 * package's Document API (comments, order and style survive), JSON re-indented.
 */

export type Format = 'yaml' | 'json';
export type Rule = Record<string, unknown> & { id?: string; dataset?: string };
export interface Exclusion { id: string | number; reason: string; expires?: string }

const RULE_KEYS = ['id', 'description', 'enabled', 'dataset', 'control_ref', 'question_match', 'question_id', 'title', 'when_empty', 'select', 'id_field', 'label_field', 'params', 'pass_when', 'payload', 'exclusions', 'references'];

/** Keys in reading order (stored rules come back with their keys in storage order): a rule's as the schema lists them, `description` first elsewhere. */
function ordered(value: unknown, rule = false): unknown {
  if (Array.isArray(value)) return value.map((v) => ordered(v));
  if (!value || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  const rank = (k: string) => (rule ? (RULE_KEYS.indexOf(k) + 1 || 100) : k === 'description' ? 0 : 1);
  const sorted = [...keys].sort((a, b) => rank(a) - rank(b));
  return Object.fromEntries(sorted.map((k) => [k, ordered((value as Record<string, unknown>)[k])]));
}

/** The rules as a fresh text (a version stored without text, a format switch). */
export function rulesToText(rules: unknown[], format: Format): string {
  const value = { rules: rules.map((r) => ordered(r, true)) };
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value, { lineWidth: 100 });
}

function parse(text: string): Document.Parsed {
  return parseDocument(text, { version: '1.2', uniqueKeys: true });
}

/** The rules of a text, or null while it does not parse (the server says why). */
export function readRules(text: string): Rule[] | null {
  const doc = parse(text);
  if (doc.errors.length) return null;
  let value: unknown;
  try { value = doc.toJS({ maxAliasCount: 100 }); } catch { return null; }
  const rules = Array.isArray(value) ? value : (value && typeof value === 'object' ? (value as { rules?: unknown }).rules : undefined);
  return Array.isArray(rules) ? rules.filter((r): r is Rule => !!r && typeof r === 'object' && !Array.isArray(r)) : null;
}

/** Where the rule list is: the document itself, or its `rules`. */
function listPath(doc: Document.Parsed): string[] {
  return isSeq(doc.contents) ? [] : ['rules'];
}

function indexOf(doc: Document.Parsed, ruleId: string): number {
  const list = doc.getIn(listPath(doc), true);
  if (!isSeq(list)) throw new Error('The text has no list of rules.');
  const index = list.items.findIndex((item) => isMap(item) && item.get('id') === ruleId);
  if (index < 0) throw new Error(`No rule with the id ${ruleId} in the text.`);
  return index;
}

function editJson(text: string, ruleId: string, edit: (rule: Rule, rules: Rule[], index: number) => void): string {
  const value = JSON.parse(text) as unknown;
  const rules = (Array.isArray(value) ? value : (value as { rules?: unknown }).rules) as Rule[] | undefined;
  if (!Array.isArray(rules)) throw new Error('The text has no list of rules.');
  const index = rules.findIndex((r) => r && r.id === ruleId);
  if (index < 0) throw new Error(`No rule with the id ${ruleId} in the text.`);
  edit(rules[index]!, rules, index);
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Adds a record to a rule's exclusions (creating the list when the rule has none). */
export function addExclusion(text: string, format: Format, ruleId: string, exclusion: Exclusion): string {
  const entry: Exclusion = { id: exclusion.id, reason: exclusion.reason, ...(exclusion.expires ? { expires: exclusion.expires } : {}) };
  if (format === 'json') {
    return editJson(text, ruleId, (rule) => {
      const list = Array.isArray(rule.exclusions) ? rule.exclusions as Exclusion[] : [];
      rule.exclusions = [...list.filter((e) => e.id !== entry.id), entry];
    });
  }
  const doc = parse(text);
  if (doc.errors.length) throw new Error('Fix the errors in the text first.');
  const path = [...listPath(doc), indexOf(doc, ruleId), 'exclusions'];
  const existing = doc.getIn(path, true);
  if (isSeq(existing)) {
    const at = existing.items.findIndex((item) => isMap(item) && item.get('id') === entry.id);
    if (at >= 0) existing.items.splice(at, 1);
    existing.items.push(doc.createNode(entry));
  } else {
    doc.setIn(path, doc.createNode([entry]));
  }
  return doc.toString({ lineWidth: 100 });
}

/** Replaces one rule by another (a pack's rule, for "Reset to pack"). */
export function replaceRule(text: string, format: Format, ruleId: string, rule: Rule): string {
  if (format === 'json') return editJson(text, ruleId, (_rule, rules, index) => { rules[index] = rule; });
  const doc = parse(text);
  if (doc.errors.length) throw new Error('Fix the errors in the text first.');
  doc.setIn([...listPath(doc), indexOf(doc, ruleId)], doc.createNode(rule));
  return doc.toString({ lineWidth: 100 });
}

/** The line (1-based) each rule starts on, by id. */
export function ruleLines(text: string): Map<string, number> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const out = new Map<string, number>();
  const list = isSeq(doc.contents) ? doc.contents : isMap(doc.contents) ? doc.contents.get('rules', true) : null;
  if (!isSeq(list)) return out;
  for (const item of list.items) {
    if (!isMap(item) || !item.range) continue;
    const id = item.get('id');
    if (typeof id === 'string') out.set(id, lines.linePos(item.range[0]).line);
  }
  return out;
}

/** The line and column (1-based) of a JSON Pointer into the text's document, when it reaches a node. */
export function pointerPosition(text: string, pointer: string): { line: number; column: number } | null {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const path = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) { const { line, col } = lines.linePos(node.range[0]); return { line, column: col }; }
  }
  return null;
}

/** Converts a text between YAML and JSON (YAML comments do not survive into JSON). */
export function convertText(text: string, to: Format): string {
  const doc = parse(text);
  if (doc.errors.length) throw new Error('The text does not parse: fix it before switching the format.');
  const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  return to === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value, { lineWidth: 100 });
}

/** Keys sorted at every level: two rules are the same when these are equal. */
export function canonical(value: unknown): string {
  const sort = (v: unknown): unknown => Array.isArray(v) ? v.map(sort)
    : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])])) : v;
  return JSON.stringify(sort(value));
}
