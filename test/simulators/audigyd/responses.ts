// AUDIGYD's response shapes. Successes are wrapped in `data` (the seed reads
// its overview with `const { data } = await response.json()`); errors are
// `{ "error": "…" }`, the shape of the seed's one error example, the 429.

import { STATUS_CODES } from 'node:http';
import { retryAfterSeconds, type RateWindow } from '../common/rate-limit.js';
import { jsonResponse, type SimResponse } from '../common/server.js';

export function audigydData(status: number, data: unknown): SimResponse {
  return jsonResponse(status, { data });
}

export function audigydError(status: number, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): SimResponse {
  return jsonResponse(status, { error: message, ...extra }, headers);
}

/** The error an injected status fault (or a crash) answers with. */
export function audigydErrorForStatus(status: number): SimResponse {
  if (status === 401) return audigydError(401, 'Invalid API key.');
  if (status === 403) return audigydError(403, 'Forbidden.');
  if (status === 404) return audigydError(404, 'Not found.');
  return audigydError(status, `${STATUS_CODES[status] ?? 'Error'}.`);
}

/**
 * "standard rate-limit headers": RateLimit-Limit, RateLimit-Remaining and
 * RateLimit-Reset, the latter in seconds until the window resets ("The
 * standard RateLimit-Reset header carries the same value" as Retry-After).
 */
export function rateLimitHeaders(window: RateWindow, nowMs: number): Record<string, string> {
  return {
    'RateLimit-Limit': String(window.limit),
    'RateLimit-Remaining': String(window.remaining),
    'RateLimit-Reset': String(retryAfterSeconds(window.resetAtMs, nowMs)),
  };
}

/**
 * The seed's 429, verbatim: "a JSON 429 Too Many Requests with standard
 * rate-limit headers and a Retry-After value (in seconds)", body
 * `{"error": "Too many requests. Please try again later.", "retryAfter": "27"}`
 * (retryAfter is a string there).
 */
export function tooManyRequests(window: RateWindow, nowMs: number): SimResponse {
  const seconds = String(retryAfterSeconds(window.resetAtMs, nowMs));
  return audigydError(429, 'Too many requests. Please try again later.', { retryAfter: seconds }, { 'Retry-After': seconds, ...rateLimitHeaders({ ...window, remaining: 0 }, nowMs) });
}
