import { compilePath, type CompiledPath } from './jsonpath/path-compiler.js';
import type { ParamValue } from './types.js';

/**
 * Paths in payload entries and count assertions start at the array of records under test.
 * There `$` alone means those records, one result per record (as `$[*]` does), so that
 * `{count: "$"}` counts records rather than the single array that holds them.
 */
export function compileRecordsPath(source: string, params: Readonly<Record<string, ParamValue>>): CompiledPath {
  return compilePath(source === '$' ? '$[*]' : source, params);
}
