/**
 * How a call to an external system failed, in words an admin can act on. The kind decides
 * whether Temporal retries: a wrong token does not fix itself, a 503 may.
 */
export type FailureKind = 'auth' | 'permission' | 'not_found' | 'bad_config' | 'rate_limited' | 'unavailable' | 'bad_response';

const RETRYABLE: Record<FailureKind, boolean> = {
  auth: false, permission: false, not_found: false, bad_config: false, bad_response: false,
  rate_limited: true, unavailable: true,
};

export class ConnectorError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly details: { status?: number; retryAfterMs?: number; system?: string } = {},
  ) {
    super(message);
    this.name = 'ConnectorError';
    this.retryable = RETRYABLE[kind];
  }
}

/** Classifies an HTTP error status, with the system's own message appended when it gave one. */
export function errorForStatus(system: string, status: number, what: string, vendorMessage?: string, retryAfterMs?: number): ConnectorError {
  const said = vendorMessage ? ` ${system} said: ${vendorMessage}` : '';
  const details = { status, system, retryAfterMs };
  if (status === 401) return new ConnectorError('auth', `${system} rejected the credentials (401) while ${what}: check the token or client credentials.${said}`, details);
  if (status === 403) return new ConnectorError('permission', `${system} denied access (403) while ${what}: the credentials lack a permission or scope this needs.${said}`, details);
  if (status === 404) return new ConnectorError('not_found', `${system} answered 404 while ${what}: check the base URL.${said}`, details);
  if (status === 429) return new ConnectorError('rate_limited', `${system} rate limit reached (429) while ${what}.${said}`, details);
  if (status === 408 || status >= 500) return new ConnectorError('unavailable', `${system} is unavailable (${status}) while ${what}.${said}`, details);
  return new ConnectorError('bad_response', `${system} answered ${status} while ${what}.${said}`, details);
}
