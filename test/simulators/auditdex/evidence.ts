// AUDITDEX evidence submission, from the seed:
//   POST /engagements/{engagement_id}/evidence
//   Authorization: Bearer {token}
//   Content-Type: multipart/form-data
//   control_id: ctrl_abc123
//   description: Q1 access review results
//   file: [binary]
// "Evidence files are automatically hashed (SHA-256) and stored immutably.
// The response includes the hash for your records."
//
// Chosen where the seed is silent: `control_id` and `file` are required,
// `description` is not; a control_id that is not a control of the engagement
// is a 400 validation error; every submission is a new item (the seed names
// no idempotency, and stored evidence is immutable); the answer is 201 with
// the hash as lower-case hex in `sha256`. The seed gives no size limit.

import { createHash } from 'node:crypto';
import { jsonResponse, type SimRequest, type SimResponse } from '../common/server.js';
import { iso } from '../common/time.js';
import { boundaryOf, readMultipartForm, type MultipartLimits, type UploadedFile } from '../audigyd/multipart.js';
import { bodyStream } from '../audigyd/request-body.js';
import type { AuditdexEngagement } from './engagements.js';
import { validationProblem } from './problem.js';

export interface AuditdexEvidenceItem {
  readonly evidenceId: string;
  readonly engagementId: string;
  readonly controlId: string;
  readonly description: string | null;
  /** The file as received: name, type, size, true SHA-256 (and bytes, when small). */
  readonly file: UploadedFile;
  /** The SHA-256 the response reported: `file.sha256`, unless a wrong hash was injected. */
  readonly reportedSha256: string;
  /** Every text field of the form, as sent. */
  readonly fields: Readonly<Record<string, string>>;
  readonly clientId: string;
  readonly submittedAtMs: number;
  /** Recorded, not honoured: the seed does not mention an Idempotency-Key header. */
  readonly idempotencyKey?: string;
}

export class AuditdexEvidenceStore {
  /** Every submission, in arrival order. */
  readonly items: AuditdexEvidenceItem[] = [];
  private wrongHashesArmed = 0;

  /**
   * The next `times` submissions answer a wrong SHA-256 (the hash of other
   * bytes), as if AUDITDEX had stored something else than was sent: for
   * testing a client's check of the returned hash.
   */
  reportWrongHash(times: number): void {
    if (!Number.isInteger(times) || times < 1) throw new RangeError(`times must be a positive integer, got ${times}`);
    this.wrongHashesArmed += times;
  }

  add(evidence: Omit<AuditdexEvidenceItem, 'evidenceId' | 'reportedSha256'>): AuditdexEvidenceItem {
    let reportedSha256 = evidence.file.sha256;
    if (this.wrongHashesArmed > 0) {
      this.wrongHashesArmed -= 1;
      reportedSha256 = createHash('sha256').update(`not ${reportedSha256}`).digest('hex');
    }
    const item: AuditdexEvidenceItem = { evidenceId: `evd_${String(this.items.length + 1).padStart(6, '0')}`, ...evidence, reportedSha256 };
    this.items.push(item);
    return item;
  }

  linkedTo(engagementId: string, controlId: string): AuditdexEvidenceItem[] {
    return this.items.filter((item) => item.engagementId === engagementId && item.controlId === controlId);
  }
}

export function evidenceJson(item: AuditdexEvidenceItem): Record<string, unknown> {
  return {
    evidence_id: item.evidenceId,
    engagement_id: item.engagementId,
    control_id: item.controlId,
    description: item.description,
    file_name: item.file.filename,
    content_type: item.file.contentType,
    size_bytes: item.file.size,
    sha256: item.reportedSha256,
    submitted_at: iso(item.submittedAtMs),
  };
}

/** POST /v1/engagements/{engagement_id}/evidence, for an engagement the client may write to. */
export async function submitEvidence(req: SimRequest, engagement: AuditdexEngagement, clientId: string, store: AuditdexEvidenceStore, limits: MultipartLimits): Promise<SimResponse> {
  const boundary = boundaryOf(req.headers['content-type']);
  if (!boundary) return validationProblem(req, [{ name: 'Content-Type', reason: 'must be multipart/form-data with a boundary' }]);
  const parsed = await readMultipartForm(bodyStream(req), boundary, limits);
  if ('rejected' in parsed) return validationProblem(req, [{ name: 'body', reason: parsed.message }]);

  const { fields, files } = parsed.form;
  const invalid: { name: string; reason: string }[] = [];
  const controlId = fields['control_id'];
  if (!controlId) invalid.push({ name: 'control_id', reason: 'is required' });
  else if (!engagement.controls.some((control) => control.id === controlId)) invalid.push({ name: 'control_id', reason: `${controlId} is not a control of engagement ${engagement.id}` });
  const file = files.find((f) => f.field === 'file');
  if (!file) invalid.push({ name: 'file', reason: 'is required' });
  if (files.length > 1) invalid.push({ name: 'file', reason: 'send one file per submission' });
  if (!controlId || !file || invalid.length > 0) return validationProblem(req, invalid);

  const idempotencyKey = req.headers['idempotency-key'];
  const item = store.add({
    engagementId: engagement.id,
    controlId,
    description: fields['description'] ?? null,
    file,
    fields,
    clientId,
    submittedAtMs: req.receivedAtMs,
    ...(typeof idempotencyKey === 'string' ? { idempotencyKey } : {}),
  });
  return jsonResponse(201, evidenceJson(item));
}
