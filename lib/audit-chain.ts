import { createHash, type Hash } from 'node:crypto';
import { canonicalSha256 } from './canonical-json.js';
import { REDACTED, isSecretField } from './redact.js';

/**
 * The hash chain of the audit log, kept free of storage so that anyone holding the entries
 * (an auditor with an export, a test) can recompute it:
 *
 *   hash = SHA-256 hex of the RFC 8785 canonical JSON of every field of the entry except
 *          `hash` itself: id, workspace_id, seq, occurred_at (ISO 8601 UTC with milliseconds),
 *          actor {type, id, name}, action, resource_type, resource_id, changes, ip, user_agent,
 *          request_id, previous_hash (absent values are JSON null).
 *   previous_hash = the hash of the entry with seq - 1 in the same workspace; GENESIS_HASH
 *          for seq 1.
 */
export const GENESIS_HASH = '0'.repeat(64);

export type AuditActorType = 'api_key' | 'system' | 'valet';
export const AUDIT_ACTOR_TYPES: readonly AuditActorType[] = ['api_key', 'system', 'valet'];

export interface AuditActor {
  type: AuditActorType;
  id: string;
  name: string | null;
  /** The key's own workspace, when it acted in another one (a workspaces:admin key). */
  workspace_id?: string;
}

/** Exactly the fields the hash covers. */
export interface ChainedFields {
  id: string;
  workspace_id: string;
  seq: number;
  occurred_at: Date;
  actor: AuditActor;
  action: string;
  resource_type: string;
  resource_id: string | null;
  changes: unknown;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  previous_hash: string;
}

export function entryHash(e: ChainedFields): string {
  return canonicalSha256({
    id: e.id,
    workspace_id: e.workspace_id,
    seq: e.seq,
    occurred_at: e.occurred_at.toISOString(),
    actor: { type: e.actor.type, id: e.actor.id, name: e.actor.name ?? null },
    action: e.action,
    resource_type: e.resource_type,
    resource_id: e.resource_id,
    changes: e.changes ?? null,
    ip: e.ip,
    user_agent: e.user_agent,
    request_id: e.request_id,
    previous_hash: e.previous_hash,
  });
}

/**
 * `verification_hash` of a verify report: SHA-256 hex over the stored `hash` of every checked
 * entry in seq order, each followed by "\n". An auditor can reproduce it from the listed
 * entries with `printf '%s\n' <hashes…> | sha256sum`, and compare two reports of the same
 * range to see that nothing changed in between. Fed one entry at a time: verification streams.
 */
export class VerificationHasher {
  private readonly hash: Hash = createHash('sha256');

  add(entryHashHex: string): void {
    this.hash.update(entryHashHex + '\n');
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

// ---------------------------------------------------------------------------------------------
// Making `changes` safe to store and stable to hash

const MAX_DEPTH = 32;
const TRUNCATED = '[TRUNCATED]';
// Values that are credentials whatever field they sit in: hub API keys, webhook secrets, bearer tokens.
const SECRET_VALUE = /^(ehk_|whsec_|Bearer\s)/i;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text as PostgreSQL will store it and give back: no NUL characters (text and jsonb refuse
 * them) and no lone surrogates (jsonb refuses their escapes). The hash is taken over the
 * cleaned value, so what is read back recomputes to the same hash.
 */
export function storableText(value: string): string {
  return value.replaceAll('\u0000', '').replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * `changes` as the audit log stores it: secret-looking fields (secret, password, token,
 * api_key, client_secret, private_key, authorization, … — the rule of lib/redact.ts) become
 * "[REDACTED]", and the value is reduced to plain JSON that survives a jsonb round trip
 * unchanged (dates as ISO strings, no undefined, no non-finite numbers). Under a secret-looking
 * object the field names stay (which secrets changed is worth knowing) and every value is
 * replaced; null stays null (a removed secret reveals nothing).
 */
export function sanitizeChanges(value: unknown): unknown {
  return clean(value, 0, false);
}

function clean(value: unknown, depth: number, underSecret: boolean): unknown {
  if (value === undefined || value === null || typeof value === 'function' || typeof value === 'symbol') return null;
  if (typeof value === 'string') {
    if (underSecret || SECRET_VALUE.test(value)) return REDACTED;
    return storableText(value);
  }
  if (typeof value === 'number') return underSecret ? REDACTED : Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean') return underSecret ? REDACTED : value;
  if (typeof value === 'bigint') return underSecret ? REDACTED : value.toString();
  if (depth >= MAX_DEPTH) return TRUNCATED;
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return clean(withJson.toJSON(), depth + 1, underSecret);
  if (Array.isArray(value)) return underSecret ? REDACTED : value.map((item) => clean(item, depth + 1, false));
  const out: Record<string, unknown> = {};
  for (const [rawKey, item] of Object.entries(value)) {
    if (item === undefined || typeof item === 'function') continue;
    const key = storableText(rawKey);
    out[key] = clean(item, depth + 1, underSecret || isSecretField(key));
  }
  return out;
}
