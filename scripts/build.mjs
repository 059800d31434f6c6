#!/usr/bin/env node
/**
 * `npm run build` (which `npm start` runs): compiles the hub into dist/, copies the packs and
 * framework catalogs, builds the web console and bundles the workflow code for the worker.
 * Each step is skipped when its output is newer than everything it is made from, so a second
 * `npm start` does no compile work; `--force` rebuilds all.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const force = process.argv.includes('--force');
const say = (line) => process.stderr.write(`${line}\n`);

/** The newest modification time under these paths (files or folders), 0 when none exist. */
function newest(paths, accept = () => true) {
  let latest = 0;
  const visit = (full) => {
    if (!existsSync(full)) return;
    const stat = statSync(full);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(full)) if (entry !== 'node_modules' && entry !== 'dist' && !entry.startsWith('.')) visit(path.join(full, entry));
    } else if (accept(full)) latest = Math.max(latest, stat.mtimeMs);
  };
  for (const p of paths) visit(path.join(root, p));
  return latest;
}
const mtime = (file) => (existsSync(file) ? statSync(file).mtimeMs : 0);
const stale = (output, inputs) => force || mtime(output) === 0 || mtime(output) < inputs;

// 1. TypeScript, as tsconfig.build.json names it.
const sourceDirs = ['api', 'activities', 'workflows', 'connectors', 'mappings', 'store', 'temporal', 'worker', 'lib', 'webhooks', 'cli'];
const rootFiles = readdirSync(root).filter((f) => f.endsWith('.ts'));
const tsStamp = path.join(dist, '.compiled');
const tsInputs = Math.max(newest([...sourceDirs, ...rootFiles], (f) => f.endsWith('.ts') && !f.endsWith('.test.ts')), mtime(path.join(root, 'tsconfig.json')), mtime(path.join(root, 'tsconfig.build.json')), mtime(path.join(root, 'package-lock.json')));
if (stale(tsStamp, tsInputs)) {
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  mkdirSync(dist, { recursive: true });
  writeFileSync(tsStamp, new Date().toISOString() + '\n');
}

// 2. Data the compiled code reads beside itself.
cpSync(path.join(root, 'mappings/packs'), path.join(dist, 'mappings/packs'), { recursive: true });
for (const f of readdirSync(path.join(root, 'mappings/frameworks')).filter((f) => f.endsWith('.json'))) {
  cpSync(path.join(root, 'mappings/frameworks', f), path.join(dist, 'mappings/frameworks', f));
}

// 3. The web console (it skips itself when up to date).
execFileSync(process.execPath, [path.join(root, 'scripts/build-console.mjs'), ...(force ? ['--force'] : []), '--quiet'], { stdio: 'inherit' });

// 4. The workflow bundle the worker loads (instead of running webpack at every start).
const bundle = path.join(dist, 'workflow-bundle.js');
if (stale(bundle, Math.max(newest(['dist/workflows']), mtime(tsStamp)))) {
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: (m) => say(m), error: (m) => say(m) };
  const { code } = await bundleWorkflowCode({ workflowsPath: path.join(dist, 'workflows/index.js'), logger: quiet });
  writeFileSync(bundle, code);
  say(`workflows: bundled into dist/workflow-bundle.js (${Math.round(code.length / 1024)} KB)`);
}
