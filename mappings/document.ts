/**
 * Reading mapping documents from text. JSON is read as YAML 1.2 (of which it is a subset), so
 * one parser serves both and a document means the same in either syntax.
 */
import { parseDocument } from 'yaml';
import type { FieldError } from '../lib/errors.js';
import { compileRules, MappingValidationError, type CompiledMapping } from './compile.js';
import type { MappingDocument, Rule } from './types.js';

export type ParsedMapping = { ok: true; document: MappingDocument; mapping: CompiledMapping } | { ok: false; errors: FieldError[] };

/** Parses YAML or JSON text into a plain value; syntax errors carry line and column. */
export function parseYamlOrJson(text: string): { ok: true; value: unknown } | { ok: false; errors: FieldError[] } {
  // YAML 1.2 core schema: "yes"/"no"/"on" stay strings and dates stay strings, as in JSON.
  const document = parseDocument(text, { version: '1.2', schema: 'core', uniqueKeys: true, prettyErrors: true });
  if (document.errors.length > 0) {
    return { ok: false, errors: document.errors.map((error) => ({ pointer: '', message: `syntax error: ${error.message.split('\n')[0] ?? ''}` })) };
  }
  try {
    // maxAliasCount bounds alias expansion ("billion laughs").
    return { ok: true, value: document.toJS({ maxAliasCount: 100 }) as unknown };
  } catch (error) {
    return { ok: false, errors: [{ pointer: '', message: `unreadable document: ${error instanceof Error ? error.message : String(error)}` }] };
  }
}

/** Parses and compiles a mapping document: `{rules: [...]}` or a bare list of rules, in YAML or JSON. */
export function parseRulesDocument(text: string): ParsedMapping {
  const parsed = parseYamlOrJson(text);
  if (!parsed.ok) return parsed;
  try {
    const mapping = compileRules(parsed.value);
    const document: MappingDocument = Array.isArray(parsed.value) ? { rules: parsed.value as Rule[] } : (parsed.value as MappingDocument);
    return { ok: true, document, mapping };
  } catch (error) {
    if (error instanceof MappingValidationError) return { ok: false, errors: error.errors };
    throw error;
  }
}
