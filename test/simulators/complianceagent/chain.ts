// ComplianceAgent's hash-chained audit log. The seed shows the chain as two
// fields of a single log entry — `"hash": "sha256:abc123def456..."`,
// `"previous_hash": "sha256:xyz789ghi012..."` — and its verification as the
// counters of `POST /api/v1/audit/verify` (`logs_checked`, `chain_valid`,
// `hash_mismatches`, `gaps_detected`, `verification_hash`). How a hash is
// computed is not documented; this simulator's rule (inferred) is
//
//   hash = "sha256:" + hex(SHA-256(previous_hash + canonical JSON of the entry without hash and previous_hash))
//
// with a genesis previous_hash of "sha256:" and 64 zeros. Verification
// recomputes every hash in scope (a difference is a hash mismatch: the entry
// was edited) and checks that every entry's previous_hash is the stored hash
// of the entry before it in the whole log (a difference is a gap: an entry
// was deleted or inserted, or an edited entry was re-hashed). `tamper` and
// `remove` let a test do exactly that.

import { createHash } from 'node:crypto';
import { canonicalJson } from '../../../lib/canonical-json.js';
import { iso } from '../common/time.js';
import type { LogContent } from './records.js';

export const GENESIS_HASH = `sha256:${'0'.repeat(64)}`;

export interface ChainedEntry extends LogContent {
  hash: string;
  previous_hash: string;
}

/** The seed's verify request body: `{"from", "to", "repository_id"}`, each optional here. */
export interface VerifyScope {
  fromMs?: number;
  toMs?: number;
  repositoryId?: string;
}

/** The seed's verify response `data`, field for field. */
export interface VerifyResult {
  verified: boolean;
  logs_checked: number;
  chain_valid: boolean;
  hash_mismatches: number;
  gaps_detected: number;
  verification_hash: string;
  verified_at: string;
}

function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

function contentOf(entry: ChainedEntry): LogContent {
  const { hash: _hash, previous_hash: _previous, ...content } = entry;
  return content;
}

export function hashEntry(previousHash: string, content: LogContent): string {
  return sha256(previousHash + canonicalJson(content));
}

export function inScope(entry: LogContent, scope: VerifyScope): boolean {
  const at = Date.parse(entry.timestamp);
  if (scope.fromMs !== undefined && at < scope.fromMs) return false;
  if (scope.toMs !== undefined && at > scope.toMs) return false;
  return scope.repositoryId === undefined || entry.repository.id === scope.repositoryId;
}

export class AuditChain {
  private readonly entries: ChainedEntry[] = [];

  /** Every entry in chain (= time) order; a live, read-only view. */
  get all(): readonly ChainedEntry[] {
    return this.entries;
  }

  get size(): number {
    return this.entries.length;
  }

  find(id: string): ChainedEntry | undefined {
    return this.entries.find((entry) => entry.id === id);
  }

  append(content: LogContent): ChainedEntry {
    const previous = this.entries.at(-1)?.hash ?? GENESIS_HASH;
    const entry: ChainedEntry = { ...structuredClone(content), previous_hash: previous, hash: hashEntry(previous, content) };
    this.entries.push(entry);
    return entry;
  }

  /**
   * Edits an entry in place, as someone with database access would. Without `rehash` the
   * stored hash no longer matches the content (a hash mismatch); with it the entry is
   * consistent again but the next entry's previous_hash no longer links to it (a gap).
   */
  tamper(id: string, edit: (entry: LogContent) => void, options: { rehash?: boolean } = {}): ChainedEntry {
    const entry = this.find(id);
    if (!entry) throw new RangeError(`no audit log entry ${id}`);
    const content = contentOf(entry);
    edit(content);
    Object.assign(entry, content);
    if (options.rehash) entry.hash = hashEntry(entry.previous_hash, contentOf(entry));
    return entry;
  }

  /** Deletes an entry: the next entry's previous_hash then points at nothing (a gap). */
  remove(id: string): void {
    const index = this.entries.findIndex((entry) => entry.id === id);
    if (index < 0) throw new RangeError(`no audit log entry ${id}`);
    this.entries.splice(index, 1);
  }

  verify(scope: VerifyScope, nowMs: number): VerifyResult {
    let checked = 0;
    let mismatches = 0;
    let gaps = 0;
    const digest = createHash('sha256');
    this.entries.forEach((entry, index) => {
      if (!inScope(entry, scope)) return;
      checked += 1;
      digest.update(`${entry.hash}\n`);
      const expectedPrevious = index === 0 ? GENESIS_HASH : (this.entries[index - 1] as ChainedEntry).hash;
      if (entry.previous_hash !== expectedPrevious) gaps += 1;
      if (hashEntry(entry.previous_hash, contentOf(entry)) !== entry.hash) mismatches += 1;
    });
    // The seed does not say how `verified` and `chain_valid` differ; here both mean "no mismatch and no gap".
    const valid = mismatches === 0 && gaps === 0;
    return {
      verified: valid,
      logs_checked: checked,
      chain_valid: valid,
      hash_mismatches: mismatches,
      gaps_detected: gaps,
      verification_hash: `sha256:${digest.digest('hex')}`,
      verified_at: iso(nowMs),
    };
  }
}
