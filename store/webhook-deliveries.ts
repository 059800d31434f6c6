import { newId } from '../lib/ids.js';
import { atomically, type Queryable } from './db.js';
import { toPage, type Page, type PageRequest } from './pagination.js';

export type WebhookDeliveryStatus = 'pending' | 'retrying' | 'delivered' | 'failed';

export interface WebhookDelivery {
  id: string;
  workspace_id: string;
  webhook_id: string;
  event_id: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  next_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  batch_id: string | null;
  dispatched_at: Date | null;
  redelivery_of: string | null;
  created_at: Date;
  updated_at: Date;
  delivered_at: Date | null;
}

export interface WebhookAttempt {
  id: string;
  delivery_id: string;
  webhook_id: string;
  attempted_at: Date;
  status_code: number | null;
  latency_ms: number;
  response_body: string | null;
  error: string | null;
}

/** A delivery with what it carries, as the sending activity needs it. */
export interface DeliveryToSend extends WebhookDelivery {
  event_type: string;
  event_data: Record<string, unknown>;
  event_created_at: Date;
}

export interface ClaimedBatch {
  batchId: string;
  webhookId: string;
  deliveryIds: string[];
}

const OPEN: WebhookDeliveryStatus[] = ['pending', 'retrying'];

export type DeliveryWithAttempts = WebhookDelivery & { event_type: string; attempt_log: WebhookAttempt[] };

/** A delivery with its event type and every attempt, oldest first. */
const WITH_ATTEMPTS = `SELECT d.*, e.type AS event_type,
    COALESCE((SELECT json_agg(a ORDER BY a.id) FROM webhook_attempts a WHERE a.delivery_id = d.id), '[]') AS attempt_log
  FROM webhook_deliveries d JOIN events e ON e.id = d.event_id`;

/** Deliveries of events to endpoints, and every attempt made for each. */
export class WebhookDeliveryStore {
  constructor(private readonly db: Queryable) {}

