import type { Queryable } from './db.js';

/**
 * The API rate limit's windows, shared by the API processes on one PostgreSQL: each process
 * takes a lease (a share of a bucket's window) in one statement and serves requests from it,
 * so the processes together never grant more than the limit (api/rate-limit.ts).
 */
export class RateLimitLeaseStore {
  constructor(private readonly db: Queryable) {}

  /**
   * Takes up to `wanted` of the `limit` of `bucket`'s window starting at `windowStart`, in one
   * UPSERT: what was granted (0 once the window is spent) and the window's total taken after it.
   */
  async take(bucket: string, windowStart: Date, wanted: number, limit: number): Promise<{ granted: number; taken: number }> {
    const [row] = await this.db.query<{ granted: number; taken: number }>(
      `INSERT INTO rate_limit_windows AS w (bucket, window_start, taken, last_grant) VALUES ($1, $2, LEAST($3::int, $4::int), LEAST($3::int, $4::int))
       ON CONFLICT (bucket, window_start) DO UPDATE
         SET last_grant = LEAST($3::int, GREATEST(0, $4::int - w.taken)), taken = w.taken + LEAST($3::int, GREATEST(0, $4::int - w.taken))
       RETURNING last_grant AS granted, taken`,
      [bucket, windowStart, wanted, limit],
    );
    return { granted: Number(row!.granted), taken: Number(row!.taken) };
  }

  /** Gives back the unused part of a lease, for the other processes to take. */
  async giveBack(bucket: string, windowStart: Date, unused: number): Promise<void> {
    await this.db.query('UPDATE rate_limit_windows SET taken = GREATEST(0, taken - $3::int) WHERE bucket = $1 AND window_start = $2', [bucket, windowStart, unused]);
  }

  /** Forgets the windows that started before `before`. */
  async sweep(before: Date): Promise<void> {
    await this.db.query('DELETE FROM rate_limit_windows WHERE window_start < $1', [before]);
  }
}

/**
 * Slots of the per-endpoint in-flight cap for webhook deliveries, shared by the worker
 * processes on one PostgreSQL: a slot is a row held by one process until it gives it back or
 * its lease expires (renewed while the holder lives), so a dead holder's slots come back.
 */
export class EndpointSlotStore {
  constructor(private readonly db: Queryable) {}

  /** Claims one free slot (1..limit) of `endpoint` for `holder`, or null when all are held. */
  async claim(endpoint: string, holder: string, limit: number, ttlMs: number): Promise<number | null> {
    // Two claimers may pick the same free slot: the second one's conflict finds it live and
    // claims nothing, and it looks again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const rows = await this.db.query<{ slot: number; free: number }>(
        `WITH free AS (
           SELECT s FROM generate_series(1, $3::int) AS s
           WHERE NOT EXISTS (SELECT 1 FROM webhook_inflight_slots l WHERE l.webhook_id = $1 AND l.slot = s AND l.expires_at > now())
           ORDER BY s LIMIT 1
         )
         INSERT INTO webhook_inflight_slots AS l (webhook_id, slot, holder, expires_at)
         SELECT $1, s, $2, now() + make_interval(secs => $4::double precision / 1000) FROM free
         ON CONFLICT (webhook_id, slot) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at WHERE l.expires_at <= now()
         RETURNING slot`,
        [endpoint, holder, limit, ttlMs],
      );
      if (rows[0]) return Number(rows[0].slot);
      const [{ free }] = (await this.db.query<{ free: number }>(
        `SELECT $2::int - count(*)::int AS free FROM webhook_inflight_slots WHERE webhook_id = $1 AND slot <= $2::int AND expires_at > now()`, [endpoint, limit],
      )) as [{ free: number }];
      if (Number(free) <= 0) return null;
    }
    return null;
  }

  /** Extends the lease of every slot `holder` holds. */
  async renew(holder: string, ttlMs: number): Promise<void> {
    await this.db.query(`UPDATE webhook_inflight_slots SET expires_at = now() + make_interval(secs => $2::double precision / 1000) WHERE holder = $1`, [holder, ttlMs]);
  }

  async release(endpoint: string, slot: number, holder: string): Promise<void> {
    await this.db.query('DELETE FROM webhook_inflight_slots WHERE webhook_id = $1 AND slot = $2 AND holder = $3', [endpoint, slot, holder]);
  }

  async releaseAll(holder: string): Promise<void> {
    await this.db.query('DELETE FROM webhook_inflight_slots WHERE holder = $1', [holder]);
  }

  /** Slots of `endpoint` held now, by any process (tests and diagnostics). */
  async held(endpoint: string): Promise<number> {
    const [row] = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_inflight_slots WHERE webhook_id = $1 AND expires_at > now()', [endpoint]);
    return Number(row!.n);
  }
}
