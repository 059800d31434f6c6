import { HubError } from '../lib/errors.js';

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface PageRequest {
  limit: number;
  /** The id after which the page starts (decoded from the opaque cursor). */
  after: string | null;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** Cursors are opaque to callers: base64url of the last id of the previous page. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ after: lastId })).toString('base64url');
}

export function decodeCursor(cursor: string | undefined | null): string | null {
  if (!cursor) return null;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string' && parsed.after.length < 200) return parsed.after;
  } catch {
    // fall through to the problem below
  }
  throw HubError.badRequest('The cursor is not one this API issued; use next_cursor from a list response.', [
    { pointer: '/query/cursor', message: 'invalid cursor' },
  ]);
}

/** Builds a page from rows fetched with `LIMIT limit + 1` in id order. */
export function toPage<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const hasMore = rows.length > limit;
  const data = hasMore ? rows.slice(0, limit) : rows;
  const last = data[data.length - 1];
  return { data, next_cursor: hasMore && last ? encodeCursor(last.id) : null };
}
