import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { HubError } from '../lib/errors.js';
import { ConsoleSessionStore, type ConsoleSession } from '../store/console-sessions.js';
import type { Queryable } from '../store/db.js';
import { LruCache, type Authenticator, type LookupGate, type Principal } from './auth.js';

/**
 * Console sessions: the API key typed into the sign-in page is exchanged for a cookie that is
 * HttpOnly (page scripts never see it), SameSite=Strict, Secure over https, and sealed
 * (AES-256-GCM under a key derived from the master key) around the session id and the key.
 * Every request made with the cookie re-checks the key through the same cache as API keys
 * (revoking it ends the session within that cache's few seconds, at once in this process),
 * and the session row (signed out, idle past HUB_CONSOLE_SESSION_IDLE).
 *
 * CSRF: SameSite=Strict does not stop a page on another port of the same host (same site),
 * so every state-changing request made with the cookie must carry the session's CSRF token in
 * `X-CSRF-Token` (an HMAC of the session id, readable only by same-origin scripts through GET
 * /api/v1/sessions/current), and a foreign `Origin` is refused outright. A cross-site form
 * can set neither.
 */

export const SESSION_COOKIE = 'eh_session';
/** Over https the cookie takes the `__Host-` prefix: the browser then refuses it from http or a parent domain. */
export const SECURE_SESSION_COOKIE = '__Host-eh_session';
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const CACHE_TTL_MS = 5_000;

interface Sealed { s: string; k: string }

export interface SessionLocals {
  id: string;
  csrfToken: string;
  expiresAt: Date;
}

export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** Whether the request reached the hub over https (directly, or through a trusted proxy). */
export function isSecure(req: Request, publicUrl: string | null): boolean {
  return req.secure || (publicUrl?.startsWith('https://') ?? false);
}

export class ConsoleSessions {
  private readonly sealKey: Buffer;
  private readonly csrfKey: Buffer;
  private readonly cache = new LruCache<string, { session: ConsoleSession; checked: number }>(10_000);

  constructor(
    masterKey: Buffer,
    private readonly store: ConsoleSessionStore,
    readonly idleMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.sealKey = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'evidence-hub console session seal v1', 32));
    this.csrfKey = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'evidence-hub console csrf v1', 32));
  }

  seal(sessionId: string, apiKey: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify({ s: sessionId, k: apiKey } satisfies Sealed), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  unseal(cookie: string): Sealed | null {
    if (cookie.length > 2048) return null;
    const raw = Buffer.from(cookie, 'base64url');
    if (raw.length < 12 + 16 + 2) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.sealKey, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      const text = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
      const parsed = JSON.parse(text) as Partial<Sealed>;
      return typeof parsed.s === 'string' && typeof parsed.k === 'string' ? { s: parsed.s, k: parsed.k } : null;
    } catch {
      return null;
    }
  }

  csrfToken(sessionId: string): string {
    return createHmac('sha256', this.csrfKey).update(sessionId).digest('base64url');
  }

  csrfMatches(sessionId: string, presented: string | undefined): boolean {
    if (!presented) return false;
    const expected = Buffer.from(this.csrfToken(sessionId));
    const given = Buffer.from(presented);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  expiresAt(session: ConsoleSession): Date {
    return new Date(new Date(session.last_seen_at).getTime() + this.idleMs);
  }

  /** The open session with this id, or null (unknown, signed out, idle too long: then ended). */
  async open(id: string): Promise<ConsoleSession | null> {
    const now = this.now();
    const hit = this.cache.get(id);
    let session = hit && now - hit.checked < CACHE_TTL_MS ? hit.session : await this.store.get(id);
    if (!session || session.ended_at) {
      this.cache.delete(id);
      return null;
    }
    if (this.expiresAt(session).getTime() <= now) {
      this.cache.delete(id);
      await this.store.end(id);
      return null;
    }
    // Written at most every minute (or a quarter of the idle time, when shorter), not per request.
    if (now - new Date(session.last_seen_at).getTime() > Math.min(60_000, this.idleMs / 4)) {
      session = { ...session, last_seen_at: new Date(now) };
      await this.store.touch(id, session.last_seen_at);
    }
    this.cache.set(id, { session, checked: hit && now - hit.checked < CACHE_TTL_MS ? hit.checked : now });
    return session;
  }

  /** Ends a session in the database (in `tx` when given) and in this process's cache. */
  async end(id: string, tx?: Queryable): Promise<void> {
    this.cache.delete(id);
    await (tx ? new ConsoleSessionStore(tx) : this.store).end(id);
  }

  /** Ends a revoked key's sessions. */
  async endForKey(keyId: string): Promise<void> {
    this.cache.deleteWhere((entry) => entry.session.key_id === keyId);
    await this.store.endForKey(keyId);
  }

  /** Opens a session row (in `tx`: on PGlite a transaction holds the only connection). */
  create(tx: Queryable, s: { workspaceId: string; keyId: string; id: string; ip: string | null; userAgent: string | null }): Promise<ConsoleSession> {
    return new ConsoleSessionStore(tx).create(s);
  }

  setCookie(req: Request, res: Response, value: string, publicUrl: string | null): void {
    const secure = isSecure(req, publicUrl);
    const name = secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
    res.append('Set-Cookie', `${name}=${value}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`);
  }

  clearCookie(req: Request, res: Response, publicUrl: string | null): void {
    const secure = isSecure(req, publicUrl);
    const name = secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
    res.append('Set-Cookie', `${name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`);
  }
}

