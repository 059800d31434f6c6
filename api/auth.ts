import { createHash } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { HubError } from '../lib/errors.js';
import { WORKSPACE_SCOPES, type ApiKey, type ApiKeyStore, type Scope } from '../store/api-keys.js';

/** Who is calling: the API key, its workspace and its scopes. */
export interface Principal {
  keyId: string;
  keyName: string;
  /** The workspace the request acts in: the key's own, or the one a workspaces:admin key chose (X-Workspace-Id). */
  workspaceId: string;
  scopes: Scope[];
  /** Set when a workspaces:admin key acts in another workspace: the key's own workspace. */
  homeWorkspaceId?: string;
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
const MAX_CACHED_KEYS = 10_000;
const TOUCH_EVERY_MS = 60_000;

/** A map bounded to `max` entries that drops the least recently used (read or written) first. */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(readonly max: number) {
    if (!(max >= 1)) throw new Error('an LRU cache holds at least one entry');
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    if (!this.entries.has(key)) return undefined;
    const value = this.entries.get(key)!;
    // A Map iterates in insertion order: moving the entry to the end makes it the most recent.
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as K);
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  /** Drops every entry whose value matches. */
  deleteWhere(matches: (value: V) => boolean): void {
    for (const [key, value] of this.entries) if (matches(value)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * Hooks around the database lookup of a presented key that is not in the cache, for the rate
 * limiter (see unverifiedKeyGate): `beforeLookup` may refuse the request by throwing, before
 * the database is asked; `verified` follows a lookup that found a valid key.
 */
export interface LookupGate {
  beforeLookup?(req: Request, res: Response): void | Promise<void>;
  verified?(req: Request, res: Response): void;
}

/**
 * Resolves the caller's key (if any) before rate limiting, so that limits apply per key.
 * Verified keys are cached for a few seconds by the hash of the presented key, which keeps
 * the database off the hot path; the cache holds at most `maxCachedKeys` keys and drops the
 * least recently used first. Keys that do not verify are not cached (a flood of made-up keys
 * would only push real ones out): the rate limiter bounds their lookups per client IP.
 * Revocation drops the key from the cache of this process at once and reaches other API
 * processes within the TTL.
 */
export class Authenticator {
  private readonly cache: LruCache<string, { key: ApiKey; expires: number }>;
  private readonly touched = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly keys: ApiKeyStore, options: { maxCachedKeys?: number; now?: () => number } = {}) {
    this.cache = new LruCache(options.maxCachedKeys ?? MAX_CACHED_KEYS);
    this.now = options.now ?? Date.now;
  }

  /** Forgets a revoked key (or, without an id, every key) in this process's cache. */
  forget(keyId?: string): void {
    if (keyId === undefined) this.cache.clear();
    else this.cache.deleteWhere((entry) => entry.key.id === keyId);
  }

  private static cacheKey(presented: string): string {
    return createHash('sha256').update(presented).digest('base64');
  }

  /** The key this presented key verified as within the TTL, without asking the database. */
  cached(presented: string): ApiKey | null {
    const cacheKey = Authenticator.cacheKey(presented);
    const hit = this.cache.get(cacheKey);
    if (!hit) return null;
    if (hit.expires > this.now()) return hit.key;
    this.cache.delete(cacheKey);
    return null;
  }

  /** Verifies a presented key: from the cache, else from the database (caching a valid key). */
  async lookup(presented: string): Promise<ApiKey | null> {
    const hit = this.cached(presented);
    if (hit) return hit;
    const key = await this.keys.verify(presented);
    if (key) this.cache.set(Authenticator.cacheKey(presented), { key, expires: this.now() + CACHE_TTL_MS });
    return key;
  }

  identify(gate: LookupGate = {}): RequestHandler {
    return async (req, res, next) => {
      const presented = presentedKey(req.get('authorization'), req.get('x-api-key'));
      if (!presented) return next();
      let key = this.cached(presented);
      if (!key) {
        await gate.beforeLookup?.(req, res);
        key = await this.lookup(presented);
        if (key) gate.verified?.(req, res);
      }
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
        res.locals.sessionEnded ? 'The console session has ended: it was signed out, idle too long, or its API key was revoked.'
          : res.locals.authFailed ? 'The API key is invalid or has been revoked.' : 'A valid API key is required (X-API-Key or Authorization: Bearer).',
      );
    }
    if (auth === 'authenticated') return next();
    const needed = Array.isArray(auth) ? auth : [auth];
    if (!needed.some((scope) => hasScope(principal, scope))) {
      throw new HubError(403, 'Forbidden', `This API key lacks the scope this operation needs: ${needed.join(' or ')}.`, { type: 'missing-scope', fields: { missing_scopes: needed } });
    }
    next();
  };
}
