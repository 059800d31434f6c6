import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { caller, startTestHub } from '../helpers/hub.js';

describe('restart with the same HUB_DATA_DIR', () => {
  it('keeps keys, workspaces and data; generates the admin key once and saves it with mode 0600', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hub-restart-'));
    try {
      const first = await startTestHub({ dataDir });
      expect(first.hub.bootstrap?.generatedKey).toMatch(/^ehk_/);
      expect((await stat(path.join(dataDir, 'admin-key'))).mode & 0o777).toBe(0o600);
      const ws = await first.call('POST', '/api/v1/workspaces', { json: { name: 'kept' } });
      const key = await first.call('POST', '/api/v1/api-keys', { json: { name: 'kept-key', scopes: ['runs:read'] } });
      await first.stop();

      const second = await startTestHub({ dataDir });
      try {
        expect(second.hub.bootstrap?.generatedKey).toBeNull(); // not printed again
        expect(second.adminKey).toBe(first.adminKey);
        expect((await second.call('GET', `/api/v1/workspaces/${ws.body.id}`)).body.name).toBe('kept');
        expect((await caller(second.url, key.body.key)('GET', '/api/v1/me')).status).toBe(200);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('registers HUB_ADMIN_KEY as the bootstrap key and generates none; once revoked it stays revoked across restarts', async () => {
    const adminKey = 'ehk_' + 'k'.repeat(43);
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hub-adminkey-'));
    const t = await startTestHub({ dataDir, env: { HUB_ADMIN_KEY: adminKey } });
    let keyId: string;
    try {
      expect(t.hub.bootstrap?.generatedKey).toBeNull();
      const me = await t.call('GET', '/api/v1/me');
      expect(me.body.scopes).toEqual(['admin', 'workspaces:admin']);
      await expect(stat(path.join(t.dataDir, 'admin-key'))).rejects.toThrow();
      keyId = me.body.key_id;
      expect((await t.call('DELETE', `/api/v1/api-keys/${keyId}`)).status).toBe(204);
    } finally {
      await t.stop();
    }
    const again = await startTestHub({ dataDir, env: { HUB_ADMIN_KEY: adminKey } });
    try {
      expect((await again.call('GET', '/api/v1/me')).status).toBe(401);
    } finally {
      await again.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