/** The origins the hub is reached at: its public URL's, and the request's own host. */
function sameOrigin(req: Request, publicUrl: string | null): boolean {
  const origin = req.get('origin');
  if (!origin) return true;
  const own = `${req.protocol}://${req.get('host') ?? ''}`;
  const allowed = [own];
  if (publicUrl) allowed.push(new URL(publicUrl).origin);
  return allowed.includes(origin);
}

/**
 * After Authenticator.identify: a request without a key header but with the session cookie is
 * authenticated as the session's key (checked now), and its state-changing requests must pass
 * the CSRF check. A cookie that no longer works is cleared and the request is unauthenticated.
 */
export function sessionAuth(sessions: ConsoleSessions, authenticator: Authenticator, gate: LookupGate, publicUrl: string | null): RequestHandler {
  return async (req, res, next) => {
    if (res.locals.principal || res.locals.authFailed) return next();
    const cookie = cookieValue(req.get('cookie'), SECURE_SESSION_COOKIE) ?? cookieValue(req.get('cookie'), SESSION_COOKIE);
    if (!cookie) {
      // Nobody's session is at stake, but a foreign page must not sign a browser in either.
      if (!SAFE_METHODS.has(req.method) && req.path === '/api/v1/sessions' && !sameOrigin(req, publicUrl)) {
        throw HubError.forbidden('Sign-in is accepted only from the console’s own origin.');
      }
      return next();
    }
    const ended = () => {
      sessions.clearCookie(req, res, publicUrl);
      res.locals.authFailed = true;
      res.locals.sessionEnded = true;
      next();
    };
    const sealed = sessions.unseal(cookie);
    if (!sealed) return ended();
    let key = authenticator.cached(sealed.k);
    if (!key) {
      await gate.beforeLookup?.(req, res);
      key = await authenticator.lookup(sealed.k);
      if (key) gate.verified?.(req, res);
    }
    const session = key ? await sessions.open(sealed.s) : null;
    if (!key || !session || session.key_id !== key.id) return ended();
    if (!SAFE_METHODS.has(req.method)) {
      if (!sameOrigin(req, publicUrl)) throw new HubError(403, 'Forbidden', 'This request came from a page of another origin: the console accepts changes only from its own pages.', { type: 'csrf-failed' });
      if (!sessions.csrfMatches(session.id, req.get(CSRF_HEADER))) {
        throw new HubError(403, 'Forbidden', 'A change made with the console session needs its CSRF token in X-CSRF-Token (GET /api/v1/sessions/current gives it to the console’s own pages).', { type: 'csrf-failed' });
      }
    }
    res.locals.principal = { keyId: key.id, keyName: key.name, workspaceId: key.workspace_id, scopes: key.scopes } satisfies Principal;
    res.locals.session = { id: session.id, csrfToken: sessions.csrfToken(session.id), expiresAt: sessions.expiresAt(session) } satisfies SessionLocals;
    next();
  };
}
