import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { caller, startTestHub } from '../helpers/hub.js';

const root = path.resolve(import.meta.dirname, '../..');

/** `npx evidence-hub admin-key create`, as an operator runs it: its own process, the hub's environment. */
async function adminKeyCreate(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [path.join(root, 'bin/evidence-hub.mjs'), 'admin-key', 'create'], {
      cwd: root, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the bootstrap key stays revoked', () => {
  it('revoked, then restarted: no new admin key in the API, the key file or the log; admin-key create refuses while the hub runs, then prints one that works', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hub-revoke-'));
    const env = { HUB_DATA_DIR: dataDir, TEMPORAL_ADDRESS: '127.0.0.1:9' };
    try {
      const first = await startTestHub({ dataDir });
      const bootstrapKey = first.adminKey;
      const me = await first.call('GET', '/api/v1/me');
      expect((await first.call('DELETE', `/api/v1/api-keys/${me.body.key_id}`)).status).toBe(204);
      await first.stop();

      const second = await startTestHub({ dataDir });
      try {
        expect(second.hub.bootstrap).toMatchObject({ generatedKey: null, revoked: true });
        expect(second.logs.join('\n')).not.toMatch(/ehk_/);
        // The key file still holds the revoked key, and nothing else.
        expect((await readFile(path.join(dataDir, 'admin-key'), 'utf8')).trim()).toBe(bootstrapKey);
        expect((await caller(second.url, bootstrapKey)('GET', '/api/v1/me')).status).toBe(401);
        const live = await second.hub.db.query('SELECT id FROM api_keys WHERE revoked_at IS NULL');
        expect(live).toEqual([]);

        // A hub holds the embedded database: the command must not open it too.
        const refused = await adminKeyCreate(env);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toMatch(/Stop the hub first, or run this command against .*DATABASE_URL/);
        expect(refused.stdout).toBe('');
      } finally {
        await second.stop();
      }

      await chmod(path.join(dataDir, 'admin-key'), 0o644); // loosened by hand: written 0600 again
      const created = await adminKeyCreate(env);
      expect(created.code, created.stderr).toBe(0);
      const newKey = created.stdout.trim();
      expect(newKey).toMatch(/^ehk_[A-Za-z0-9_-]{40,}$/);
      expect(created.stderr).toContain('shown once');
      expect((await stat(path.join(dataDir, 'admin-key'))).mode & 0o777).toBe(0o600);
      expect((await readFile(path.join(dataDir, 'admin-key'), 'utf8')).trim()).toBe(newKey);

      const third = await startTestHub({ dataDir });
      try {
        expect(third.hub.bootstrap?.generatedKey).toBeNull();
        const again = await caller(third.url, newKey)('GET', '/api/v1/me');
        expect(again.status).toBe(200);
        expect(again.body.scopes).toEqual(['admin', 'workspaces:admin']);
      } finally {
        await third.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
