/**
 * The one error type of the hub. Anything thrown as an HubError becomes an RFC 7807
 * problem in exactly one place (api/problem.ts); anything else is an internal error
 * and is reported as a generic 500 without details.
 */
export interface FieldError {
  /** JSON Pointer into the request body (RFC 6901), "" for the whole body. */
  pointer: string;
  message: string;
}

export class HubError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extra: { type?: string; errors?: FieldError[]; headers?: Record<string, string>; /** Extension members of the problem (RFC 7807 §3.2). */ fields?: Record<string, unknown> } = {},
  ) {
    super(detail ?? title);
    this.name = 'HubError';
  }

  static badRequest(detail: string, errors?: FieldError[]) {
    return new HubError(400, 'Bad Request', detail, { errors });
  }
  static validation(errors: FieldError[], detail = 'The request does not match the schema.') {
    return new HubError(400, 'Validation Failed', detail, { type: 'validation-failed', errors });
  }
  static unauthorized(detail = 'A valid API key is required (X-API-Key or Authorization: Bearer).') {
    return new HubError(401, 'Unauthorized', detail, { headers: { 'WWW-Authenticate': 'Bearer realm="evidence-hub"' } });
  }
  static forbidden(detail: string) {
    return new HubError(403, 'Forbidden', detail);
  }
  static notFound(detail = 'No such resource.') {
    return new HubError(404, 'Not Found', detail);
  }
  static conflict(detail: string) {
    return new HubError(409, 'Conflict', detail);
  }
}

/** A configuration problem found at start-up: printed as one readable line, no stack. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
