/**
 * Secret-looking fields are replaced before anything is logged or written to the audit trail.
 * Matching is by field name, so a connector's `client_secret`, a webhook `secret`, an
 * `Authorization` header or an `X-API-Key` never reaches a log line.
 */
const SECRET_FIELD = /(secret|password|passwd|token|api[-_]?key|authorization|private[-_]?key|credential|cookie|signature|master[-_]?key|client[-_]?assertion)/i;

export const REDACTED = '[REDACTED]';

export function isSecretField(name: string): boolean {
  return SECRET_FIELD.test(name);
}

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  // Only plain data is walked: class instances (a raw request, a socket, an Error) are left to
  // pino's serializers, and walking them would cost far more than the log line itself.
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = isSecretField(key) && v !== null && v !== undefined ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

/** Remove credentials that ride in URLs (userinfo and secret-looking query parameters). */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw, 'http://x');
    if (u.password) u.password = REDACTED;
    for (const key of [...u.searchParams.keys()]) if (isSecretField(key)) u.searchParams.set(key, REDACTED);
    return raw.startsWith('/') ? u.pathname + u.search : u.toString();
  } catch {
    return raw;
  }
}
