import { GENESIS_HASH, entryHash, type ChainedFields } from '../../lib/audit-chain.js';
import type { Db } from '../../store/db.js';

const COLUMNS = 'id, workspace_id, seq, occurred_at, actor, action, resource_type, resource_id, changes, ip, user_agent, request_id, previous_hash, hash';
const ACTOR = { type: 'system' as const, id: 'bulk-chain', name: 'Bulk chain' };

export interface BulkChain {
  first: number;
  last: number;
  lastHash: string;
  /** The stored hash of every entry written, in seq order (for verification_hash). */
  hashes: string[];
}

/**
 * Appends `count` valid entries to a workspace's chain straight into audit_log (multi-row
 * inserts of `batch` rows), hashed exactly as the log hashes them and linked to the current
 * head (the last live entry or the last archive checkpoint). For tests and benchmarks that
 * need a long chain quickly; nothing else may append to the workspace meanwhile.
 * occurred_at starts `ageMs` ago and advances one millisecond per entry.
 */
export async function appendBulkChain(db: Db, workspaceId: string, count: number, options: { batch?: number; ageMs?: number; keepHashes?: boolean } = {}): Promise<BulkChain> {
  const batch = options.batch ?? 5_000;
  const [head] = await db.query<{ seq: number | string; hash: string }>(
    `SELECT seq, hash FROM (
       (SELECT seq, hash FROM audit_log WHERE workspace_id = $1 ORDER BY seq DESC LIMIT 1)
       UNION ALL
       (SELECT seq, hash FROM audit_log_checkpoints WHERE workspace_id = $1 ORDER BY seq DESC LIMIT 1)
     ) AS h ORDER BY seq DESC LIMIT 1`,
    [workspaceId],
  );
  let seq = head ? Number(head.seq) : 0;
  let previous = head?.hash ?? GENESIS_HASH;
  const first = seq + 1;
  const start = Date.now() - (options.ageMs ?? count + 60_000);
  const hashes: string[] = [];
  for (let done = 0; done < count; done += batch) {
    const rows: (ChainedFields & { hash: string })[] = [];
    for (let i = done; i < Math.min(count, done + batch); i++) {
      seq++;
      const fields: ChainedFields = {
        id: `aud_bulk_${workspaceId}_${seq}`, workspace_id: workspaceId, seq, occurred_at: new Date(start + i), actor: ACTOR,
        action: 'bulk.recorded', resource_type: 'bulk', resource_id: `item_${seq}`, changes: { n: seq },
        ip: null, user_agent: null, request_id: null, previous_hash: previous,
      };
      const hash = entryHash(fields);
      previous = hash;
      rows.push({ ...fields, hash });
      if (options.keepHashes !== false) hashes.push(hash);
    }
    const column = <T>(pick: (e: ChainedFields & { hash: string }) => T) => rows.map(pick);
    await db.query(
      `INSERT INTO audit_log (${COLUMNS})
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::jsonb[], $6::text[], $7::text[], $8::text[], $9::jsonb[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])`,
      [column((e) => e.id), column((e) => e.workspace_id), column((e) => e.seq), column((e) => e.occurred_at.toISOString()), column((e) => JSON.stringify(e.actor)),
        column((e) => e.action), column((e) => e.resource_type), column((e) => e.resource_id), column((e) => JSON.stringify(e.changes)),
        column((e) => e.ip), column((e) => e.user_agent), column((e) => e.request_id), column((e) => e.previous_hash), column((e) => e.hash)],
    );
  }
  return { first, last: seq, lastHash: previous, hashes };
}
