import type { JsonSchema } from './route.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, decodeCursor, type PageRequest } from '../store/pagination.js';
import type { Response } from 'express';

export const pageQuery: JsonSchema = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, description: `Page size (default ${DEFAULT_PAGE_SIZE}, max ${MAX_PAGE_SIZE}).` },
    cursor: { type: 'string', maxLength: 400, description: 'The next_cursor of the previous page.' },
  },
};

export function listOf(item: JsonSchema): JsonSchema {
  return {
    type: 'object',
    required: ['data', 'next_cursor'],
    properties: { data: { type: 'array', items: item }, next_cursor: { type: ['string', 'null'] } },
  };
}

export function pageRequest(res: Response): PageRequest {
  const query = (res.locals.query ?? {}) as { limit?: number; cursor?: string };
  return { limit: query.limit ?? DEFAULT_PAGE_SIZE, after: decodeCursor(query.cursor) };
}

export const timestamp: JsonSchema = { type: 'string', format: 'date-time' };
export const name: JsonSchema = { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' };
