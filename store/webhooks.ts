import type { Queryable } from './db.js';
import { toPage, type Page, type PageRequest } from './pagination.js';

export interface Webhook {
  id: string;
  workspace_id: string;
  /** The endpoint URL; for a flow subscription only the callback's origin (the full URL is sealed). */
  url: string;
  /** 'power_automate': a flow's trigger subscription, created and deleted by the flow. */
  kind: WebhookKind;
  /** A flow subscription's callback: the SHA-256 of its path and query. */
  url_sha256: string | null;
  /** Empty: every event type. */
  events: string[];
  description: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  disabled_at: Date | null;
  failing_since: Date | null;
  last_success_at: Date | null;
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export type WebhookKind = 'endpoint' | 'power_automate';

export type WebhookPatch = Partial<Pick<Webhook, 'url' | 'events' | 'description' | 'enabled'>>;

/** Webhook endpoints (subscriptions). Their secrets live sealed in the secrets table. */
export class WebhookStore {
  constructor(private readonly db: Queryable) {}

  async create(w: { id: string; workspaceId: string; url: string; events: string[]; description: string | null; enabled: boolean; kind?: WebhookKind; urlSha256?: string | null }): Promise<Webhook> {
    const [row] = await this.db.query<Webhook>(
      'INSERT INTO webhooks (id, workspace_id, url, events, description, enabled, kind, url_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *',
      [w.id, w.workspaceId, w.url, w.events, w.description, w.enabled, w.kind ?? 'endpoint', w.urlSha256 ?? null],
    );
    return row!;
  }

  /** The flow subscriptions of a workspace (kind power_automate), oldest first. */
  async listOfKind(workspaceId: string, kind: WebhookKind, page: PageRequest): Promise<Page<Webhook>> {
    const rows = await this.db.query<Webhook>(
      'SELECT * FROM webhooks WHERE workspace_id = $1 AND kind = $2 AND deleted_at IS NULL AND ($3::text IS NULL OR id > $3) ORDER BY id LIMIT $4',
      [workspaceId, kind, page.after, page.limit + 1],
    );
    return toPage(rows, page.limit);
  }

  async get(workspaceId: string, id: string): Promise<Webhook | null> {
    const [row] = await this.db.query<Webhook>('SELECT * FROM webhooks WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL', [workspaceId, id]);
    return row ?? null;
  }

  /** Locks the row for the rest of the transaction (rotation, PATCH), so concurrent changes queue. */
  async getForUpdate(workspaceId: string, id: string): Promise<Webhook | null> {
    const [row] = await this.db.query<Webhook>('SELECT * FROM webhooks WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE', [workspaceId, id]);
    return row ?? null;
  }

  async list(workspaceId: string, page: PageRequest): Promise<Page<Webhook>> {
    const rows = await this.db.query<Webhook>(
      'SELECT * FROM webhooks WHERE workspace_id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR id > $2) ORDER BY id LIMIT $3',
      [workspaceId, page.after, page.limit + 1],
    );
    return toPage(rows, page.limit);
  }

  async update(workspaceId: string, id: string, patch: WebhookPatch): Promise<Webhook | null> {
    const [row] = await this.db.query<Webhook>(
      `UPDATE webhooks SET url = COALESCE($3, url), events = COALESCE($4, events), description = CASE WHEN $5 THEN $6 ELSE description END,
         enabled = COALESCE($7, enabled),
         -- re-enabling a disabled endpoint starts afresh: the failure window and the reason are cleared
         disabled_reason = CASE WHEN $7 IS TRUE AND NOT enabled THEN NULL ELSE disabled_reason END,
         disabled_at = CASE WHEN $7 IS TRUE AND NOT enabled THEN NULL WHEN $7 IS FALSE AND enabled THEN now() ELSE disabled_at END,
         failing_since = CASE WHEN $7 IS TRUE AND NOT enabled THEN NULL ELSE failing_since END,
         updated_at = now()
       WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING *`,
      [workspaceId, id, patch.url ?? null, patch.events ?? null, 'description' in patch, patch.description ?? null, patch.enabled ?? null],
    );
    return row ?? null;
  }

  async softDelete(workspaceId: string, id: string): Promise<boolean> {
    const rows = await this.db.query(
      'UPDATE webhooks SET deleted_at = now(), enabled = false, updated_at = now() WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING id',
      [workspaceId, id],
    );
    return rows.length > 0;
  }

  async setPreviousSecretExpiry(id: string, expiresAt: Date | null): Promise<void> {
    await this.db.query('UPDATE webhooks SET previous_secret_expires_at = $2, updated_at = now() WHERE id = $1', [id, expiresAt]);
  }

  /** A 2xx: the failure window closes. */
  async recordSuccess(id: string): Promise<void> {
    await this.db.query('UPDATE webhooks SET last_success_at = now(), failing_since = NULL WHERE id = $1', [id]);
  }

  /** A failed attempt: returns when the endpoint started failing without a success since. */
  async recordFailure(id: string): Promise<Date> {
    const [row] = await this.db.query<{ failing_since: Date }>(
      'UPDATE webhooks SET failing_since = COALESCE(failing_since, now()) WHERE id = $1 RETURNING failing_since',
      [id],
    );
    return row?.failing_since ?? new Date();
  }

  /** Disables an enabled endpoint; false if it already was (so only one caller emits the event). */
  async disable(id: string, reason: 'gone' | 'failing'): Promise<Webhook | null> {
    const [row] = await this.db.query<Webhook>(
      `UPDATE webhooks SET enabled = false, disabled_reason = $2, disabled_at = now(), updated_at = now() WHERE id = $1 AND enabled RETURNING *`,
      [id, reason],
    );
    return row ?? null;
  }

  /** For the delivery activity: the endpoint whatever its state (a deleted one must stop its deliveries). */
  async getById(id: string): Promise<(Webhook & { deleted_at: Date | null }) | null> {
    const [row] = await this.db.query<Webhook & { deleted_at: Date | null }>('SELECT * FROM webhooks WHERE id = $1', [id]);
    return row ?? null;
  }

  async health(workspaceId: string): Promise<{ total: number; enabled: number; disabled: number; failing: number }> {
    const [row] = await this.db.query<{ total: number; enabled: number; disabled: number; failing: number }>(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE enabled)::int AS enabled, count(*) FILTER (WHERE NOT enabled)::int AS disabled,
         count(*) FILTER (WHERE enabled AND failing_since IS NOT NULL)::int AS failing
       FROM webhooks WHERE workspace_id = $1 AND deleted_at IS NULL`,
      [workspaceId],
    );
    return row!;
  }
}
