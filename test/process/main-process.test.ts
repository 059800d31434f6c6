import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findOrBuildTemporalCli } from '../../temporal/cli-binary.js';
import { freePort } from '../../temporal/dev-server.js';
import { eventually } from '../helpers/hub.js';

const root = path.resolve(import.meta.dirname, '../..');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the hub as a process (what `npm start` runs)', () => {
  it('serves /healthz and /readyz with an embedded Temporal server, and SIGINT stops everything with no orphan', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hub-main-'));
    const [port, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
    const child = spawn(process.execPath, ['--import', 'tsx', 'main.ts', 'all'], {
      cwd: root,
      env: { ...process.env, PORT: String(port), HUB_DATA_DIR: dataDir, HUB_TEMPORAL_PORT: String(temporalPort), HUB_TEMPORAL_UI_PORT: String(uiPort), TEMPORAL_ADDRESS: '', DATABASE_URL: '', HUB_ADMIN_KEY: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    try {
      const base = `http://127.0.0.1:${port}`;
      // On a timeout, say what the hub wrote: a start that never became ready is otherwise a bare "condition not met".
      await eventually(async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 200, { timeoutMs: 90_000, intervalMs: 250 })
        .catch((err: Error) => { throw new Error(`${err.message}; exit code ${child.exitCode}; stderr: ${stderr.slice(-2000)}; stdout: ${stdout.slice(-2000)}`); });
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect(stderr).toContain(`Temporal UI:  http://127.0.0.1:${uiPort}`);
      expect(stderr).toMatch(/Admin key: +ehk_/);
      expect((await fetch(`http://127.0.0.1:${uiPort}/`)).status).toBe(200);

      const started = stdout.split('\n').find((l) => l.includes('embedded Temporal dev server started'));
      const temporalPid = (JSON.parse(started!) as { pid: number }).pid;
      expect(alive(temporalPid)).toBe(true);

      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      await eventually(async () => !alive(temporalPid), { timeoutMs: 15_000 });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('with TEMPORAL_ADDRESS it starts no server of its own', async () => {
    const { loadConfig } = await import('../../config.js');
    const { startHub } = await import('../../hub.js');
    const { createLogger } = await import('../../lib/logger.js');
    const config = loadConfig({ TEMPORAL_ADDRESS: '127.0.0.1:1', HUB_DATA_DIR: path.join(os.tmpdir(), 'unused'), DATABASE_URL: '' });
    // Split roles require an external Temporal and a shared database, and say so.
    await expect(startHub({ ...config, temporal: { ...config.temporal, address: null } }, 'api', { logger: createLogger('silent') })).rejects.toThrow(/TEMPORAL_ADDRESS/);
    await expect(startHub(config, 'worker', { logger: createLogger('silent') })).rejects.toThrow(/DATABASE_URL/);
  });

  it('says exactly what to do when no Temporal CLI can be found or built', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'hub-nocli-'));
    await expect(findOrBuildTemporalCli({ configuredPath: null, envPath: empty, cacheDir: path.join(empty, 'cache') })).rejects.toThrow(
      /install Go[\s\S]*go install github\.com\/temporalio\/cli\/cmd\/temporal@v1\.5\.1[\s\S]*TEMPORAL_CLI_PATH[\s\S]*TEMPORAL_ADDRESS/,
    );
    await expect(findOrBuildTemporalCli({ configuredPath: path.join(empty, 'missing'), envPath: empty })).rejects.toThrow(/not an executable/);
    await rm(empty, { recursive: true, force: true });
  });
});