  /**
   * Claims up to `limit` new deliveries for dispatch, grouped into batches of one endpoint each
   * (so a slow endpoint's batch never holds up another's). SKIP LOCKED lets several workers
   * claim at once without taking the same rows.
   */
  async claim(limit: number, batchSize: number): Promise<ClaimedBatch[]> {
    // Most passes find nothing: one indexed read says so, without a transaction (three
    // round trips to the embedded database's thread, every dispatch interval).
    const [unclaimed] = await this.db.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE batch_id IS NULL) AS any');
    if (!unclaimed?.any) return [];
    return atomically(this.db, async (tx) => {
      const rows = await tx.query<{ id: string; webhook_id: string }>(
        `SELECT id, webhook_id FROM webhook_deliveries WHERE batch_id IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      if (!rows.length) return [];
      const byEndpoint = new Map<string, string[]>();
      for (const row of rows) byEndpoint.set(row.webhook_id, [...(byEndpoint.get(row.webhook_id) ?? []), row.id]);
      const batches: ClaimedBatch[] = [];
      for (const [webhookId, ids] of byEndpoint) {
        for (let i = 0; i < ids.length; i += batchSize) batches.push({ batchId: newId('whb'), webhookId, deliveryIds: ids.slice(i, i + batchSize) });
      }
      await tx.query(
        `UPDATE webhook_deliveries d SET batch_id = c.batch_id, updated_at = now() FROM unnest($1::text[], $2::text[]) AS c(id, batch_id) WHERE d.id = c.id`,
        [batches.flatMap((b) => b.deliveryIds), batches.flatMap((b) => b.deliveryIds.map(() => b.batchId))],
      );
      return batches;
    });
  }

  async markDispatched(batchIds: string[]): Promise<void> {
    await this.db.query('UPDATE webhook_deliveries SET dispatched_at = now() WHERE batch_id = ANY($1) AND dispatched_at IS NULL', [batchIds]);
  }

  /** Batches claimed by a dispatcher that died before starting their workflow. */
  async undispatched(olderThanMs: number): Promise<ClaimedBatch[]> {
    const rows = await this.db.query<{ batch_id: string; webhook_id: string; ids: string[] }>(
      `SELECT batch_id, min(webhook_id) AS webhook_id, array_agg(id ORDER BY id) AS ids FROM webhook_deliveries
       WHERE batch_id IS NOT NULL AND dispatched_at IS NULL AND updated_at < now() - make_interval(secs => $1::double precision / 1000)
       GROUP BY batch_id ORDER BY batch_id LIMIT 100`,
      [olderThanMs],
    );
    return rows.map((r) => ({ batchId: r.batch_id, webhookId: r.webhook_id, deliveryIds: r.ids }));
  }

  /** The still-open deliveries among `ids`, with their events. */
  async openWithEvents(ids: string[]): Promise<DeliveryToSend[]> {
    return this.db.query<DeliveryToSend>(
      `SELECT d.*, e.type AS event_type, e.data AS event_data, e.created_at AS event_created_at
       FROM webhook_deliveries d JOIN events e ON e.id = d.event_id WHERE d.id = ANY($1) AND d.status = ANY($2) ORDER BY d.id`,
      [ids, OPEN],
    );
  }

  /** Logs a round of attempts in one statement. */
  async recordAttempts(attempts: Omit<WebhookAttempt, 'id'>[]): Promise<void> {
    if (!attempts.length) return;
    await this.db.query(
      `INSERT INTO webhook_attempts (id, delivery_id, webhook_id, attempted_at, status_code, latency_ms, response_body, error)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::int[], $6::int[], $7::text[], $8::text[])`,
      [attempts.map(() => newId('wha')), attempts.map((a) => a.delivery_id), attempts.map((a) => a.webhook_id), attempts.map((a) => a.attempted_at),
        attempts.map((a) => a.status_code), attempts.map((a) => a.latency_ms), attempts.map((a) => a.response_body), attempts.map((a) => a.error)],
    );
  }

  /**
   * Counts one more attempt for each delivery and records where it stands after it. Returns
   * the deliveries it changed: one failed meanwhile (endpoint deleted or disabled) is left as
   * it is. Rows are locked in id order, as failOpenForWebhook does, so the two never deadlock.
   */
  async afterAttempts(outcomes: { id: string; status: WebhookDeliveryStatus; statusCode: number | null; error: string | null; nextAttemptAt?: Date | null }[]): Promise<{ id: string; status: WebhookDeliveryStatus }[]> {
    if (!outcomes.length) return [];
    return atomically(this.db, async (tx) => {
      await tx.query('SELECT id FROM webhook_deliveries WHERE id = ANY($1) ORDER BY id FOR UPDATE', [outcomes.map((o) => o.id)]);
      return tx.query<{ id: string; status: WebhookDeliveryStatus }>(
        `UPDATE webhook_deliveries d SET attempts = d.attempts + 1, status = u.status, last_status_code = u.code, last_error = u.error, next_attempt_at = u.next,
           delivered_at = CASE WHEN u.status = 'delivered' THEN now() ELSE d.delivered_at END, updated_at = now()
         FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::timestamptz[]) AS u(id, status, code, error, next)
         WHERE d.id = u.id AND d.status = ANY($6) RETURNING d.id, d.status`,
        [outcomes.map((o) => o.id), outcomes.map((o) => o.status), outcomes.map((o) => o.statusCode), outcomes.map((o) => o.error), outcomes.map((o) => o.nextAttemptAt ?? null), OPEN],
      );
    });
  }

  /** Ends every open delivery of an endpoint (disabled or deleted): `recover` can send them again later. Returns their ids. */
  async failOpenForWebhook(webhookId: string, reason: string): Promise<string[]> {
    return atomically(this.db, async (tx) => {
      await tx.query('SELECT id FROM webhook_deliveries WHERE webhook_id = $1 AND status = ANY($2) ORDER BY id FOR UPDATE', [webhookId, OPEN]);
      const rows = await tx.query<{ id: string }>(
        `UPDATE webhook_deliveries SET status = 'failed', last_error = $2, next_attempt_at = NULL, updated_at = now() WHERE webhook_id = $1 AND status = ANY($3) RETURNING id`,
        [webhookId, reason, OPEN],
      );
      return rows.map((r) => r.id).sort();
    });
  }

  async get(workspaceId: string, id: string): Promise<WebhookDelivery | null> {
    const [row] = await this.db.query<WebhookDelivery>('SELECT * FROM webhook_deliveries WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
    return row ?? null;
  }

  async listForWebhook(webhookId: string, page: PageRequest, filter: { status?: string; eventType?: string }): Promise<Page<DeliveryWithAttempts>> {
    const rows = await this.db.query<DeliveryWithAttempts>(
      `${WITH_ATTEMPTS} WHERE d.webhook_id = $1 AND ($2::text IS NULL OR d.id < $2) AND ($3::text IS NULL OR d.status = $3) AND ($4::text IS NULL OR e.type = $4)
       ORDER BY d.id DESC LIMIT $5`,
      [webhookId, page.after, filter.status ?? null, filter.eventType ?? null, page.limit + 1],
    );
    return toPage(rows, page.limit);
  }

  async getWithAttempts(workspaceId: string, id: string): Promise<DeliveryWithAttempts | null> {
    const [row] = await this.db.query<DeliveryWithAttempts>(`${WITH_ATTEMPTS} WHERE d.workspace_id = $1 AND d.id = $2`, [workspaceId, id]);
    return row ?? null;
  }

  /** A fresh delivery of the same event to the same endpoint (same webhook-id, so receivers can deduplicate). */
  async redeliver(original: WebhookDelivery): Promise<WebhookDelivery> {
    const [row] = await this.db.query<WebhookDelivery>(
      `INSERT INTO webhook_deliveries (id, workspace_id, webhook_id, event_id, status, redelivery_of) VALUES ($1, $2, $3, $4, 'pending', $5) RETURNING *`,
      [newId('whd'), original.workspace_id, original.webhook_id, original.event_id, original.id],
    );
    return row!;
  }

  /**
   * Re-sends every event whose latest delivery to this endpoint failed, for events since `since`.
   * One new delivery per event, however many failed deliveries it had.
   */
  async recover(workspaceId: string, webhookId: string, since: Date): Promise<number> {
    const failed = await this.db.query<{ id: string; event_id: string }>(
      `SELECT latest.id, latest.event_id FROM (
         SELECT DISTINCT ON (d.event_id) d.id, d.event_id, d.status FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
         WHERE d.webhook_id = $2 AND d.workspace_id = $1 AND e.created_at >= $3 ORDER BY d.event_id, d.id DESC) latest
       WHERE latest.status = 'failed'`,
      [workspaceId, webhookId, since],
    );
    if (!failed.length) return 0;
    await this.db.query(
      `INSERT INTO webhook_deliveries (id, workspace_id, webhook_id, event_id, status, redelivery_of)
       SELECT r.id, $1, $2, r.event_id, 'pending', r.previous FROM unnest($3::text[], $4::text[], $5::text[]) AS r(id, event_id, previous)`,
      [workspaceId, webhookId, failed.map(() => newId('whd')), failed.map((f) => f.event_id), failed.map((f) => f.id)],
    );
    return failed.length;
  }

  async health(workspaceId: string): Promise<Record<string, number>> {
    const rows = await this.db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE workspace_id = $1 AND created_at > now() - interval '1 day' GROUP BY status`,
      [workspaceId],
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }
}
