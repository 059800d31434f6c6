// The JSON Web Tokens AuditComply issues. The seed documents the endpoints of
// django-rest-framework-jwt ("API View that receives a POST with a user's
// username and password. Returns a JSON Web Token that can be used for
// authenticated requests."), so tokens are what that library makes: HS256,
// payload {user_id, username, email, exp, orig_iat}, verified signature
// first and expiry second, with no leeway.

import { createHmac, timingSafeEqual } from 'node:crypto';

export interface DrfJwtPayload {
  user_id: number;
  username: string;
  email: string;
  /** Expiry, epoch seconds. */
  exp: number;
  /** Issue time of the first token in a refresh chain, epoch seconds. */
  orig_iat: number;
}

export type DecodedJwt = { ok: true; payload: DrfJwtPayload } | { ok: false; reason: 'expired' | 'undecodable' };

const HEADER = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'HS256' })).toString('base64url');

function signature(signingInput: string, secret: Buffer): Buffer {
  return createHmac('sha256', secret).update(signingInput).digest();
}

export function encodeJwt(payload: DrfJwtPayload, secret: Buffer): string {
  const signingInput = `${HEADER}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${signingInput}.${signature(signingInput, secret).toString('base64url')}`;
}

export function decodeJwt(token: string, secret: Buffer, nowMs: number): DecodedJwt {
  const [header, payload, sent, extra] = token.split('.');
  if (!header || !payload || !sent || extra !== undefined) return { ok: false, reason: 'undecodable' };
  const expected = signature(`${header}.${payload}`, secret);
  const given = Buffer.from(sent, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'undecodable' };
  let claims: DrfJwtPayload;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as DrfJwtPayload;
  } catch {
    return { ok: false, reason: 'undecodable' };
  }
  // PyJWT rejects a token once now >= exp.
  if (typeof claims.exp !== 'number' || Math.floor(nowMs / 1000) >= claims.exp) return { ok: false, reason: 'expired' };
  return { ok: true, payload: claims };
}
