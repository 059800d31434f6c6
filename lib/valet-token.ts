import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * A valet key for one run's status URL: whoever holds the URL (Power Automate polls without
 * the trigger's credentials) may read that run's status, nothing else, until it expires.
 * `<base64url {r: runId, e: expiry}>.<base64url HMAC-SHA256>`, keyed by a key derived from
 * the master key (so it survives restarts and is shared by every API process).
 */
export class ValetTokens {
  private readonly key: Buffer;

  constructor(masterKey: Buffer, private readonly ttlSeconds = 24 * 3600, private readonly now: () => number = Date.now) {
    this.key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'evidence-hub valet token v1', 32));
  }

  issue(runId: string): string {
    const claims = Buffer.from(JSON.stringify({ r: runId, e: Math.floor(this.now() / 1000) + this.ttlSeconds })).toString('base64url');
    return `${claims}.${this.sign(claims)}`;
  }

  /** True when the token is authentic, unexpired, and for this run. */
  allows(token: string | undefined, runId: string): boolean {
    if (!token || token.length > 512) return false;
    const [claims, signature] = token.split('.');
    if (!claims || !signature) return false;
    const expected = Buffer.from(this.sign(claims));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return false;
    try {
      const { r, e } = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as { r?: unknown; e?: unknown };
      return r === runId && typeof e === 'number' && e * 1000 > this.now();
    } catch {
      return false;
    }
  }

  private sign(claims: string): string {
    return createHmac('sha256', this.key).update(claims).digest('base64url');
  }
}
