/**
 * The evidence-hub command line, for GitOps workflows around mapping files:
 *
 *   evidence-hub mappings validate <files…>
 *   evidence-hub mappings test <rules-file> --fixtures <dir-or-file>
 *
 * `main` returns the exit code instead of exiting, so tests can call it in-process.
 */
import { parseArgs } from 'node:util';
import { EXIT, processIo, type CliIo } from './io.js';
import { testMappingFile } from './mappings-test.js';
import { validateMappingFiles } from './mappings-validate.js';

const USAGE = `usage:
  evidence-hub mappings validate <file>...
      Check mapping files (YAML or JSON) against the rule schema; prints "file: pointer: message" per problem.
  evidence-hub mappings test <rules-file> --fixtures <dir-or-file>
      Evaluate the rules on fixture data ({now?, data, expect: {rule_id: result}}) and compare the results.`;

export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    io.err(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return EXIT.usage;
  }
  const { positionals, values } = parsed;
  const [group, command, ...rest] = positionals;
  if (values.help || positionals.length === 0) {
    io.out(USAGE);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  if (group === 'mappings' && command === 'validate') return validateMappingFiles(rest, io);
  if (group === 'mappings' && command === 'test') {
    const [rulesFile, extra] = rest;
    if (rulesFile === undefined || extra !== undefined || values.fixtures === undefined) {
      io.err(`usage: evidence-hub mappings test <rules-file> --fixtures <dir-or-file>`);
      return EXIT.usage;
    }
    return testMappingFile(rulesFile, values.fixtures, io);
  }
  io.err(`unknown command: ${positionals.join(' ')}\n${USAGE}`);
  return EXIT.usage;
}

function parseCommandLine(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { fixtures: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
}
