import { ConnectorError, errorForStatus } from './errors.js';
import { header, retryAfterMs } from '../lib/http-headers.js';
import type { HttpResponse } from './http-client.js';
import type { DeliveryOutcome, JsonValue } from './types.js';

/** The body of a response as JSON, or null. */
export function bodyJson(response: HttpResponse): Record<string, unknown> | null {
  try {
    const parsed = JSON.parse(response.body.toString('utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A destination's own words for an error: RFC 7807 `detail`, or `error`/`message`. */
export function destinationMessage(response: HttpResponse): string | undefined {
  const body = bodyJson(response);
  if (!body) return undefined;
  const pick = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return pick(body.detail) ?? pick(body.error) ?? pick(body.message) ?? pick(body.title);
}

/**
 * docs/architecture.md, "Delivery" for any destination: 429 waits Retry-After (or the rate-limit reset) and is
 * retried; 5xx and 408 are retried with backoff; 400/401/403/404/409/422 are final and
 * recorded as rejected with the destination's message.
 */
export function classifyDeliveryResponse(system: string, response: HttpResponse, what: string): DeliveryOutcome {
  const message = destinationMessage(response);
  if (response.status === 429) {
    const reset = header(response.headers, 'x-ratelimit-reset');
    const wait = retryAfterMs(response.headers) ?? (reset ? Math.max(0, Number(reset) * 1000 - Date.now()) : 1000);
    throw new ConnectorError('rate_limited', `${system} rate limit reached while ${what}; retrying in ${Math.ceil(wait / 1000)} s.`, { status: 429, retryAfterMs: wait, system });
  }
  if (response.status >= 500 || response.status === 408) throw errorForStatus(system, response.status, what, message);
  return { status: 'rejected', error: `${system} answered ${response.status} while ${what}${message ? `: ${message}` : '.'}`, http_status: response.status };
}

export function asJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value ?? null)) as JsonValue;
}
