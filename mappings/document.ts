/**
 * Reading mapping documents from text. JSON is read as YAML 1.2 (of which it is a subset), so
 * one parser serves both and a document means the same in either syntax.
 */
import { isNode, LineCounter, parseDocument } from 'yaml';
import type { FieldError } from '../lib/errors.js';
import { compileRules, MappingValidationError, validateMappingDocument, type CompiledMapping } from './compile.js';
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

/** A fault in rules sent as text: where it is as a JSON Pointer into the document, and as a line and column (1-based). */
export interface SourceError extends FieldError {
  line: number;
  column: number;
}

const MAX_ERRORS = 100;

/**
 * Reads rules written as text (YAML or JSON; a bare list or `{rules: [...]}`), as the mapping
 * studio sends them: every fault comes with its place in the text, so an editor can mark it
 * there. The text itself is kept by the caller as written (comments and all).
 */
export function readRulesSource(text: string): { ok: true; rules: Rule[] } | { ok: false; errors: SourceError[] } {
  const lines = new LineCounter();
  const document = parseDocument(text, { version: '1.2', schema: 'core', uniqueKeys: true, prettyErrors: true, lineCounter: lines });
  const at = (offset: number) => { const { line, col } = lines.linePos(offset); return { line, column: col }; };
  if (document.errors.length > 0) {
    return { ok: false, errors: document.errors.slice(0, MAX_ERRORS).map((error) => ({ pointer: '', message: `syntax error: ${error.message.split('\n')[0] ?? ''}`, ...at(error.pos[0]) })) };
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return { ok: false, errors: [{ pointer: '', message: `unreadable document: ${error instanceof Error ? error.message : String(error)}`, line: 1, column: 1 }] };
  }
  const faults = validateMappingDocument(value);
  if (faults.length === 0) return { ok: true, rules: (Array.isArray(value) ? value : (value as { rules: Rule[] }).rules) as Rule[] };
  return {
    ok: false,
    errors: faults.slice(0, MAX_ERRORS).map((fault) => {
      // The deepest node the pointer reaches (a missing property points at its object).
      const path = fault.pointer.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
      let node: unknown;
      for (let depth = path.length; depth >= 0 && !node; depth--) {
        const found = depth === 0 ? document.contents : document.getIn(path.slice(0, depth).map((p) => (/^\d+$/.test(p) ? Number(p) : p)), true);
        if (isNode(found) && found.range) node = found;
      }
      const offset = isNode(node) && node.range ? node.range[0] : 0;
      return { ...fault, ...at(offset) };
    }),
  };
}
