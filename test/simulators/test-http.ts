// Small HTTP helpers for the simulators' own tests.

import { request } from 'undici';

export interface HttpResult<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

/** Sends a request and reads the body as JSON (or text, when it is not JSON). */
export async function http<T = unknown>(url: string, init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {}): Promise<HttpResult<T>> {
  const response = await request(url, { method: init.method ?? 'GET', headers: init.headers, body: init.body });
  const text = await response.body.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.statusCode, headers: response.headers, body: body as T };
}

export function postForm<T = unknown>(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
  return http<T>(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });
}

export function postJson<T = unknown>(url: string, value: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
  return http<T>(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) });
}

/** The relations of RFC 8288 Link headers, whether sent as one header or several. */
export function links(header: string | string[] | undefined): Record<string, string> {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const found: Record<string, string> = {};
  for (const value of values) {
    for (const match of value.matchAll(/<([^>]+)>;\s*rel="([^"]+)"/g)) {
      if (match[1] && match[2]) found[match[2]] = match[1];
    }
  }
  return found;
}

/** A clock a test moves by hand. */
export function manualClock(startMs = Date.UTC(2025, 0, 15, 12, 0, 0)) {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    advance(ms: number) {
      nowMs += ms;
    },
  };
}
