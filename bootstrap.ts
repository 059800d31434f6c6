import path from 'node:path';
import type { ApiKeyStore } from './store/api-keys.js';
import { DEFAULT_WORKSPACE_ID, type WorkspaceStore } from './store/workspaces.js';
import { writeOwnerOnlyFile } from './lib/secret-file.js';

export const BOOTSTRAP_SCOPES = ['admin', 'workspaces:admin'] as const;
export const ADMIN_KEY_FILE = 'admin-key';

export interface BootstrapResult {
  /** The key itself when it was generated on this start (printed once), else null. */
  generatedKey: string | null;
  keyFile: string | null;
  /** Every bootstrap key has been revoked: none is minted again (see `evidence-hub admin-key create`). */
  revoked: boolean;
}

/**
 * Makes sure the default workspace exists, and a bootstrap admin key on the very first start.
 * With HUB_ADMIN_KEY the key is registered (by hash) unless it ever was: a revoked one stays
 * revoked, and a new value is registered beside the earlier keys (revoke those by hand).
 * Without it a key is generated once, on the first start only, written to
 * `$HUB_DATA_DIR/admin-key` (mode 0600) and returned to be printed once. Revoking the
 * bootstrap key is final: a restart never mints another; `evidence-hub admin-key create` does.
 */
export async function bootstrap(deps: { workspaces: WorkspaceStore; keys: ApiKeyStore; adminKey: string | null; dataDir: string }): Promise<BootstrapResult> {
  await deps.workspaces.ensureDefault();
  if (deps.adminKey) {
    if (!(await deps.keys.knows(deps.adminKey))) {
      await deps.keys.create({ workspaceId: DEFAULT_WORKSPACE_ID, name: 'bootstrap (HUB_ADMIN_KEY)', scopes: [...BOOTSTRAP_SCOPES], key: deps.adminKey, isBootstrap: true });
    }
    return { generatedKey: null, keyFile: null, revoked: !(await deps.keys.findBootstrap()) };
  }
  if (await deps.keys.findBootstrap()) return { generatedKey: null, keyFile: null, revoked: false };
  if (await deps.keys.everIssuedBootstrap()) return { generatedKey: null, keyFile: null, revoked: true };
  const { key } = await createAdminKey(deps.keys, 'bootstrap', deps.dataDir);
  return { generatedKey: key, keyFile: path.join(deps.dataDir, ADMIN_KEY_FILE), revoked: false };
}

/** A new bootstrap-scoped key in the default workspace, saved to the data dir's key file (0600) when one is given. */
export async function createAdminKey(keys: ApiKeyStore, name: string, dataDir: string | null): Promise<{ key: string; id: string }> {
  const { key, record } = await keys.create({ workspaceId: DEFAULT_WORKSPACE_ID, name, scopes: [...BOOTSTRAP_SCOPES], isBootstrap: true });
  if (dataDir) await writeOwnerOnlyFile(path.join(dataDir, ADMIN_KEY_FILE), key + '\n');
  return { key, id: record.id };
}
