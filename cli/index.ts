/**
 * The evidence-hub command line, for GitOps workflows around mapping files:
 *
 *   evidence-hub mappings validate <files…>
 *   evidence-hub mappings test <rules-file> --fixtures <dir-or-file>
 *   evidence-hub mappings preview <rules-file> --data <file> | --url <hub> --snapshot <id>…
 *   evidence-hub admin-key create [--name <name>]
 *   evidence-hub power-automate export --out <dir> [--public-url <url>]
 *   evidence-hub mcp --url <hub>
 *
 * `main` returns the exit code instead of exiting, so tests can call it in-process.
 */
import { parseArgs } from 'node:util';
import { EXIT, processIo, type CliIo } from './io.js';
import { testMappingFile } from './mappings-test.js';
import { previewMappingFile } from './mappings-preview.js';
import { validateMappingFiles } from './mappings-validate.js';
import { createAdminKeyCommand } from './admin-key.js';
import { exportPowerAutomateConnector } from './power-automate.js';
import { runMcpStdio } from './mcp.js';

const USAGE = `usage:
  evidence-hub mappings validate <file>...
      Check mapping files (YAML or JSON) against the rule schema; prints "file: pointer: message" per problem.
  evidence-hub mappings test <rules-file> --fixtures <dir-or-file>
      Evaluate the rules on fixture data ({now?, data, expect: {rule_id: result}}) and compare the results.
  evidence-hub mappings preview <rules-file> --data <file>
  evidence-hub mappings preview <rules-file> --url <hub> --snapshot <id> [--snapshot <id>…]
      What the rules produce, per rule: on sample data ({"dataset": [records]}) evaluated here, or on
      snapshots the hub collected, by the hub (key from EVIDENCE_HUB_API_KEY). Exit 1 when a rule errors.
  evidence-hub admin-key create [--name <name>]
      Create a new admin key (admin + workspaces:admin in the default workspace) in the hub's database
      (HUB_DATA_DIR, or DATABASE_URL); prints it once. Refuses while a hub has the same data directory open.
  evidence-hub power-automate export --out <dir> [--public-url <url>]
      Write the Power Automate custom connector (apiDefinition.swagger.json, apiProperties.json, icon.png)
      for the hub at --public-url (else HUB_PUBLIC_URL, else http://localhost:8080); needs no database.
  evidence-hub mcp --url <hub>
      The hub's MCP server over stdio, for desktop assistants: each tool calls the hub's HTTP API
      with the key from EVIDENCE_HUB_API_KEY (and EVIDENCE_HUB_WORKSPACE_ID for a workspaces:admin key).`;

export async function main(argv: readonly string[], io: CliIo = processIo, env: Record<string, string | undefined> = process.env): Promise<number> {
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
  if (group === 'admin-key' && command === 'create' && rest.length === 0) return createAdminKeyCommand(io, env, values.name);
  if (group === 'power-automate' && command === 'export') {
    if (rest.length !== 0 || values.out === undefined) {
      io.err('usage: evidence-hub power-automate export --out <dir> [--public-url <url>]');
      return EXIT.usage;
    }
    return exportPowerAutomateConnector(values.out, values['public-url'] || env.HUB_PUBLIC_URL || undefined, io, env);
  }
  if (group === 'mcp') {
    if (command !== undefined || values.url === undefined) {
      io.err('usage: evidence-hub mcp --url <hub>   (key from EVIDENCE_HUB_API_KEY)');
      return EXIT.usage;
    }
    return runMcpStdio({ url: values.url, env, io });
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
  if (group === 'mappings' && command === 'preview') {
    const [rulesFile, extra] = rest;
    const online = values.url !== undefined;
    if (rulesFile === undefined || extra !== undefined || online === (values.data !== undefined) || (online && !values.snapshot?.length)) {
      io.err('usage: evidence-hub mappings preview <rules-file> --data <file> | --url <hub> --snapshot <id>…');
      return EXIT.usage;
    }
    return previewMappingFile(rulesFile, { data: values.data, url: values.url, snapshots: values.snapshot, apiKey: env.EVIDENCE_HUB_API_KEY }, io);
  }
  io.err(`unknown command: ${positionals.join(' ')}\n${USAGE}`);
  return EXIT.usage;
}

function parseCommandLine(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      fixtures: { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      data: { type: 'string' }, url: { type: 'string' }, snapshot: { type: 'string', multiple: true },
      out: { type: 'string' }, 'public-url': { type: 'string' },
    },
  });
}
