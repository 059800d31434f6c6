import type { Queryable } from './db.js';
import type { SecretSealer } from '../lib/sealed-secrets.js';

/** Stored secrets entered for other URLs than the owner's config now holds. */
export class SecretsBoundElsewhere extends Error {
  constructor(readonly names: string[]) {
    super(`the stored secrets ${names.join(', ')} were entered for other URLs than this configuration holds; enter them again`);
    this.name = 'SecretsBoundElsewhere';
  }
}

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

  /** The sealing context: a bound secret cannot be opened under another binding, even by editing its row. */
  private context(owner: SecretOwner, name: string, boundTo: string | null): string {
    const base = `${owner.workspaceId}/${owner.type}/${owner.id}/${name}`;
    return boundTo === null ? base : `${base}@${boundTo}`;
  }

  /**
   * Writes the given values (replacing those of the same name); use within the owner's
   * transaction. `boundTo` (see lib/url-binding.ts) ties them to the URLs they were entered for.
   */
  async put(owner: SecretOwner, values: Record<string, string>, tx: Queryable = this.db, boundTo: string | null = null): Promise<void> {
    for (const [name, value] of Object.entries(values)) {
      await tx.query(
        `INSERT INTO secrets (workspace_id, owner_type, owner_id, name, sealed, bound_to) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (workspace_id, owner_type, owner_id, name) DO UPDATE SET sealed = EXCLUDED.sealed, bound_to = EXCLUDED.bound_to, updated_at = now()`,
        [owner.workspaceId, owner.type, owner.id, name, this.sealer.seal(value, this.context(owner, name, boundTo)), boundTo],
      );
    }
  }

  /**
   * The owner's values; pass `tx` inside a transaction (on PGlite it holds the only connection).
   * With `boundTo`, a secret bound to anything else is never opened: SecretsBoundElsewhere names it.
   * (Secrets sealed before bindings existed have none and open as they are.)
   */
  async get(owner: SecretOwner, tx: Queryable = this.db, boundTo?: string): Promise<Record<string, string>> {
    const rows = await tx.query<{ name: string; sealed: string; bound_to: string | null }>(
      'SELECT name, sealed, bound_to FROM secrets WHERE workspace_id = $1 AND owner_type = $2 AND owner_id = $3',
      [owner.workspaceId, owner.type, owner.id],
    );
    if (boundTo !== undefined) {
      const elsewhere = rows.filter((r) => r.bound_to !== null && r.bound_to !== boundTo).map((r) => r.name);
      if (elsewhere.length) throw new SecretsBoundElsewhere(elsewhere);
    }
    return Object.fromEntries(rows.map((r) => [r.name, this.sealer.open(r.sealed, this.context(owner, r.name, r.bound_to))]));
  }

  async names(owner: SecretOwner, tx: Queryable = this.db): Promise<string[]> {
    const rows = await tx.query<{ name: string }>(
      'SELECT name FROM secrets WHERE workspace_id = $1 AND owner_type = $2 AND owner_id = $3 ORDER BY name',
      [owner.workspaceId, owner.type, owner.id],
    );
    return rows.map((r) => r.name);
  }

  async remove(owner: SecretOwner, tx: Queryable = this.db): Promise<void> {
    await tx.query('DELETE FROM secrets WHERE workspace_id = $1 AND owner_type = $2 AND owner_id = $3', [owner.workspaceId, owner.type, owner.id]);
  }
}
