import { ConnectorError } from '../errors.js';
import { header, retryAfterMs } from '../../lib/http-headers.js';
import type { HttpResponse } from '../http-client.js';

export const SYSTEM = 'GitHub';

/** What one GitHub call is for, and what it takes to be allowed it (named when it is refused). */
export interface GitHubCall {
  what: string;
  /** The least-privileged GitHub App permission, the same a fine-grained token needs, e.g. `Organization: Members (read)`. */
  permission: string;
  /** Only organization owners may read this: GitHub answers 422 or 403 to anybody else. */
  ownerOnly?: boolean;
  /** A 404 is an answer, not a failure (branch protection: "Branch not protected"). */
  notFoundIsNull?: boolean;
}

/** What an owner-only read needs, least privilege first. */
export const OWNER_ACCESS = 'organization-owner access: a GitHub App installed on the organization with the Organization permissions Administration (read) and Members (read), or a fine-grained token of an organization owner with the same permissions';

/** GitHub's error body: `{"message", "documentation_url", "status"?}`. */
export function githubMessage(response: HttpResponse): string | undefined {
  try {
    const body = JSON.parse(response.body.toString('utf8')) as { message?: unknown };
    return typeof body.message === 'string' ? body.message.slice(0, 300) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * GitHub answers a rate limit with 403 or 429 ("Rate limits for the REST API"): the primary
 * limit with x-ratelimit-remaining 0 (do not retry before x-ratelimit-reset), a secondary
 * limit with an error message and maybe retry-after (do not retry before that many seconds;
 * without it, wait at least a minute). A 403 that is neither is a missing permission.
 */
export function rateLimitOf(response: HttpResponse): { kind: 'primary' } | { kind: 'secondary'; waitMs: number } | null {
  if (response.status !== 403 && response.status !== 429) return null;
  if (header(response.headers, 'x-ratelimit-remaining') === '0') return { kind: 'primary' };
  const retryAfter = retryAfterMs(response.headers);
  if (response.status === 429 || retryAfter !== undefined || /rate limit|abuse detection/i.test(githubMessage(response) ?? '')) {
    return { kind: 'secondary', waitMs: retryAfter ?? 60_000 };
  }
  return null;
}

/** The primary limit's 403 given to the shared request loop as the 429 it means (it then waits for x-ratelimit-reset). */
export function asThrottle(response: HttpResponse): HttpResponse {
  return response.status === 403 && rateLimitOf(response)?.kind === 'primary' ? { ...response, status: 429 } : response;
}

/** A refusal as an admin can act on it: the permission (or owner access) the call needs. Never retried, never an empty dataset. */
export function deniedError(call: GitHubCall, status: number, said: string | undefined): ConnectorError {
  const github = said ? ` GitHub said: ${said}` : '';
  if (call.ownerOnly) {
    return new ConnectorError('permission', `GitHub refused ${call.what} (${status}): only organization owners may read this; the connection needs ${OWNER_ACCESS}.${github}`, { status, system: SYSTEM });
  }
  return new ConnectorError('permission', `GitHub refused ${call.what} (${status}): the GitHub App (or fine-grained token) needs the permission ${call.permission}.${github}`, { status, system: SYSTEM });
}
