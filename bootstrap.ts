import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ApiKeyStore } from './store/api-keys.js';
import { DEFAULT_WORKSPACE_ID, type WorkspaceStore } from './store/workspaces.js';

export const BOOTSTRAP_SCOPES = ['admin', 'workspaces:admin'] as const;

export interface BootstrapResult {
  /** The key itself when it was generated on this start (printed once), else null. */
  generatedKey: string | null;
  keyFile: string | null;
}

/**
 * Makes sure the default workspace and a bootstrap admin key exist. With HUB_ADMIN_KEY the
 * key is registered (by hash) if it is not already; otherwise one is generated on the first
 * start only, written to `$HUB_DATA_DIR/admin-key` (mode 0600) and returned to be printed once.
 */
export async function bootstrap(deps: { workspaces: WorkspaceStore; keys: ApiKeyStore; adminKey: string | null; dataDir: string }): Promise<BootstrapResult> {
  await deps.workspaces.ensureDefault();
  if (deps.adminKey) {
    // Registered once; a revoked HUB_ADMIN_KEY stays revoked across restarts.
    if (!(await deps.keys.knows(deps.adminKey))) {
      await deps.keys.create({ workspaceId: DEFAULT_WORKSPACE_ID, name: 'bootstrap (HUB_ADMIN_KEY)', scopes: [...BOOTSTRAP_SCOPES], key: deps.adminKey, isBootstrap: true });
    }
    return { generatedKey: null, keyFile: null };
  }
  if (await deps.keys.findBootstrap()) return { generatedKey: null, keyFile: null };
  const { key } = await deps.keys.create({ workspaceId: DEFAULT_WORKSPACE_ID, name: 'bootstrap', scopes: [...BOOTSTRAP_SCOPES], isBootstrap: true });
  await mkdir(deps.dataDir, { recursive: true });
  const keyFile = path.join(deps.dataDir, 'admin-key');
  await writeFile(keyFile, key + '\n', { mode: 0o600 });
  return { generatedKey: key, keyFile };
}
