/**
 * Title templates: text with `{{name}}` placeholders, parsed once per rule. Rendering only
 * looks names up; there are no expressions, filters or helpers, so a template cannot run code.
 */
import { RuleSyntaxError } from './errors.js';

export interface CompiledTemplate {
  render(lookup: (name: string) => unknown): string;
}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/gu;

/**
 * Parses `text`; `isKnown` decides which names exist (the rule compiler knows the params and
 * payload entries). Unknown names and stray braces are errors, so typos never reach a title.
 */
export function compileTemplate(text: string, isKnown: (name: string) => boolean, describeKnown: () => string): CompiledTemplate {
  const parts: Array<{ text: string } | { name: string }> = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    parts.push({ text: text.slice(last, match.index) });
    const name = match[1] ?? '';
    if (!isKnown(name)) throw new RuleSyntaxError(`unknown template variable "{{${name}}}"; known: ${describeKnown()}`);
    parts.push({ name });
    last = match.index + match[0].length;
  }
  parts.push({ text: text.slice(last) });
  if (parts.some((part) => 'text' in part && (part.text.includes('{{') || part.text.includes('}}')))) {
    throw new RuleSyntaxError('unbalanced "{{" or "}}" in template; placeholders look like {{count}}');
  }
  const literalParts = parts.filter((part) => !('text' in part) || part.text !== '');
  return {
    render: (lookup) => literalParts.map((part) => ('text' in part ? part.text : renderValue(lookup(part.name)))).join(''),
  };
}

/** Numbers and text as they are; null as empty; a value not known yet (e.g. after an error) as "?". */
function renderValue(value: unknown): string {
  if (value === undefined) return '?';
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
