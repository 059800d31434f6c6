import { newId } from '../lib/ids.js';
import type { EventTypeName } from '../webhooks/catalog.js';
import type { Queryable } from './db.js';
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
    const id = newId('evt');
    const [event] = await this.db.query<HubEvent>(
      'INSERT INTO events (id, workspace_id, type, data) VALUES ($1, $2, $3, $4) RETURNING *',
      [id, e.workspaceId, e.type, JSON.stringify(e.data)],
    );
    const endpoints = await this.db.query<{ id: string }>(
      `SELECT id FROM webhooks WHERE workspace_id = $1 AND enabled AND deleted_at IS NULL
       AND (cardinality(events) = 0 OR $2 = ANY(events) OR $3::text IS NOT NULL) AND ($3::text IS NULL OR id = $3) AND ($4::text IS NULL OR id <> $4)`,
      [e.workspaceId, e.type, e.onlyWebhookId ?? null, e.exceptWebhookId ?? null],
    );
    if (endpoints.length) {
      await this.db.query(
        `INSERT INTO webhook_deliveries (id, workspace_id, webhook_id, event_id, status)
         SELECT d.id, $2, d.webhook_id, $3, 'pending' FROM unnest($1::text[], $4::text[]) AS d(id, webhook_id)`,
        [endpoints.map(() => newId('whd')), e.workspaceId, id, endpoints.map((w) => w.id)],
      );
    }
    return event!;
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
