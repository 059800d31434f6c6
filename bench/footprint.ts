/**
 * Footprint of the embedded hub: builds it once (`npm run build`), then starts it as
 * `npm start` does (`node dist/main.js all`, a fresh data dir, PGlite, the embedded Temporal
 * dev server) and reports, for a first and a second start on the same data: the time from
 * spawn to `/readyz` 200, the hub process's idle RSS (VmRSS of the node process) and heap (a
 * Node.js diagnostic report, `--report-on-signal`), and the Temporal server's RSS apart. The
 * same with DATABASE_URL (a throwaway PostgreSQL, as the tests start it). Then the idle RSS
 * broken down by part, each part alone in a process of its own (bench/footprint-part.mjs),
 * and what each PGlite setting and Temporal worker option changes.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { findOrBuildTemporalCli } from '../temporal/cli-binary.js';
import { freePort, startDevServer } from '../temporal/dev-server.js';
import { PGLITE_SETTINGS } from '../store/db.js';
import { table } from './util.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const MB = 1024;

function vmRssKb(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.split(/\s+/)[1]) : 0;
  } catch {
    return 0;
  }
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Waits until the process's RSS moved less than 2 MB over the last 5 s (at most 60 s). */
async function waitIdle(pid: number): Promise<number> {
  const samples: number[] = [];
  const deadline = Date.now() + 60_000;
  for (;;) {
    samples.push(vmRssKb(pid));
    const last = samples.slice(-11);
    if ((last.length === 11 && Math.max(...last) - Math.min(...last) < 2 * MB) || Date.now() > deadline) return samples.at(-1)!;
    await new Promise((r) => setTimeout(r, 500));
  }
}

interface StartFigures {
  start: string;
  readyMs: number;
  hubRssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  temporalRssMb: number | null;
}

/** A diagnostic report of the running hub (SIGUSR2, see the spawn flags): its JavaScript heap. */
async function heapOf(child: ChildProcess, reportDir: string): Promise<{ used: number; total: number }> {
  const before = new Set(await readdir(reportDir));
  child.kill('SIGUSR2');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const fresh = (await readdir(reportDir)).filter((f) => !before.has(f) && f.endsWith('.json'));
    if (fresh.length) {
      await new Promise((r) => setTimeout(r, 200));
      const report = JSON.parse(await readFile(path.join(reportDir, fresh[0]!), 'utf8')) as { javascriptHeap: { usedMemory: number; totalMemory: number } };
      return { used: report.javascriptHeap.usedMemory, total: report.javascriptHeap.totalMemory };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no diagnostic report written');
}

/**
 * The environment and Node.js flags `npm start` runs the hub with (package.json, after the
 * build step: `NAME=value … node --flag … dist/main.js all`), so that the hub is measured as it
 * is started; FOOTPRINT_NODE_FLAGS, when set, replaces the flags (to try others).
 */
function npmStart(): { env: Record<string, string>; flags: string[] } {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.split('&&').at(-1)!.trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (words[0]?.includes('=')) {
    const [name, value] = words.shift()!.split('=') as [string, string];
    env[name] = value;
  }
  if (words.shift() !== 'node') throw new Error(`npm start does not run node: ${pkg.scripts.start}`);
  const flags = words.slice(0, words.indexOf('dist/main.js'));
  const tried = process.env.FOOTPRINT_NODE_FLAGS;
  return { env, flags: tried === undefined ? flags : tried.split(' ').filter(Boolean) };
}

async function startOnce(label: string, dataDir: string, env: Record<string, string>): Promise<StartFigures> {
  const [port, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  const reportDir = await mkdtemp(path.join(os.tmpdir(), 'hub-bench-report-'));
  const started = performance.now();
  const { env: startEnv, flags } = npmStart();
  const child = spawn(process.execPath, [...flags, '--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${reportDir}`, path.join(root, 'dist/main.js'), 'all'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), HUB_HOST: '127.0.0.1', HUB_DATA_DIR: dataDir, HUB_TEMPORAL_PORT: String(temporalPort), HUB_TEMPORAL_UI_PORT: String(uiPort), LOG_LEVEL: 'warn', DATABASE_URL: '', ...startEnv, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-4000); });
  try {
    let readyMs = 0;
    while (!readyMs) {
      if (child.exitCode !== null) throw new Error(`the hub exited with ${child.exitCode}:\n${stderr}`);
      if (performance.now() - started > 180_000) throw new Error(`no /readyz 200 within 180 s:\n${stderr}`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false);
      if (ok) readyMs = performance.now() - started;
      else await new Promise((r) => setTimeout(r, 50));
    }
    const hubRssKb = await waitIdle(child.pid!);
    const temporal = childPids(child.pid!).map(vmRssKb).reduce((a, b) => a + b, 0);
    const heap = await heapOf(child, reportDir);
    return {
      start: label,
      readyMs: Math.round(readyMs),
      hubRssMb: Math.round(hubRssKb / MB),
      heapUsedMb: Math.round(heap.used / 2 ** 20),
      heapTotalMb: Math.round(heap.total / 2 ** 20),
      temporalRssMb: env.TEMPORAL_ADDRESS ? null : Math.round(temporal / MB),
    };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    await rm(reportDir, { recursive: true, force: true });
  }
}

/** A part alone in its own process (bench/footprint-part.mjs): its idle figures, then it is stopped. */
async function part(args: string[]): Promise<{ rssKb: number; heapUsed: number; openMs?: number; settings?: Record<string, string> }> {
  // With the environment and Node.js flags npm start gives the hub, so that the parts add up to it.
  const start = npmStart();
  const child = spawn(process.execPath, [...start.flags, path.join(import.meta.dirname, 'footprint-part.mjs'), ...args], { cwd: root, env: { ...process.env, ...start.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-4000); });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (c: Buffer) => { out += c.toString(); if (out.includes('\n')) resolve(out.split('\n')[0]!); });
      child.once('exit', (code) => reject(new Error(`footprint-part ${args[0]} exited with ${code}:\n${stderr}`)));
    });
    return JSON.parse(line) as { rssKb: number; heapUsed: number };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    if (child.exitCode === null) child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(force);
  }
}

