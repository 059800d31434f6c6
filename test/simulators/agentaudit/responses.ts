// AgentAudit's error shape, from the seed's "Errors" section: "All errors
// return JSON with a consistent shape: { "error": "Human-readable message",
// "status": 400 }", with the codes 400, 401, 403, 404, 429 ("Rate limit
// exceeded — back off and retry") and 500.

import { jsonResponse, type SimResponse } from '../common/server.js';

export function aaError(status: number, message: string): SimResponse {
  return jsonResponse(status, { error: message, status });
}

/** The seed's meaning of each code, as the message of an injected fault (or a crash). */
export function aaErrorForStatus(status: number): SimResponse {
  if (status === 400) return aaError(400, 'Validation error — check your request body');
  if (status === 401) return aaError(401, 'Missing or invalid API key / JWT');
  if (status === 403) return aaError(403, 'Valid credentials but not authorised for this resource');
  if (status === 404) return aaError(404, 'Resource not found');
  if (status === 429) return aaError(429, 'Rate limit exceeded — back off and retry');
  return aaError(status, 'Server error — contact support if it persists');
}

/**
 * The seed's 429 names no header (no Retry-After, no rate-limit headers), so none is sent:
 * a client has to choose its own back-off.
 */
export function aaRateLimited(): SimResponse {
  return aaErrorForStatus(429);
}
