// The evidence AUDIGYD stores, and the fields both write endpoints share.
//
// Identity, from the seed: "For POST evidence pushes, treat retries as
// idempotent by reusing the same title + source + collected_at so accidental
// duplicates can be reconciled." The section that introduces both endpoints
// is "Pushing Evidence In" ("Direct-write or push/match endpoints"), so this
// holds for both: on one question, a second request with the same title,
// source and collected_at gets the first one's evidence item back instead of
// a new one. A request without collected_at is evidence collected when it
// arrived: its collected_at is the time received, and it never repeats an
// earlier request.

import { iso } from '../common/time.js';
import type { UploadedFile } from './multipart.js';

/** "Optional result badge: pass · fail · info". */
export const RESULTS = ['pass', 'fail', 'info'] as const;
export type EvidenceResult = (typeof RESULTS)[number];

export interface AudigydEvidenceItem {
  readonly evidenceId: string;
  readonly assessmentId: string;
  readonly questionId: string;
  readonly controlRef: string;
  /** The endpoint that stored it. */
  readonly via: 'push' | 'direct-write';
  readonly title: string | null;
  readonly source: string;
  readonly result: EvidenceResult | null;
  /** As sent (the identity compares the strings), or the time received when not sent. */
  readonly collectedAt: string;
  readonly collectedAtSent: boolean;
  /** The JSON payload (a push, or a JSON direct write). */
  readonly payload?: unknown;
  /** The uploaded file (a multipart direct write). */
  readonly file?: UploadedFile;
  /** What the request carried: the JSON body, or the multipart text fields. */
  readonly body: Readonly<Record<string, unknown>>;
  readonly receivedAtMs: number;
  /** Recorded, not honoured: the seed does not mention an Idempotency-Key header. */
  readonly idempotencyKey?: string;
  /** Later requests with the same identity that were answered with this item. */
  repeats: number;
}

export type NewEvidence = Omit<AudigydEvidenceItem, 'evidenceId' | 'repeats'>;

export class AudigydEvidenceStore {
  /** Every stored item, in arrival order. */
  readonly items: AudigydEvidenceItem[] = [];
  /** Requests each write endpoint handled, whatever it answered (not those the global limiter or a fault answered), and those answered with an existing item. */
  readonly received = { push: 0, directWrite: 0, duplicates: 0 };
  private readonly byIdentity = new Map<string, AudigydEvidenceItem>();

  /** Stores the evidence, or finds the item it duplicates. */
  store(evidence: NewEvidence): { item: AudigydEvidenceItem; duplicate: boolean } {
    const identity = JSON.stringify([evidence.assessmentId, evidence.questionId, evidence.title, evidence.source, evidence.collectedAt]);
    const existing = evidence.collectedAtSent ? this.byIdentity.get(identity) : undefined;
    if (existing) {
      existing.repeats += 1;
      this.received.duplicates += 1;
      return { item: existing, duplicate: true };
    }
    const item: AudigydEvidenceItem = { evidenceId: `ev_${String(this.items.length + 1).padStart(6, '0')}`, ...evidence, repeats: 0 };
    this.items.push(item);
    if (evidence.collectedAtSent) this.byIdentity.set(identity, item);
    return { item, duplicate: false };
  }
}

/** An item as the API shows it. */
export function evidenceJson(item: AudigydEvidenceItem, duplicate: boolean): Record<string, unknown> {
  return {
    evidence_id: item.evidenceId,
    assessment_id: item.assessmentId,
    question_id: item.questionId,
    control_ref: item.controlRef,
    title: item.title,
    source: item.source,
    result: item.result,
    collected_at: item.collectedAt,
    created_at: iso(item.receivedAtMs),
    ...(item.file ? { file: { filename: item.file.filename, content_type: item.file.contentType, size: item.file.size, sha256: item.file.sha256 } } : {}),
    duplicate,
  };
}

/** The identity and badge fields of either endpoint, validated; null when not sent. */
export interface EvidenceFields {
  title: string | null;
  source: string;
  result: EvidenceResult | null;
  collectedAt: string | null;
}

/** ISO 8601 date-time, as the seed's `collected_at=$(date -u +%FT%TZ)` produces. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Reads title, source, result and collected_at from a JSON body or multipart
 * fields, adding what is wrong to `problems`. `source` is always required
 * (every seed example sends it, and evidence.added carries it); `title` where
 * the endpoint needs it.
 */
export function readEvidenceFields(body: Readonly<Record<string, unknown>>, titleRequired: boolean, problems: string[]): EvidenceFields {
  const title = textField(body, 'title', titleRequired, problems);
  const source = textField(body, 'source', true, problems) ?? '';
  const result = body['result'];
  if (result !== undefined && !RESULTS.includes(result as EvidenceResult)) problems.push(`result must be one of ${RESULTS.join(', ')}`);
  const collectedAt = textField(body, 'collected_at', false, problems);
  if (collectedAt !== null && (!DATE_TIME.test(collectedAt) || Number.isNaN(Date.parse(collectedAt)))) problems.push('collected_at must be an ISO 8601 date-time');
  return { title, source, result: (result as EvidenceResult | undefined) ?? null, collectedAt };
}

/** A non-empty string field; null when absent (a problem if required) or invalid (a problem). */
export function textField(body: Readonly<Record<string, unknown>>, name: string, required: boolean, problems: string[]): string | null {
  const value = body[name];
  if (value === undefined) {
    if (required) problems.push(`${name} is required`);
    return null;
  }
  if (typeof value !== 'string' || value.trim() === '') {
    problems.push(`${name} must be a non-empty string`);
    return null;
  }
  return value;
}