/** The median of `n` runs of a part, by RSS (one process's RSS varies by some MB from run to run). */
async function partMedian(args: string[], n = 3) {
  const runs = [];
  for (let i = 0; i < n; i++) runs.push(await part(args));
  runs.sort((a, b) => a.rssKb - b.rssKb);
  return runs[Math.floor(n / 2)]!;
}

async function startPostgres(): Promise<{ url: string; stop: () => Promise<void> } | null> {
  if (process.env.TEST_DATABASE_URL) return { url: process.env.TEST_DATABASE_URL, stop: async () => undefined };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hub-bench-pg-'));
  await chmod(dir, 0o777); // the server runs as 'postgres' when this runs as root
  const pgData = path.join(dir, 'data');
  try {
    const { stdout } = await run('bash', [path.join(root, 'scripts/postgres.sh'), 'start', pgData, String(await freePort())]);
    return {
      url: stdout.trim(),
      stop: async () => {
        await run('bash', [path.join(root, 'scripts/postgres.sh'), 'stop', pgData]);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    console.log(`PostgreSQL not available, DATABASE_URL rows skipped: ${(err as Error).message.split('\n')[0]}`);
    await rm(dir, { recursive: true, force: true });
    return null;
  }
}

export async function runFootprintBench(): Promise<void> {
  const start = npmStart();
  console.log(`\n== footprint: the embedded hub at idle (npm run build, then ${[...Object.entries(start.env).map(([k, v]) => `${k}=${v}`), 'node', ...start.flags].join(' ')} dist/main.js all) ==`);
  await run('node', [path.join(root, 'scripts/build.mjs')], { cwd: root });
  const only = (process.env.FOOTPRINT_ONLY ?? 'starts,parts,pglite,worker').split(',');

  const rows: (StartFigures & { database: string })[] = [];
  const pgliteDir = await mkdtemp(path.join(os.tmpdir(), 'hub-bench-footprint-'));
  try {
    if (only.includes('starts')) {
      rows.push({ database: 'PGlite', ...(await startOnce('first', pgliteDir, {})) });
      rows.push({ database: 'PGlite', ...(await startOnce('second', pgliteDir, {})) });
      const postgres = await startPostgres();
      if (postgres) {
        const dir = await mkdtemp(path.join(os.tmpdir(), 'hub-bench-footprint-pg-'));
        try {
          rows.push({ database: 'PostgreSQL', ...(await startOnce('first', dir, { DATABASE_URL: postgres.url })) });
          rows.push({ database: 'PostgreSQL', ...(await startOnce('second', dir, { DATABASE_URL: postgres.url })) });
        } finally {
          await postgres.stop();
          await rm(dir, { recursive: true, force: true });
        }
      }
      table(rows.map((r) => ({
        database: r.database, start: r.start, 'spawn → /readyz 200 (ms)': r.readyMs, 'hub RSS idle (MB)': r.hubRssMb,
        'heap used / total (MB)': `${r.heapUsedMb} / ${r.heapTotalMb}`, 'Temporal server RSS (MB)': r.temporalRssMb ?? '—',
      })));
      const second = rows.find((r) => r.database === 'PGlite' && r.start === 'second');
      if (second) console.log(`target: hub RSS < 300 MB with PGlite (second start: ${second.hubRssMb} MB), second start < 5000 ms (${second.readyMs} ms)`);
    } else {
      // The parts below open PGlite on an existing database, as a second start does.
      await part(['pglite', pgliteDir]);
    }

    const binary = await findOrBuildTemporalCli({ configuredPath: process.env.TEMPORAL_CLI_PATH || null });
    const temporal = await startDevServer({ binary, dbFile: null, port: await freePort(), uiPort: null, namespace: 'default' });
    try {
      if (only.includes('parts')) {
        console.log('\nidle RSS by part, each alone in a process with npm start\'s flags (median of 3; a part\'s share is what it adds to bare Node.js):');
        const node = await partMedian(['node']);
        const modules = await partMedian(['modules']);
        const pglite = await partMedian(['pglite', pgliteDir]);
        const workerModules = await partMedian(['worker-modules']);
        const worker = await partMedian(['worker', temporal.address]);
        const aws = await partMedian(['aws']);
        const mb = (kb: number) => Math.round(kb / MB);
        const pgliteShare = mb(pglite.rssKb - node.rssKb);
        // The worker's modules are among the hub's modules: its share here is the running worker.
        const workerShare = mb(worker.rssKb - workerModules.rssKb);
        const modulesShare = mb(modules.rssKb - node.rssKb);
        const parts: Record<string, string | number>[] = [
          { part: 'Node.js itself', 'RSS (MB)': mb(node.rssKb) },
          { part: 'modules hub.js loads at start (Temporal SDK, Express, MCP SDK, pino, undici, …)', 'RSS (MB)': modulesShare },
          { part: 'PGlite opened and migrated (its thread, WASM memory and code, buffers)', 'RSS (MB)': pgliteShare },
          { part: 'Temporal worker running: Rust core, workflow thread and its V8 isolate (over its modules)', 'RSS (MB)': workerShare },
          { part: 'AWS SDK clients (loaded on the first AWS call; not in an idle hub)', 'RSS (MB)': `${mb(aws.rssKb - node.rssKb)} (0 at idle)` },
        ];
        const hub = rows.find((r) => r.database === 'PGlite' && r.start === 'second');
        if (hub) {
          parts.push({ part: 'the rest (hub − the above: API objects, HTTP server, pools, caches, heap growth)', 'RSS (MB)': hub.hubRssMb - mb(node.rssKb) - modulesShare - pgliteShare - workerShare });
          parts.push({ part: 'hub process, second start (measured above)', 'RSS (MB)': hub.hubRssMb });
        }
        table(parts);
      }

      if (only.includes('pglite')) {
        console.log(`\nPGlite settings (this build's default: ${JSON.stringify(PGLITE_SETTINGS)}), each alone over that default (median of 3, opened on the same database):`);
        const variants: [string, Record<string, string | null> | null][] = [
          ['PGlite\'s own default shared_buffers (128MB)', { shared_buffers: null }],
          ['this build\'s default', null],
          ['shared_buffers=128kB', { shared_buffers: '128kB' }],
          ['shared_buffers=8MB', { shared_buffers: '8MB' }],
          ['shared_buffers=16MB', { shared_buffers: '16MB' }],
          ['shared_buffers=32MB', { shared_buffers: '32MB' }],
          ['work_mem=1MB', { work_mem: '1MB' }],
          ['temp_buffers=1MB', { temp_buffers: '1MB' }],
          ['wal_buffers=256kB', { wal_buffers: '256kB' }],
          ['maintenance_work_mem=4MB', { maintenance_work_mem: '4MB' }],
        ];
        const out = [];
        for (const [label, settings] of variants) {
          const r = await partMedian(['pglite', pgliteDir, ...(settings ? [JSON.stringify(settings)] : [])]);
          out.push({ setting: label, 'RSS (MB)': Math.round(r.rssKb / MB), 'open (ms)': r.openMs ?? '', 'shared_buffers / work_mem / temp_buffers / wal_buffers / maintenance_work_mem': Object.values(r.settings ?? {}).join(' / ') });
        }
        table(out);
      }

      if (only.includes('worker')) {
        console.log('\nTemporal worker options (median of 3, a worker alone polling an empty task queue):');
        const variants: [string, Record<string, unknown>][] = [
          ['SDK defaults', {}],
          ['maxCachedWorkflows: 100', { maxCachedWorkflows: 100 }],
          ['reuseV8Context: false', { reuseV8Context: false }],
          ['workflowThreadPoolSize: 1', { workflowThreadPoolSize: 1 }],
          ['maxConcurrentWorkflowTaskExecutions: 10', { maxConcurrentWorkflowTaskExecutions: 10 }],
        ];
        const out = [];
        for (const [label, options] of variants) {
          const r = await partMedian(['worker', temporal.address, JSON.stringify(options)]);
          out.push({ option: label, 'RSS (MB)': Math.round(r.rssKb / MB), 'heap used (MB)': Math.round(r.heapUsed / 2 ** 20) });
        }
        table(out);
      }
    } finally {
      await temporal.stop();
    }
  } finally {
    await rm(pgliteDir, { recursive: true, force: true });
  }
}
