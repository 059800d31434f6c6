import { ConnectorError } from '../errors.js';
import type { HttpResponse } from '../http-client.js';

/** What one Graph call is for, and what it takes to be allowed it (named in a 403's message). */
export interface GraphCall {
  what: string;
  /** The least-privileged application permission, e.g. `User.Read.All`. */
  permission: string;
  /** A licence the data needs, e.g. `Microsoft Entra ID P1 or P2 (for signInActivity)`. */
  licence?: string;
}

/** Graph's error body: `{"error": {"code", "message", "innerError": {…}}}`. */
export interface GraphErrorBody {
  code: string;
  message: string;
}

export function graphErrorOf(response: HttpResponse): GraphErrorBody | null {
  try {
    const body = JSON.parse(response.body.toString('utf8')) as { error?: { code?: unknown; message?: unknown } };
    const code = typeof body.error?.code === 'string' ? body.error.code : null;
    const message = typeof body.error?.message === 'string' ? body.error.message : null;
    return code || message ? { code: code ?? 'unknown', message: message ?? '' } : null;
  } catch {
    return null;
  }
}

/** The code Graph gives when the tenant lacks the premium licence a report or signInActivity needs. */
export const NON_PREMIUM_TENANT = 'Authentication_RequestFromNonPremiumTenantOrB2CTenant';

/** Whether a 403 is about the tenant's licence rather than the app's permissions. */
export function isLicenceError(said: GraphErrorBody | null): boolean {
  if (!said) return false;
  return said.code === NON_PREMIUM_TENANT || /premium|licen[cs]e|\bSKU\b|\bP[12]\b/i.test(said.message);
}

/**
 * A 403 as an admin can act on it: the licence the data needs (Graph says the tenant is not
 * premium), else the application permission the app registration lacks. Never retried, never
 * read as an empty dataset.
 */
/** A 403 because the tenant lacks a licence (not because the app lacks a permission). */
export class LicenceError extends ConnectorError {}

export function deniedError(call: GraphCall, said: GraphErrorBody | null): ConnectorError {
  const graphSaid = said ? ` Graph said: ${said.message} (${said.code}).` : '';
  if (isLicenceError(said)) {
    const licence = call.licence ?? 'a Microsoft Entra ID P1 or P2 licence';
    return new LicenceError('permission', `Microsoft Graph refused ${call.what} (403): the tenant needs ${licence}.${graphSaid}`, { status: 403, system: 'Microsoft Graph' });
  }
  return new ConnectorError('permission', `Microsoft Graph refused ${call.what} (403): the app registration needs the application permission ${call.permission}, granted with admin consent.${graphSaid}`, { status: 403, system: 'Microsoft Graph' });
}
