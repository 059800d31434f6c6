import { createHash } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { HubError } from '../lib/errors.js';
import { WORKSPACE_SCOPES, type ApiKey, type ApiKeyStore, type Scope } from '../store/api-keys.js';

/** Who is calling: the API key, its workspace and its scopes. */
export interface Principal {
  keyId: string;
  keyName: string;
  workspaceId: string;
  scopes: Scope[];
}

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw HubError.unauthorized();
  return principal;
}

/** `admin` holds every workspace scope; `workspaces:admin` is granted only explicitly. */
export function hasScope(principal: Principal, needed: Scope): boolean {
  if (principal.scopes.includes(needed)) return true;
  return principal.scopes.includes('admin') && (WORKSPACE_SCOPES as readonly string[]).includes(needed);
}

function presentedKey(authorization: string | undefined, apiKeyHeader: string | undefined): string | null {
  if (apiKeyHeader) return apiKeyHeader.trim();
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match ? match[1]! : null;
}

const CACHE_TTL_MS = 5_000;
const TOUCH_EVERY_MS = 60_000;

/**
 * Resolves the caller's key (if any) before rate limiting, so that limits apply per key.
 * Verified keys are cached for a few seconds by the hash of the presented key, which keeps
 * the database off the hot path; revocation clears the cache of this process at once and
 * reaches other API processes within the TTL.
 */
export class Authenticator {
  private readonly cache = new Map<string, { key: ApiKey | null; expires: number }>();
  private readonly touched = new Map<string, number>();

  constructor(private readonly keys: ApiKeyStore) {}

  forget(): void {
    this.cache.clear();
  }

  private async lookup(presented: string): Promise<ApiKey | null> {
    const cacheKey = createHash('sha256').update(presented).digest('base64');
    const now = Date.now();
    const hit = this.cache.get(cacheKey);
    if (hit && hit.expires > now) return hit.key;
    const key = await this.keys.verify(presented);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(cacheKey, { key, expires: now + CACHE_TTL_MS });
    return key;
  }

  identify(): RequestHandler {
    return async (req, res, next) => {
      const presented = presentedKey(req.get('authorization'), req.get('x-api-key'));
      if (!presented) return next();
      const key = await this.lookup(presented);
      if (!key) {
        res.locals.authFailed = true;
        return next();
      }
      res.locals.principal = { keyId: key.id, keyName: key.name, workspaceId: key.workspace_id, scopes: key.scopes } satisfies Principal;
      const last = this.touched.get(key.id) ?? 0;
      if (Date.now() - last > TOUCH_EVERY_MS) {
        this.touched.set(key.id, Date.now());
        this.keys.touch(key.id).catch(() => undefined);
      }
      next();
    };
  }
}

/** Enforces a route's auth requirement: 401 without a valid key, 403 without the scope. */
export function requireAuth(auth: 'public' | 'authenticated' | Scope | Scope[]): RequestHandler {
  return (_req, res, next) => {
    if (auth === 'public') return next();
    const principal = res.locals.principal as Principal | undefined;
    if (!principal) {
      throw HubError.unauthorized(
        res.locals.authFailed ? 'The API key is invalid or has been revoked.' : 'A valid API key is required (X-API-Key or Authorization: Bearer).',
      );
    }
    if (auth === 'authenticated') return next();
    const needed = Array.isArray(auth) ? auth : [auth];
    if (!needed.some((scope) => hasScope(principal, scope))) {
      throw HubError.forbidden(`This API key lacks the scope this operation needs: ${needed.join(' or ')}.`);
    }
    next();
  };
}
