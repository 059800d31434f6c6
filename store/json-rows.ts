import type { Queryable } from './db.js';

/**
 * The rows of `sql` (a SELECT, or a data-modifying statement with RETURNING) as one JSON
 * document the database builds, in `order`. For reads of many rows and columns: the driver
 * then parses one text value (JSON.parse, native) instead of every field of every row, which
 * on PGlite is JavaScript on the database's thread and most of such a read's cost. Values come
 * as JSON gives them: a timestamp is an ISO 8601 string, json and jsonb columns are embedded as
 * they are stored, so the caller converts what it types otherwise.
 */
export async function rowsAsJson<T>(q: Queryable, sql: string, params: unknown[], order: string): Promise<T[]> {
  const [row] = await q.query<{ rows: string }>(`WITH r AS (${sql}) SELECT coalesce(json_agg(r ORDER BY ${order}), '[]')::text AS rows FROM r`, params);
  return JSON.parse(row!.rows) as T[];
}
