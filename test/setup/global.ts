/**
 * Started once per `vitest run`: one Temporal dev server, one PostgreSQL server (both through
 * the project's own scripts and modules), and the workflow bundle, shared by every test file.
 * `HUB_TEST_SERVICES=none` skips them for pure unit runs.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { findOrBuildTemporalCli } from '../../temporal/cli-binary.js';
import { freePort, startDevServer, type DevServer } from '../../temporal/dev-server.js';
import { workflowsPath } from '../../worker/worker.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string | null;
    databaseUrl: string | null;
    motoUrl: string | null;
    workflowBundleCode: string | null;
  }
}

export default async function setup(project: TestProject) {
  if (process.env.HUB_TEST_SERVICES === 'none') {
    project.provide('temporalAddress', null);
    project.provide('databaseUrl', null);
    project.provide('motoUrl', null);
    project.provide('workflowBundleCode', null);
    return;
  }
  const teardown: (() => Promise<unknown>)[] = [];

  // The web console, as `npm run build` makes it (skipped when dist/console is up to date).
  // Outside CI, a console mid-edit that does not build leaves the last good build in place.
  await run(process.execPath, [path.join(root, 'scripts/build-console.mjs'), '--quiet']).catch((err: { stderr?: string }) => {
    if (process.env.CI || !existsSync(path.join(root, 'dist/console/index.html'))) throw err;
    console.warn(`the console did not build; the tests use the last build:\n${err.stderr ?? ''}`);
  });

  const binary = await findOrBuildTemporalCli({
    configuredPath: process.env.TEMPORAL_CLI_PATH || null,
    progress: (line) => console.log(line),
  });
  const server: DevServer = await startDevServer({ binary, dbFile: null, port: await freePort(), uiPort: null, namespace: 'default' });
  teardown.push(() => server.stop());
  project.provide('temporalAddress', server.address);

  let databaseUrl = process.env.TEST_DATABASE_URL || null;
  if (!databaseUrl) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hub-test-pg-'));
    await chmod(dir, 0o777); // the server runs as 'postgres' when tests run as root
    const pgData = path.join(dir, 'data');
    const { stdout } = await run('bash', [path.join(root, 'scripts/postgres.sh'), 'start', pgData, String(await freePort())]);
    databaseUrl = stdout.trim();
    teardown.push(async () => {
      await run('bash', [path.join(root, 'scripts/postgres.sh'), 'stop', pgData]);
      await rm(dir, { recursive: true, force: true });
    });
  }
  project.provide('databaseUrl', databaseUrl);

  // moto in server mode, for the AWS connector (scripts/moto.sh installs it when missing).
  const motoPort = await freePort();
  const moto = spawn('bash', [path.join(root, 'scripts/moto.sh'), String(motoPort)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let motoErr = '';
  moto.stderr.on('data', (c: Buffer) => { motoErr = (motoErr + c.toString()).slice(-2000); });
  teardown.push(async () => { moto.kill('SIGTERM'); });
  await waitForHttp(`http://127.0.0.1:${motoPort}/moto-api/`, 120_000).catch((err: Error) => { throw new Error(`moto did not start: ${err.message}\n${motoErr}`); });
  project.provide('motoUrl', `http://127.0.0.1:${motoPort}`);

  const bundle = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: console.warn, error: console.error } });
  project.provide('workflowBundleCode', bundle.code);

  return async () => {
    for (const step of teardown.reverse()) await step().catch((err: unknown) => console.error(err));
  };
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then((r) => r.status < 500, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}
