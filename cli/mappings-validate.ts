/**
 * `evidence-hub mappings validate <files…>`: checks mapping documents (YAML or JSON) against
 * the rule schema and compiles them, as a GitOps pre-merge check. Prints one line per
 * problem and exits 1 when any file has one.
 */
import { readFile } from 'node:fs/promises';
import { parseRulesDocument } from '../mappings/engine.js';
import { EXIT, type CliIo } from './io.js';
import { printFieldErrors } from './report.js';

export async function validateMappingFiles(files: readonly string[], io: CliIo): Promise<number> {
  if (files.length === 0) {
    io.err('usage: evidence-hub mappings validate <file>...');
    return EXIT.usage;
  }
  let failed = false;
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      io.out(`${file}: (document): cannot read the file: ${error instanceof Error ? error.message : String(error)}`);
      failed = true;
      continue;
    }
    const parsed = parseRulesDocument(text);
    if (parsed.ok) {
      const count = parsed.document.rules.length;
      io.out(`${file}: ok (${count} rule${count === 1 ? '' : 's'})`);
    } else {
      printFieldErrors(io, file, parsed.errors);
      failed = true;
    }
  }
  return failed ? EXIT.failed : EXIT.ok;
}
