import path from 'node:path';
import { ADMIN_KEY_FILE, createAdminKey } from '../bootstrap.js';
import { loadConfig } from '../config.js';
import { DataDirBusy, lockDataDir } from '../lib/data-dir-lock.js';
import { ConfigError } from '../lib/errors.js';
import { ApiKeyStore } from '../store/api-keys.js';
import { openDb } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import { WorkspaceStore } from '../store/workspaces.js';
import { EXIT, type CliIo } from './io.js';

/** The same advisory lock the API takes around bootstrapping. */
const BOOTSTRAP_LOCK_ID = 727_002;

/**
 * `evidence-hub admin-key create`: the one way to a new admin key once the bootstrap key has
 * been revoked (a restart never mints one). It writes to the hub's database directly, so with
 * the embedded database it refuses while a hub has that data directory open.
 */
export async function createAdminKeyCommand(io: CliIo, env: Record<string, string | undefined>, name = 'admin (admin-key create)'): Promise<number> {
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) { io.err(`evidence-hub: ${err.message}`); return EXIT.usage; }
    throw err;
  }
  let release: (() => Promise<void>) | null = null;
  if (!config.databaseUrl) {
    try {
      release = await lockDataDir(config.dataDir);
    } catch (err) {
      if (!(err instanceof DataDirBusy)) throw err;
      io.err(`evidence-hub: ${err.message}. Stop the hub first, or run this command against its PostgreSQL database with DATABASE_URL.`);
      return EXIT.failed;
    }
  }
  try {
    const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    try {
      await migrate(db);
      const keyFile = config.databaseUrl ? null : config.dataDir;
      const created = await db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK_ID]);
        await new WorkspaceStore(tx).ensureDefault();
        return createAdminKey(new ApiKeyStore(tx), name, keyFile);
      });
      io.out(created.key);
      io.err(`A new admin key (${created.id}) with admin and workspaces:admin in the default workspace; it is shown once${keyFile ? ` and saved to ${path.join(keyFile, ADMIN_KEY_FILE)} (mode 0600)` : ''}.`);
      return EXIT.ok;
    } finally {
      await db.close();
    }
  } finally {
    await release?.();
  }
}
