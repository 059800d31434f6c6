import { execFile, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../temporal/dev-server.js';
import { eventually } from '../helpers/hub.js';

const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

/** What `npm start` does: build (once), then start dist/main.js, whose worker loads the prebuilt workflow bundle. */
describe('the built hub', () => {
  it('builds once, rebuilds nothing the second time, and runs workflows from the bundle the build made', async () => {
    await run(process.execPath, [path.join(root, 'scripts/build.mjs')], { cwd: root });
    const stamp = statSync(path.join(root, 'dist/.compiled')).mtimeMs;
    const bundle = statSync(path.join(root, 'dist/workflow-bundle.js')).mtimeMs;
    const second = await run(process.execPath, [path.join(root, 'scripts/build.mjs')], { cwd: root });
    expect(second.stderr).toBe('');
    expect(statSync(path.join(root, 'dist/.compiled')).mtimeMs).toBe(stamp);
    expect(statSync(path.join(root, 'dist/workflow-bundle.js')).mtimeMs).toBe(bundle);

    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hub-built-'));
    const [port, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
    const child = spawn(process.execPath, ['dist/main.js', 'all'], {
      cwd: root,
      env: { ...process.env, PORT: String(port), HUB_DATA_DIR: dataDir, HUB_TEMPORAL_PORT: String(temporalPort), HUB_TEMPORAL_UI_PORT: String(uiPort), TEMPORAL_ADDRESS: '', DATABASE_URL: '', HUB_ADMIN_KEY: 'ehk_builtstarttestkey000000000000000000000', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
    try {
      const base = `http://127.0.0.1:${port}`;
      await eventually(async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 200, { timeoutMs: 90_000, intervalMs: 250 });
      expect(output).toContain(`prebuilt bundle ${path.join(root, 'dist/workflow-bundle.js')}`);
      expect(output).not.toContain('bundled at start');
      // A workflow runs from it: the diagnostic goes API → Temporal → worker → database.
      const headers = { 'x-api-key': 'ehk_builtstarttestkey000000000000000000000' };
      const started = await fetch(`${base}/api/v1/diagnostics`, { method: 'POST', headers });
      expect(started.status).toBe(202);
      const location = started.headers.get('location')!;
      const done = await eventually(async () => {
        const body = await (await fetch(base + location, { headers })).json() as { status: string };
        return body.status === 'completed' ? body : null;
      }, { timeoutMs: 60_000, intervalMs: 250 });
      expect(done.status).toBe('completed');
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
