import { createHash } from 'node:crypto';

/**
 * Canonical JSON in the manner of RFC 8785 (JCS): object keys sorted by UTF-16 code units,
 * no whitespace, ECMAScript number formatting (what JSON.stringify does for finite numbers).
 * Equal values give equal bytes, so hashes of them are stable across processes and versions.
 */
export function canonicalJson(value: unknown): string {
  // An explicit stack instead of recursion: collected records can nest deeper than the call
  // stack allows, and a hash must never fail on them.
  const out: string[] = [];
  const stack: unknown[] = [value];
  while (stack.length) {
    const item = stack.pop();
    if (item instanceof Raw) {
      out.push(item.text);
    } else if (item === null || typeof item !== 'object') {
      out.push(typeof item === 'number' && !Number.isFinite(item) ? 'null' : (JSON.stringify(item) ?? 'null'));
    } else if (item instanceof Date) {
      out.push(JSON.stringify(item.toISOString()));
    } else if (Array.isArray(item)) {
      out.push('[');
      stack.push(CLOSE_ARRAY);
      for (let i = item.length - 1; i >= 0; i--) {
        const element: unknown = item[i];
        stack.push(element === undefined || typeof element === 'function' ? null : element);
        if (i > 0) stack.push(COMMA);
      }
    } else {
      const object = item as Record<string, unknown>;
      // Default sort compares UTF-16 code units, which is what RFC 8785 asks for.
      const keys = Object.keys(object).sort().filter((key) => object[key] !== undefined && typeof object[key] !== 'function');
      out.push('{');
      stack.push(CLOSE_OBJECT);
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push(object[keys[i]!]);
        stack.push(new Raw(`${i > 0 ? ',' : ''}${JSON.stringify(keys[i])}:`));
      }
    }
  }
  return out.join('');
}

/** Text written as is (punctuation and keys) among the values still to be written. */
class Raw {
  constructor(readonly text: string) {}
}
const COMMA = new Raw(',');
const CLOSE_ARRAY = new Raw(']');
const CLOSE_OBJECT = new Raw('}');

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function canonicalSha256(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
