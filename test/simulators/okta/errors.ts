// Okta's error shape: { errorCode, errorSummary, errorLink, errorId, errorCauses }.
// Codes from Okta's error-code reference.

import { randomBytes } from 'node:crypto';
import { jsonResponse, type SimResponse } from '../common/server.js';

export const OKTA_ERRORS = {
  /** 400 */ validation: { code: 'E0000001', summary: 'Api validation failed' },
  /** 401, no credentials */ invalidSession: { code: 'E0000005', summary: 'Invalid session' },
  /** 403 */ permission: { code: 'E0000006', summary: 'You do not have permission to perform the requested action' },
  /** 404 */ notFound: { code: 'E0000007', summary: 'Not found' },
  /** 5xx */ internal: { code: 'E0000009', summary: 'Internal Server Error' },
  /** 401, bad or expired token */ invalidToken: { code: 'E0000011', summary: 'Invalid token provided' },
  /** 405 */ methodNotAllowed: { code: 'E0000022', summary: 'The endpoint does not support the provided HTTP method' },
  /** 400, bad filter/search */ invalidSearch: { code: 'E0000031', summary: 'Invalid search criteria.' },
  /** 429 */ rateLimit: { code: 'E0000047', summary: 'API call exceeded rate limit due to too many requests.' },
} as const;

export type OktaError = (typeof OKTA_ERRORS)[keyof typeof OKTA_ERRORS];

export function oktaError(status: number, error: OktaError, detail?: string, headers: Record<string, string> = {}): SimResponse {
  return jsonResponse(
    status,
    {
      errorCode: error.code,
      errorSummary: detail ? `${error.summary}: ${detail}` : error.summary,
      errorLink: error.code,
      errorId: `oae${randomBytes(14).toString('base64url').slice(0, 19)}`,
      errorCauses: detail ? [{ errorSummary: detail }] : [],
    },
    headers,
  );
}

/** The error an injected status fault answers with. */
export function oktaErrorForStatus(status: number): SimResponse {
  if (status === 401) return oktaError(401, OKTA_ERRORS.invalidToken);
  if (status === 403) return oktaError(403, OKTA_ERRORS.permission);
  if (status === 404) return oktaError(404, OKTA_ERRORS.notFound);
  if (status === 429) return oktaError(429, OKTA_ERRORS.rateLimit);
  if (status >= 500) return oktaError(status, OKTA_ERRORS.internal);
  return oktaError(status, OKTA_ERRORS.validation);
}
