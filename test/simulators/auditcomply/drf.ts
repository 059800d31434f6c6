// The Django REST Framework behaviour behind AuditComply's list endpoints:
// PageNumberPagination (the seed: "page integer — A page number within the
// paginated result set.", "page_size integer — Number of results to return
// per page.", responses `{"count": 123, "results": [...]}`), and the
// django-filter query parameters the seed lists.

import { jsonResponse, type SimRequest, type SimResponse } from '../common/server.js';

export function drfDetail(status: number, detail: string, headers: Record<string, string> = {}): SimResponse {
  return jsonResponse(status, { detail }, headers);
}

export interface PageSettings {
  /** PAGE_SIZE: used when page_size is absent or invalid. */
  pageSize: number;
  /** max_page_size: larger page_size values are cut down to it. */
  maxPageSize: number;
}

/**
 * One page as DRF's PageNumberPagination renders it: `{count, next,
 * previous, results}`, with absolute next/previous URLs that keep the other
 * query parameters (sorted, as DRF's replace_query_param does) and drop
 * `page` for page 1. A page out of range is a 404 "Invalid page.".
 */
export function paginate<T>(records: readonly T[], req: SimRequest, settings: PageSettings): SimResponse {
  const pageSize = positiveInt(req.query.get('page_size'), settings.maxPageSize) ?? settings.pageSize;
  const pageCount = Math.max(1, Math.ceil(records.length / pageSize));
  const pageParam = req.query.get('page') ?? '1';
  const page = pageParam === 'last' ? pageCount : positiveInt(pageParam, Number.MAX_SAFE_INTEGER);
  if (page === undefined || page > pageCount) return drfDetail(404, 'Invalid page.');

  const linkTo = (target: number) => {
    const query = new URLSearchParams(req.query);
    if (target === 1) query.delete('page');
    else query.set('page', String(target));
    query.sort();
    const search = query.toString();
    return `${req.origin}${req.path}${search ? `?${search}` : ''}`;
  };
  return jsonResponse(200, {
    count: records.length,
    next: page < pageCount ? linkTo(page + 1) : null,
    previous: page > 1 ? linkTo(page - 1) : null,
    results: records.slice((page - 1) * pageSize, page * pageSize),
  });
}

/** DRF's _positive_int(strict=True, cutoff): undefined unless a positive integer; capped at cutoff. */
function positiveInt(raw: string | null, cutoff: number): number | undefined {
  if (raw === null || !/^\d+$/.test(raw)) return undefined;
  const value = Number(raw);
  return value < 1 ? undefined : Math.min(value, cutoff);
}

/** One django-filter filter: how it reads its query parameter and which record value it tests. */
export type Filter<T> =
  | { kind: 'exact'; value: (record: T) => string }
  | { kind: 'in'; value: (record: T) => string }
  | { kind: 'gte' | 'lte'; value: (record: T) => string | null };

export type FilterSet<T> = Record<string, Filter<T>>;

/**
 * Applies the filters whose parameters are present. Parameters the filter
 * set does not know are ignored, as django-filter ignores them; a date that
 * does not parse is a 400 in DRF's field-error shape.
 */
export function applyFilters<T>(records: readonly T[], query: URLSearchParams, filters: FilterSet<T>): { records: readonly T[] } | { error: SimResponse } {
  const tests: ((record: T) => boolean)[] = [];
  for (const [param, filter] of Object.entries(filters)) {
    const raw = query.get(param);
    if (raw === null || raw === '') continue;
    switch (filter.kind) {
      case 'exact':
        tests.push((record) => filter.value(record) === raw);
        break;
      case 'in': {
        const accepted = new Set(raw.split(','));
        tests.push((record) => accepted.has(filter.value(record)));
        break;
      }
      case 'gte':
      case 'lte': {
        const boundMs = Date.parse(raw);
        if (Number.isNaN(boundMs)) return { error: jsonResponse(400, { [param]: ['Enter a valid date/time.'] }) };
        tests.push((record) => {
          const value = filter.value(record);
          if (value === null) return false;
          const ms = Date.parse(value);
          return filter.kind === 'gte' ? ms >= boundMs : ms <= boundMs;
        });
      }
    }
  }
  return { records: tests.length === 0 ? records : records.filter((record) => tests.every((test) => test(record))) };
}
