import type { Queryable } from './db.js';
import type { SecretSealer } from '../lib/sealed-secrets.js';

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export type Reservation =
  | { outcome: 'reserved' }
  | { outcome: 'replay'; response: StoredResponse }
  | { outcome: 'mismatch' }
  | { outcome: 'in_progress' }
  /** The first request was processed, but its response could not be kept: it cannot be replayed. */
  | { outcome: 'unstored' };

/** An Idempotency-Key as one API key used it: the same key from another API key is another request. */
export interface KeyScope {
  workspaceId: string;
  apiKeyId: string;
  key: string;
}

/** Keys are remembered for 24 h (docs/architecture.md, "The API contract"); older ones are treated as new. */
const RETENTION = '24 hours';
const STALE_RESERVATION = '2 minutes';

/**
 * Stored responses are sealed: some carry secrets shown once (a new API key, a webhook
 * secret), and a database dump must not reveal them.
 */
export class IdempotencyStore {
  constructor(private readonly db: Queryable, private readonly sealer: SecretSealer) {}

  private context(scope: KeyScope): string {
    return `idempotency/${scope.workspaceId}/${scope.apiKeyId}/${scope.key}`;
  }

  /**
   * Claims `key` for this request, atomically: the first caller gets `reserved`; later
   * callers get the stored response, or learn that the body differs or that the first
   * request is still being processed.
   */
  async reserve(input: KeyScope & { method: string; path: string; requestHash: string }): Promise<Reservation> {
    const scope = [input.workspaceId, input.apiKeyId, input.key];
    // Expired keys, and reservations whose request died with its process (no answer in 2 minutes).
    await this.db.query(
      `DELETE FROM idempotency_keys WHERE workspace_id = $1 AND api_key_id = $2 AND idempotency_key = $3
       AND (created_at < now() - interval '${RETENTION}' OR (state = 'in_progress' AND created_at < now() - interval '${STALE_RESERVATION}'))`,
      scope,
    );
    const inserted = await this.db.query(
      `INSERT INTO idempotency_keys (workspace_id, api_key_id, idempotency_key, method, path, request_hash, state)
       VALUES ($1, $2, $3, $4, $5, $6, 'in_progress') ON CONFLICT DO NOTHING RETURNING idempotency_key`,
      [...scope, input.method, input.path, input.requestHash],
    );
    if (inserted.length === 1) return { outcome: 'reserved' };
    const [existing] = await this.db.query<{
      method: string; path: string; request_hash: string; state: string;
      status_code: number; response_headers: Record<string, string>; response_body: unknown;
    }>('SELECT * FROM idempotency_keys WHERE workspace_id = $1 AND api_key_id = $2 AND idempotency_key = $3', scope);
    if (!existing) return this.reserve(input); // expired and removed in between
    if (existing.request_hash !== input.requestHash || existing.method !== input.method || existing.path !== input.path) {
      return { outcome: 'mismatch' };
    }
    if (existing.state === 'unstored') return { outcome: 'unstored' };
    if (existing.state !== 'completed') return { outcome: 'in_progress' };
    const sealed = (existing.response_body as { sealed: string }).sealed;
    const body = JSON.parse(this.sealer.open(sealed, this.context(input))) as unknown;
    return { outcome: 'replay', response: { status: existing.status_code, headers: existing.response_headers, body } };
  }

  async complete(scope: KeyScope, response: StoredResponse): Promise<void> {
    await this.db.query(
      `UPDATE idempotency_keys SET state = 'completed', status_code = $4, response_headers = $5, response_body = $6
       WHERE workspace_id = $1 AND api_key_id = $2 AND idempotency_key = $3`,
      [scope.workspaceId, scope.apiKeyId, scope.key, response.status, JSON.stringify(response.headers), JSON.stringify({ sealed: this.sealer.seal(JSON.stringify(response.body ?? null), this.context(scope)) })],
    );
  }

  /**
   * The request was processed but its response could not be stored: a retry with this key must
   * neither replay (there is nothing to replay) nor run the request again.
   */
  async markUnstored(scope: KeyScope, status: number): Promise<void> {
    await this.db.query(
      `UPDATE idempotency_keys SET state = 'unstored', status_code = $4, response_headers = NULL, response_body = NULL
       WHERE workspace_id = $1 AND api_key_id = $2 AND idempotency_key = $3`,
      [scope.workspaceId, scope.apiKeyId, scope.key, status],
    );
  }

  /** Forgets a reservation whose request failed on our side, so that the client may retry. */
  async release(scope: KeyScope): Promise<void> {
    await this.db.query(
      `DELETE FROM idempotency_keys WHERE workspace_id = $1 AND api_key_id = $2 AND idempotency_key = $3 AND state = 'in_progress'`,
      [scope.workspaceId, scope.apiKeyId, scope.key],
    );
  }
}
