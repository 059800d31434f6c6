import { HubError } from '../../lib/errors.js';
import type { Db } from '../db.js';
import { encodeCursor, type Page, type PageRequest } from '../pagination.js';
import { TOP_ACTORS, source, toEntry, type AuditFilter, type AuditLogEntry, type AuditStatistics, type EntryRow } from './model.js';


function likePattern(value: string): string {
  return value.replace(/[\\%_]/g, '\\$&');
}

function seqCursor(after: string | null): number | null {
  if (after === null) return null;
  if (!/^\d{1,15}$/.test(after)) {
    throw HubError.badRequest('The cursor is not one this API issued; use next_cursor from a list response.', [{ pointer: '/query/cursor', message: 'invalid cursor' }]);
  }
  return Number(after);
}

/** Reading the audit log: one entry, a filtered page, counts over a period. */
export class AuditLogReader {
  constructor(private readonly db: Db) {}

  /** One entry, live or archived. */
  async get(workspaceId: string, id: string): Promise<AuditLogEntry | null> {
    const [row] = await this.db.query<EntryRow>(`SELECT * FROM (${source('all', 'workspace_id = $1 AND id = $2')}) AS e LIMIT 1`, [workspaceId, id]);
    return row ? toEntry(row) : null;
  }

  /** A page in seq order (ascending by default); the cursor is the last seq of the previous page. */
  async list(workspaceId: string, page: PageRequest, f: AuditFilter = {}): Promise<Page<AuditLogEntry>> {
    const params: unknown[] = [workspaceId];
    const where = ['workspace_id = $1'];
    const add = (condition: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(condition(`$${params.length}`));
    };
    const descending = f.order === 'desc';
    const after = seqCursor(page.after);
    if (after !== null) add((p) => (descending ? `seq < ${p}` : `seq > ${p}`), after);
    if (f.actor) add((p) => `actor->>'id' = ${p}`, f.actor);
    if (f.actorType) add((p) => `actor->>'type' = ${p}`, f.actorType);
    if (f.action?.endsWith('.*')) add((p) => `action LIKE ${p}`, `${likePattern(f.action.slice(0, -1))}%`);
    else if (f.action) add((p) => `action = ${p}`, f.action);
    if (f.resourceType) add((p) => `resource_type = ${p}`, f.resourceType);
    if (f.resourceId) add((p) => `resource_id = ${p}`, f.resourceId);
    if (f.from) add((p) => `occurred_at >= ${p}`, f.from.toISOString());
    if (f.to) add((p) => `occurred_at <= ${p}`, f.to.toISOString());
    if (f.q) {
      add((p) => `(action ILIKE ${p} OR resource_type ILIKE ${p} OR resource_id ILIKE ${p} OR actor->>'name' ILIKE ${p} OR changes::text ILIKE ${p})`, `%${likePattern(f.q)}%`);
    }
    params.push(page.limit + 1);
    const order = `ORDER BY seq ${descending ? 'DESC' : 'ASC'} LIMIT $${params.length}`;
    const rows = (await this.db.query<EntryRow>(
      `SELECT * FROM (${source(f.includeArchived ? 'all' : 'live', where.join(' AND '), order)}) AS e ${order}`,
      params,
    )).map(toEntry);
    const hasMore = rows.length > page.limit;
    const data = hasMore ? rows.slice(0, page.limit) : rows;
    const last = data[data.length - 1];
    return { data, next_cursor: hasMore && last ? encodeCursor(String(last.seq)) : null };
  }

  /** Counts over a period (live and archived entries alike; retention does not change history). */
  async statistics(workspaceId: string, period: { from?: Date; to?: Date } = {}): Promise<AuditStatistics> {
    const rows = await this.db.query<{
      by_action: number; by_resource: number; by_actor: number; action: string | null; resource_type: string | null;
      actor_type: string | null; actor_id: string | null; actor_name: string | null; n: number | string;
    }>(
      `WITH entries AS (
         SELECT seq, action, resource_type, actor FROM audit_log
          WHERE workspace_id = $1 AND ($2::timestamptz IS NULL OR occurred_at >= $2) AND ($3::timestamptz IS NULL OR occurred_at <= $3)
         UNION ALL
         SELECT seq, action, resource_type, actor FROM audit_log_archive
          WHERE workspace_id = $1 AND ($2::timestamptz IS NULL OR occurred_at >= $2) AND ($3::timestamptz IS NULL OR occurred_at <= $3)
       ), e AS (SELECT seq, action, resource_type, actor->>'type' AS actor_type, actor->>'id' AS actor_id, actor->>'name' AS actor_name FROM entries)
       SELECT GROUPING(action) AS by_action, GROUPING(resource_type) AS by_resource, GROUPING(actor_type, actor_id) AS by_actor,
              action, resource_type, actor_type, actor_id, (array_agg(actor_name ORDER BY seq DESC))[1] AS actor_name, count(*) AS n
         FROM e GROUP BY GROUPING SETS ((action), (resource_type), (actor_type, actor_id), ())`,
      [workspaceId, period.from?.toISOString() ?? null, period.to?.toISOString() ?? null],
    );
    const stats: AuditStatistics = {
      period: { from: period.from?.toISOString() ?? null, to: period.to?.toISOString() ?? null },
      total_events: 0, events_by_action: {}, events_by_resource_type: {}, events_by_actor_type: {}, events_by_actor: [],
    };
    // GROUPING() is 0 for the columns a row is grouped by.
    for (const r of rows) {
      const n = Number(r.n);
      if (Number(r.by_action) === 0) stats.events_by_action[r.action!] = n;
      else if (Number(r.by_resource) === 0) stats.events_by_resource_type[r.resource_type!] = n;
      else if (Number(r.by_actor) === 0) {
        stats.events_by_actor.push({ type: r.actor_type!, id: r.actor_id!, name: r.actor_name, event_count: n });
        stats.events_by_actor_type[r.actor_type!] = (stats.events_by_actor_type[r.actor_type!] ?? 0) + n;
      } else stats.total_events = n;
    }
    stats.events_by_actor.sort((a, b) => b.event_count - a.event_count || a.id.localeCompare(b.id));
    stats.events_by_actor = stats.events_by_actor.slice(0, TOP_ACTORS);
    return stats;
  }
}
