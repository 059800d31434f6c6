#!/usr/bin/env node
// Launcher: the compiled CLI (dist/cli/index.js) when the project is built, otherwise the
// TypeScript source run through tsx, so the command works straight from a checkout (also when
// EVIDENCE_HUB_FROM_SOURCE=1: a developer's edits count before the next build).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
const compiled = new URL('dist/cli/index.js', root);

async function loadCli() {
  if (!process.env.EVIDENCE_HUB_FROM_SOURCE && existsSync(fileURLToPath(compiled))) return import(compiled.href);
  const { tsImport } = await import('tsx/esm/api');
  return tsImport(new URL('cli/index.ts', root).href, import.meta.url);
}

const { main } = await loadCli();
process.exitCode = await main(process.argv.slice(2));
