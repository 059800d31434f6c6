#!/usr/bin/env node
/**
 * Builds the web console into dist/console (or the folder given with --out): one bundle per
 * entry with content-hashed names (served with a year-long immutable cache), an index.html
 * that names them (served with no-cache), and a gzip and a brotli copy of every text asset,
 * made here once so that the hub only picks a file. Prints the first page's JavaScript size
 * gzipped, which must stay under 150 KB.
 *
 * Skips the work when the output is newer than every source file (a second `npm start` does
 * no build work); `--force` rebuilds anyway.
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'console');
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const target = path.resolve(outIndex >= 0 ? args[outIndex + 1] : path.join(root, 'dist', 'console'));
// Built beside the target and swapped in at the end: a failed build leaves the last good one,
// and a running hub never reads a half-written console.
const out = `${target}.building-${process.pid}`;
const force = args.includes('--force');
const quiet = args.includes('--quiet');
const FIRST_PAGE_BUDGET_BYTES = 150 * 1024;

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

const targetManifest = path.join(target, 'manifest.json');
const manifestPath = path.join(out, 'manifest.json');
const inputsMtime = Math.max(newestMtime(source), statSync(fileURLToPath(import.meta.url)).mtimeMs, statSync(path.join(root, 'package-lock.json')).mtimeMs);
if (!force && existsSync(targetManifest) && statSync(targetManifest).mtimeMs > inputsMtime) {
  if (!quiet) console.log(`console: up to date in ${path.relative(root, target) || target}`);
  process.exit(0);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(path.join(out, 'assets'), { recursive: true });

process.on('exit', () => rmSync(out, { recursive: true, force: true }));
const result = await build({
  entryPoints: { app: path.join(source, 'src', 'main.tsx') },
  bundle: true,
  splitting: true,
  format: 'esm',
  target: ['chrome109', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: 'linked',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: path.join(out, 'assets'),
  entryNames: '[name]-[hash]',
  chunkNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
  loader: { '.css': 'css' },
});

const outputs = result.metafile.outputs;
const entry = Object.entries(outputs).find(([, o]) => o.entryPoint && o.entryPoint.endsWith('main.tsx'));
if (!entry) throw new Error('console build: no entry output');
const [entryFile, entryOutput] = entry;
const assetUrl = (file) => '/' + path.relative(out, path.resolve(root, file)).split(path.sep).join('/');
const script = assetUrl(entryFile);
const stylesFile = entryOutput.cssBundle;
if (!stylesFile) throw new Error('console build: the entry imports no stylesheet');

const html = readFileSync(path.join(source, 'index.html'), 'utf8').replace('%SCRIPT%', script).replace('%STYLES%', assetUrl(stylesFile));
writeFileSync(path.join(out, 'index.html'), html);
writeFileSync(path.join(out, 'favicon.svg'), readFileSync(path.join(source, 'favicon.svg')));

// Precompressed copies of every text asset: the hub serves the smallest one the browser accepts.
const compressible = /\.(js|css|svg|json|map|txt)$/; // pages carry a per-request nonce: served as they are
function compressAll(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) { compressAll(full); continue; }
    if (!compressible.test(entry.name)) continue;
    const bytes = readFileSync(full);
    writeFileSync(full + '.gz', gzipSync(bytes, { level: 9 }));
    writeFileSync(full + '.br', brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } }));
  }
}
compressAll(out);

// The first page loads the entry and the chunks it imports statically (lazy pages load later).
const firstPage = new Set();
const visit = (file) => {
  if (firstPage.has(file)) return;
  firstPage.add(file);
  for (const imported of outputs[file]?.imports ?? []) if (imported.kind === 'import-statement') visit(imported.path);
};
visit(entryFile);
const gzipped = [...firstPage].reduce((sum, file) => sum + gzipSync(readFileSync(path.resolve(root, file)), { level: 9 }).length, 0);
const manifest = {
  script, styles: assetUrl(stylesFile),
  first_page_js_gzip_bytes: gzipped,
  built_at: new Date().toISOString(),
  digest: createHash('sha256').update(html).digest('hex').slice(0, 16),
};
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
if (gzipped > FIRST_PAGE_BUDGET_BYTES) {
  console.error(`console: the first page JavaScript is ${kb(gzipped)} gzipped, over its budget of ${kb(FIRST_PAGE_BUDGET_BYTES)}; load the heavy parts lazily (import()).`);
  process.exit(1);
}
writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
rmSync(target, { recursive: true, force: true });
renameSync(out, target);
console.log(`console: built into ${path.relative(root, target) || target}; first page JavaScript ${kb(gzipped)} gzipped (budget ${kb(FIRST_PAGE_BUDGET_BYTES)})`);
