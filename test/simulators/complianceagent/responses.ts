// ComplianceAgent's response envelope. Every sample in the seed is
// `{"success": true, "data": …}` (lists add `"pagination": {page, limit,
// total}`). The seed shows no error: errors here are the same envelope with
// `"success": false` and an `error` object (inferred).

import { STATUS_CODES } from 'node:http';
import { retryAfterSeconds, type RateWindow } from '../common/rate-limit.js';
import { jsonResponse, type SimResponse } from '../common/server.js';

export function caData(data: unknown, extra: Record<string, unknown> = {}, status = 200): SimResponse {
  return jsonResponse(status, { success: true, data, ...extra });
}

export function caError(status: number, code: string, message: string, headers: Record<string, string> = {}): SimResponse {
  return jsonResponse(status, { success: false, error: { code, message } }, headers);
}

/** The error an injected status fault (or a crash) answers with. */
export function caErrorForStatus(status: number): SimResponse {
  if (status === 401) return caError(401, 'unauthorized', 'Missing or invalid API key.');
  if (status === 403) return caError(403, 'forbidden', 'This API key may not read the audit log.');
  if (status === 404) return caError(404, 'not_found', 'Not found.');
  if (status >= 500) return caError(status, 'internal_error', `${STATUS_CODES[status] ?? 'Server error'}.`);
  return caError(status, 'bad_request', `${STATUS_CODES[status] ?? 'Bad request'}.`);
}

/** The seed documents no rate limit; a 429 here carries Retry-After, as HTTP APIs commonly do (inferred). */
export function caRateLimited(window: RateWindow, nowMs: number): SimResponse {
  const seconds = String(retryAfterSeconds(window.resetAtMs, nowMs));
  return caError(429, 'rate_limited', `Too many requests. Retry in ${seconds} seconds.`, { 'Retry-After': seconds });
}
