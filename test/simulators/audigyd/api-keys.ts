// AUDIGYD's "Scoped API key authentication": a key in `X-API-Key` (the seed's
// examples: `headers: { "X-API-Key": process.env.AUDIGYD_KEY }`), belonging to
// a tenant and a user and carrying scopes. The seed names one scope: the
// evidence write endpoints "Requires assessments:write scope". It names none
// for reads, so any valid key may read.

import type { SimRequest, SimResponse } from '../common/server.js';
import { audigydError } from './responses.js';

export const WRITE_SCOPE = 'assessments:write';

export interface AudigydApiKey {
  key: string;
  /** Default: `assessments:read` and `assessments:write`. */
  scopes?: readonly string[];
  /** Default: the simulator's default tenant. */
  tenant?: string;
  /** The user the key acts for; the file-upload limit is "per user" (default `api-user`). */
  user?: string;
}

export interface AuthenticatedKey {
  readonly tenant: string;
  readonly user: string;
  readonly scopes: ReadonlySet<string>;
}

export class AudigydApiKeys {
  private readonly keys = new Map<string, AuthenticatedKey>();

  constructor(keys: readonly AudigydApiKey[], defaultTenant: string) {
    for (const { key, scopes = ['assessments:read', WRITE_SCOPE], tenant = defaultTenant, user = 'api-user' } of keys) {
      this.keys.set(key, { tenant, user, scopes: new Set(scopes) });
    }
  }

  /** The key a request authenticates with, or the 401 to answer. */
  authenticate(req: SimRequest): { key: AuthenticatedKey } | { response: SimResponse } {
    const header = req.headers['x-api-key'];
    if (header === undefined) return { response: audigydError(401, 'Missing API key: send it in the X-API-Key header.') };
    const key = this.keys.get(String(header));
    return key ? { key } : { response: audigydError(401, 'Invalid API key.') };
  }
}

/** The 403 for a key without `scope`, if it lacks it. */
export function missingScope(key: AuthenticatedKey, scope: string): SimResponse | undefined {
  return key.scopes.has(scope) ? undefined : audigydError(403, `This API key lacks the ${scope} scope.`);
}
