// "All errors follow RFC 7807 (Problem Details)", shaped as the seed's
// example:
//   { "type": "https://api.augixsys.com/errors/not-found",
//     "title": "Resource Not Found", "status": 404,
//     "detail": "Engagement eng_xyz789 not found or access denied",
//     "instance": "/engagements/eng_xyz789" }
// served as application/problem+json (RFC 7807 §3). `instance` is the path
// under the base URL (…/v1), as in the example. Only `not-found` and its title
// are the seed's; the other types follow its pattern for the seed's "Common
// status codes: 400 (validation error), 401 (invalid token), 403
// (insufficient scope), 404 (not found), 429 (rate limited), 500 (server
// error)".

import { STATUS_CODES } from 'node:http';
import type { SimRequest, SimResponse } from '../common/server.js';

export interface ProblemType {
  status: number;
  type: string;
  title: string;
}

export const PROBLEMS = {
  validation: { status: 400, type: 'validation-error', title: 'Validation Error' },
  invalidToken: { status: 401, type: 'invalid-token', title: 'Invalid Token' },
  insufficientScope: { status: 403, type: 'insufficient-scope', title: 'Insufficient Scope' },
  notFound: { status: 404, type: 'not-found', title: 'Resource Not Found' },
  /** Not among the seed's common codes: see the engagements module. */
  engagementCompleted: { status: 409, type: 'engagement-completed', title: 'Engagement Completed' },
  rateLimited: { status: 429, type: 'rate-limited', title: 'Rate Limit Exceeded' },
  serverError: { status: 500, type: 'server-error', title: 'Internal Server Error' },
} as const satisfies Record<string, ProblemType>;

const TYPE_BASE = 'https://api.augixsys.com/errors/';
export const API_BASE_PATH = '/v1';

/** The seed's `instance`: the request path without the /v1 base. */
function instanceOf(req: SimRequest): string {
  return req.path.startsWith(`${API_BASE_PATH}/`) ? req.path.slice(API_BASE_PATH.length) : req.path;
}

export function problem(kind: ProblemType, detail: string, req: SimRequest, extensions: Record<string, unknown> = {}, headers: Record<string, string> = {}): SimResponse {
  const body = { type: `${TYPE_BASE}${kind.type}`, title: kind.title, status: kind.status, detail, instance: instanceOf(req), ...extensions };
  return { status: kind.status, headers: { 'Content-Type': 'application/problem+json', ...headers }, body: JSON.stringify(body) };
}

/** The problem an injected status fault (or a crash) answers with. */
export function problemForStatus(status: number, req: SimRequest): SimResponse {
  const known = Object.values(PROBLEMS).find((kind) => kind.status === status);
  const kind = known ?? { status, type: status >= 500 ? 'server-error' : 'error', title: STATUS_CODES[status] ?? 'Error' };
  return problem(kind, `${STATUS_CODES[status] ?? 'Error'}.`, req);
}

/** RFC 7807's own extension for field errors (its §3 example): `invalid-params: [{name, reason}]`. */
export function validationProblem(req: SimRequest, invalid: readonly { name: string; reason: string }[]): SimResponse {
  return problem(PROBLEMS.validation, invalid.map((p) => `${p.name}: ${p.reason}`).join('; '), req, { 'invalid-params': invalid });
}
