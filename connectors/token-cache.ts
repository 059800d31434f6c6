/**
 * An access token reused until shortly before it expires, fetched by at most one request
 * at a time (concurrent callers wait for the same fetch).
 */
export class TokenCache {
  private token: { value: string; renewAtMs: number } | null = null;
  private pending: Promise<string> | null = null;

  constructor(
    private readonly fetchToken: () => Promise<{ value: string; expiresInSeconds: number }>,
    /** Renew this long before expiry, so a token never expires mid-request. */
    private readonly marginMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<string> {
    if (this.token && this.token.renewAtMs > this.now()) return this.token.value;
    this.pending ??= this.fetchToken()
      .then(({ value, expiresInSeconds }) => {
        // A short-lived token is renewed at 80 % of its life rather than never reused.
        const margin = Math.min(this.marginMs, expiresInSeconds * 200);
        this.token = { value, renewAtMs: this.now() + expiresInSeconds * 1000 - margin };
        return value;
      })
      .finally(() => { this.pending = null; });
    return this.pending;
  }

  /** Drops the token (the server said it is no longer valid). */
  invalidate(): void {
    this.token = null;
  }
}
