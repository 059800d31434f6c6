import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretSealer, loadMasterKey, parseMasterKey } from '../../lib/sealed-secrets.js';
import { BACKENDS, startTestHub, type TestHub } from '../helpers/hub.js';

describe('SecretSealer (AES-256-GCM)', () => {
  const sealer = new SecretSealer(randomBytes(32));

  it('round-trips and never contains the plaintext', () => {
    const sealed = sealer.seal('hunter2-very-secret', 'ws/connection/c1/token');
    expect(sealed).not.toContain('hunter2');
    expect(sealed.startsWith('v1.')).toBe(true);
    expect(sealer.open(sealed, 'ws/connection/c1/token')).toBe('hunter2-very-secret');
    expect(sealer.seal('same', 'c')).not.toBe(sealer.seal('same', 'c')); // fresh IV each time
  });

  it('refuses a ciphertext moved to another place or tampered with', () => {
    const sealed = sealer.seal('value', 'ws-a/webhook/w1/secret');
    expect(() => sealer.open(sealed, 'ws-b/webhook/w1/secret')).toThrow();
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[3]!, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    parts[3] = flipped.toString('base64url');
    expect(() => sealer.open(parts.join('.'), 'ws-a/webhook/w1/secret')).toThrow();
    expect(() => new SecretSealer(randomBytes(32)).open(sealed, 'ws-a/webhook/w1/secret')).toThrow();
  });

  it('takes HUB_MASTER_KEY as base64 or hex, else generates one into the data dir with mode 0600', async () => {
    const key = randomBytes(32);
    expect(parseMasterKey(key.toString('base64')).equals(key)).toBe(true);
    expect(parseMasterKey(key.toString('hex')).equals(key)).toBe(true);
    expect(() => parseMasterKey('too-short')).toThrow(/32 random bytes/);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hub-mk-'));
    const generated = await loadMasterKey(null, dir);
    expect((await stat(path.join(dir, 'master-key'))).mode & 0o777).toBe(0o600);
    expect((await loadMasterKey(null, dir)).equals(generated)).toBe(true);
    expect(Buffer.from((await readFile(path.join(dir, 'master-key'), 'utf8')).trim(), 'base64').equals(generated)).toBe(true);
  });
});

describe.each(BACKENDS)('secrets at rest in the database (%s)', (backend) => {
  let t: TestHub;
  beforeAll(async () => { t = await startTestHub({ backend }); });
  afterAll(async () => { await t?.stop(); });

  it('stores only sealed values: the plaintext is nowhere in the table', async () => {
    const owner = { workspaceId: 'default', type: 'connection', id: 'conn_test' };
    const plaintext = { api_token: `00aBcD-${randomBytes(12).toString('hex')}`, client_secret: `cs-${randomBytes(12).toString('hex')}` };
    await t.hub.secrets.put(owner, plaintext);
    const rows = await t.hub.db.query('SELECT * FROM secrets');
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(plaintext.api_token);
    expect(dump).not.toContain(plaintext.client_secret);
    expect(await t.hub.secrets.get(owner)).toEqual(plaintext);
    expect(await t.hub.secrets.names(owner)).toEqual(['api_token', 'client_secret']);

    // A sealed value copied to another owner does not open there.
    await t.hub.db.query(`INSERT INTO secrets (workspace_id, owner_type, owner_id, name, sealed) SELECT workspace_id, owner_type, 'conn_thief', name, sealed FROM secrets WHERE owner_id = 'conn_test'`);
    await expect(t.hub.secrets.get({ ...owner, id: 'conn_thief' })).rejects.toThrow();
    expect(t.logs.join('\n')).not.toContain(plaintext.api_token);
  });
});
