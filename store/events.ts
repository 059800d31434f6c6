import { newId } from '../lib/ids.js';
import type { EventTypeName } from '../webhooks/catalog.js';
import { atomically, type Queryable } from './db.js';
import { toPage, type Page, type PageRequest } from './pagination.js';

export interface HubEvent {
  id: string;
  workspace_id: string;
  type: string;
  data: Record<string, unknown>;
  created_at: Date;
}

export interface NewEvent {
  workspaceId: string;
  type: EventTypeName;
  data: Record<string, unknown>;
  /** Only this endpoint receives it, whatever its event filter (webhook.test). */
  onlyWebhookId?: string;
  /** Every subscribed endpoint but this one (webhook.endpoint_disabled). */
  exceptWebhookId?: string;
}

/**
 * The event outbox. `record` is meant to run in the transaction of whatever caused the event,
 * so that the change and its event commit together: no event is lost if the process dies
 * right after, and none is sent for a change that rolled back. It also fans the event out to
 * the subscribed endpoints there and then, so each delivery exists before anything is sent.
 */
export class EventStore {
  constructor(private readonly db: Queryable) {}

  async record(e: NewEvent): Promise<HubEvent> {
    return atomically(this.db, async (tx) => {
      const id = newId('evt');
      const [event] = await tx.query<HubEvent>(
        'INSERT INTO events (id, workspace_id, type, data) VALUES ($1, $2, $3, $4) RETURNING *',
        [id, e.workspaceId, e.type, JSON.stringify(e.data)],
      );
      const endpoints = await tx.query<{ id: string; enabled: boolean }>(
        `SELECT id, enabled FROM webhooks WHERE workspace_id = $1 AND deleted_at IS NULL
         AND (cardinality(events) = 0 OR $2 = ANY(events) OR $3::text IS NOT NULL) AND ($3::text IS NULL OR id = $3) AND ($4::text IS NULL OR id <> $4)`,
        [e.workspaceId, e.type, e.onlyWebhookId ?? null, e.exceptWebhookId ?? null],
      );
      if (endpoints.length) {
        // A disabled endpoint gets its delivery too, recorded as failed and never dispatched,
        // so that `recover` after re-enabling sends what happened while it was off.
        await tx.query(
          `INSERT INTO webhook_deliveries (id, workspace_id, webhook_id, event_id, status, last_error, batch_id, dispatched_at)
           SELECT d.id, $2, d.webhook_id, $3, CASE WHEN d.enabled THEN 'pending' ELSE 'failed' END,
             CASE WHEN d.enabled THEN NULL ELSE 'the endpoint was disabled' END,
             CASE WHEN d.enabled THEN NULL ELSE 'none' END, CASE WHEN d.enabled THEN NULL ELSE now() END
           FROM unnest($1::text[], $4::text[], $5::boolean[]) AS d(id, webhook_id, enabled)`,
          [endpoints.map(() => newId('whd')), e.workspaceId, id, endpoints.map((w) => w.id), endpoints.map((w) => w.enabled)],
        );
      }
      return event!;
    });
  }

  /** Whether an event of this type about this run exists (activities that may be retried record once). */
  async existsForRun(workspaceId: string, type: string, runId: string): Promise<boolean> {
    const rows = await this.db.query(`SELECT 1 FROM events WHERE workspace_id = $1 AND type = $2 AND data->>'run_id' = $3 LIMIT 1`, [workspaceId, type, runId]);
    return rows.length > 0;
  }

  async get(workspaceId: string, id: string): Promise<HubEvent | null> {
    const [row] = await this.db.query<HubEvent>('SELECT * FROM events WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
    return row ?? null;
  }

  async list(workspaceId: string, page: PageRequest, filter: { type?: string }): Promise<Page<HubEvent>> {
    const rows = await this.db.query<HubEvent>(
      `SELECT * FROM events WHERE workspace_id = $1 AND ($2::text IS NULL OR id < $2) AND ($3::text IS NULL OR type = $3) ORDER BY id DESC LIMIT $4`,
      [workspaceId, page.after, filter.type ?? null, page.limit + 1],
    );
    return toPage(rows, page.limit);
  }
}
