import type { Queryable } from './db.js';
import type { SecretSealer } from '../lib/sealed-secrets.js';

export interface SecretOwner {
  workspaceId: string;
  /** e.g. 'connection', 'destination', 'webhook'. */
  type: string;
  id: string;
}

/**
 * Secret values of connections, destinations and webhooks, sealed at rest. Values go in
 * and come out only inside the hub (workers, signers); the API lists names, never values.
 */
export class SecretStore {
  constructor(
    private readonly db: Queryable,
    private readonly sealer: SecretSealer,
  ) {}

  private context(owner: SecretOwner, name: string): string {
    return `${owner.workspaceId}/${owner.type}/${owner.id}/${name}`;
  }

  /** Writes the given values (replacing those of the same name); use within the owner's transaction. */
  async put(owner: SecretOwner, values: Record<string, string>, tx: Queryable = this.db): Promise<void> {
    for (const [name, value] of Object.entries(values)) {
      await tx.query(
        `INSERT INTO secrets (workspace_id, owner_type, owner_id, name, sealed) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (workspace_id, owner_type, owner_id, name) DO UPDATE SET sealed = EXCLUDED.sealed, updated_at = now()`,
        [owner.workspaceId, owner.type, owner.id, name, this.sealer.seal(value, this.context(owner, name))],
      );
    }
  }

  /** The owner's values; pass `tx` inside a transaction (on PGlite it holds the only connection). */
  async get(owner: SecretOwner, tx: Queryable = this.db): Promise<Record<string, string>> {
    const rows = await tx.query<{ name: string; sealed: string }>(
      'SELECT name, sealed FROM secrets WHERE workspace_id = $1 AND owner_type = $2 AND owner_id = $3',
      [owner.workspaceId, owner.type, owner.id],
    );
    return Object.fromEntries(rows.map((r) => [r.name, this.sealer.open(r.sealed, this.context(owner, r.name))]));
  }

  async names(owner: SecretOwner): Promise<string[]> {
    const rows = await this.db.query<{ name: string }>(
      'SELECT name FROM secrets WHERE workspace_id = $1 AND owner_type = $2 AND owner_id = $3 ORDER BY name',
      [owner.workspaceId, owner.type, owner.id],
    );
    return rows.map((r) => r.name);
  }

  async remove(owner: SecretOwner, tx: Queryable = this.db): Promise<void> {
    await tx.query('DELETE FROM secrets WHERE workspace_id = $1 AND owner_type = $2 AND owner_id = $3', [owner.workspaceId, owner.type, owner.id]);
  }
}
