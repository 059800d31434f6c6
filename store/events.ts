import { newId } from '../lib/ids.js';
import type { EventTypeName } from './event-catalog.js';
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
    const [event] = await this.recordAll([e]);
    return event!;
  }

  /**
   * Records several events (of one workspace) with a few statements whatever their number:
   * one insert of the events, one read of the endpoints, one insert of the deliveries.
   */
  async recordAll(events: NewEvent[]): Promise<HubEvent[]> {
    if (!events.length) return [];
    const workspaceId = events[0]!.workspaceId;
    if (events.some((e) => e.workspaceId !== workspaceId)) throw new Error('events: one recordAll call records events of one workspace');
    return atomically(this.db, async (tx) => {
      // One statement: the events in (their rows as one JSON document, serialised natively
      // rather than escaped into array literals), and back only their time (now(), the
      // transaction's) and the workspace's endpoints, as one JSON text: parsing rows back is
      // most of a statement's cost on PGlite. The rest is what was written (the data as given).
      const ids = events.map(() => newId('evt'));
      const [written] = await tx.query<{ created_at: Date; endpoints: string }>(
        `WITH recorded AS (
           INSERT INTO events (id, workspace_id, type, data) SELECT e.id, $2, e.type, e.data FROM json_to_recordset($1::json) AS e(id text, type text, data jsonb)
           RETURNING created_at)
         SELECT (SELECT min(created_at) FROM recorded) AS created_at,
           (SELECT coalesce(json_agg(json_build_object('id', w.id, 'enabled', w.enabled, 'events', w.events) ORDER BY w.id), '[]')
            FROM webhooks w WHERE w.workspace_id = $2 AND w.deleted_at IS NULL)::text AS endpoints`,
        [JSON.stringify(events.map((e, i) => ({ id: ids[i], type: e.type, data: e.data }))), workspaceId],
      );
      const recorded: HubEvent[] = events.map((e, i) => ({ id: ids[i]!, workspace_id: workspaceId, type: e.type, data: e.data, created_at: new Date(written!.created_at) }));
      const endpoints = JSON.parse(written!.endpoints) as { id: string; enabled: boolean; events: string[] }[];
      const deliveries: { id: string; eventId: string; webhookId: string; enabled: boolean }[] = [];
      recorded.forEach((event, i) => {
        const e = events[i]!;
        for (const w of endpoints) {
          const subscribed = e.onlyWebhookId ? w.id === e.onlyWebhookId : (w.events.length === 0 || w.events.includes(e.type)) && w.id !== e.exceptWebhookId;
          if (subscribed) deliveries.push({ id: newId('whd'), eventId: event.id, webhookId: w.id, enabled: w.enabled });
        }
      });
      if (deliveries.length) {
        // A disabled endpoint gets its delivery too, recorded as failed and never dispatched,
        // so that `recover` after re-enabling sends what happened while it was off.
        await tx.query(
          `INSERT INTO webhook_deliveries (id, workspace_id, webhook_id, event_id, status, last_error, batch_id, dispatched_at)
           SELECT d.id, $2, d.webhook_id, d.event_id, CASE WHEN d.enabled THEN 'pending' ELSE 'failed' END,
             CASE WHEN d.enabled THEN NULL ELSE 'the endpoint was disabled' END,
             CASE WHEN d.enabled THEN NULL ELSE 'none' END, CASE WHEN d.enabled THEN NULL ELSE now() END
           FROM unnest($1::text[], $3::text[], $4::text[], $5::boolean[]) AS d(id, event_id, webhook_id, enabled)`,
          [deliveries.map((d) => d.id), workspaceId, deliveries.map((d) => d.eventId), deliveries.map((d) => d.webhookId), deliveries.map((d) => d.enabled)],
        );
      }
      return recorded;
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
