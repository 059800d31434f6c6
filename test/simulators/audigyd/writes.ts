// AUDIGYD's two "Inbound evidence write endpoints", from the seed's "Pushing
// Evidence In":
//   /v1/assessments/:id/evidence/push — "Send a control_ref + question_match
//   hint and let AUDIGYD find the right question by name … Single match
//   attaches automatically; ambiguous matches return candidates. Set
//   allow_multiple: true to broadcast to every match (capped at 25)".
//   /v1/assessments/:id/questions/:qid/evidence — "Attach a file (multipart,
//   up to 100MB) or a structured JSON payload (up to 1MB) to a specific
//   question when your integration knows the AUDIGYD IDs."
// The caller has already authenticated the key, checked its scope and found
// the assessment (and question) open to writes.
//
// What the seed leaves open, chosen here: an ambiguous hint and a hint that
// matches nothing are both 422 (not 409, which the seed gives to
// finalized/archived assessments, nor 404, which it gives to unknown and
// cross-tenant assessments), the ambiguous one with `candidates`; a request
// that finds an existing item (same title + source + collected_at) is 200
// with that item and `duplicate: true`, a new one 201.

import { mediaType, type SimRequest, type SimResponse } from '../common/server.js';
import { iso } from '../common/time.js';
import { BROADCAST_CAP, matchQuestions, type AudigydAssessment, type AudigydQuestion } from './assessments.js';
import { evidenceJson, readEvidenceFields, textField, type AudigydEvidenceStore, type EvidenceFields, type NewEvidence } from './evidence.js';
import { boundaryOf, readMultipartForm, type MultipartLimits } from './multipart.js';
import { bodyStream, readBodyUpTo } from './request-body.js';
import { audigydData, audigydError } from './responses.js';

export interface WriteSettings {
  readonly store: AudigydEvidenceStore;
  /** "a structured JSON payload (up to 1MB)": the limit on a JSON request body. */
  readonly maxJsonBytes: number;
  /** "Attach a file (multipart, up to 100MB)" and how much of a file to keep. */
  readonly upload: MultipartLimits;
}

/** POST /api/v1/assessments/:id/evidence/push */
export async function pushEvidence(req: SimRequest, assessment: AudigydAssessment, settings: WriteSettings): Promise<SimResponse> {
  if (mediaType(req) !== 'application/json') return audigydError(415, 'Content-Type must be application/json.');
  const body = await readJsonObject(req, settings.maxJsonBytes);
  if ('response' in body) return body.response;
  const problems: string[] = [];
  const controlRef = textField(body.value, 'control_ref', true, problems);
  const questionMatch = textField(body.value, 'question_match', true, problems);
  const fields = readEvidenceFields(body.value, true, problems);
  const allowMultiple = body.value['allow_multiple'] ?? false;
  if (typeof allowMultiple !== 'boolean') problems.push('allow_multiple must be a boolean');
  if (controlRef === null || questionMatch === null || problems.length > 0) return audigydError(400, problems.join('; '));

  const matches = matchQuestions(assessment, controlRef, questionMatch);
  if (matches.length === 0) return audigydError(422, `No question under control_ref "${controlRef}" matches "${questionMatch}".`);
  if (matches.length > 1 && !allowMultiple) {
    return audigydError(422, `${matches.length} questions under control_ref "${controlRef}" match "${questionMatch}": pick one, or set allow_multiple: true.`, {
      candidates: matches.map(candidateJson),
    });
  }
  const outcomes = matches.slice(0, BROADCAST_CAP).map((question) => settings.store.store(newEvidence(req, assessment, question, 'push', fields, body.value, { payload: body.value['payload'] })));
  const anyCreated = outcomes.some((outcome) => !outcome.duplicate);
  return audigydData(anyCreated ? 201 : 200, { matched: matches.length, evidence: outcomes.map(({ item, duplicate }) => evidenceJson(item, duplicate)) });
}

/** POST /api/v1/assessments/:id/questions/:qid/evidence: a multipart file, or a JSON payload. */
export async function writeEvidence(req: SimRequest, assessment: AudigydAssessment, question: AudigydQuestion, settings: WriteSettings): Promise<SimResponse> {
  const type = mediaType(req);
  if (type === 'multipart/form-data') return writeFile(req, assessment, question, settings);
  if (type !== 'application/json') return audigydError(415, 'Send a file as multipart/form-data or a payload as application/json.');
  const body = await readJsonObject(req, settings.maxJsonBytes);
  if ('response' in body) return body.response;
  const problems: string[] = [];
  const fields = readEvidenceFields(body.value, false, problems);
  if (body.value['payload'] === undefined) problems.push('payload is required');
  if (problems.length > 0) return audigydError(400, problems.join('; '));
  return stored(settings.store.store(newEvidence(req, assessment, question, 'direct-write', fields, body.value, { payload: body.value['payload'] })));
}

/** The seed's curl: `-F "file=@…" -F "source=jamf-export" -F "collected_at=…" -F "result=pass"`. */
async function writeFile(req: SimRequest, assessment: AudigydAssessment, question: AudigydQuestion, settings: WriteSettings): Promise<SimResponse> {
  const boundary = boundaryOf(req.headers['content-type']);
  if (!boundary) return audigydError(400, 'multipart/form-data without a boundary.');
  const parsed = await readMultipartForm(bodyStream(req), boundary, settings.upload);
  if ('rejected' in parsed) {
    if (parsed.rejected === 'file-too-large') return audigydError(413, `The file is over the ${settings.upload.maxFileBytes}-byte limit.`);
    if (parsed.rejected === 'field-too-large') return audigydError(413, `A form field is over the ${settings.upload.maxFieldBytes}-byte limit.`);
    return audigydError(400, `Malformed multipart body: ${parsed.message}.`);
  }
  const { fields: formFields, files } = parsed.form;
  const problems: string[] = [];
  const fields = readEvidenceFields(formFields, false, problems);
  const file = files.find((f) => f.field === 'file');
  if (!file) problems.push('file is required');
  if (files.length > 1) problems.push('send one file, in the field "file"');
  if (!file || problems.length > 0) return audigydError(400, problems.join('; '));
  return stored(settings.store.store(newEvidence(req, assessment, question, 'direct-write', fields, formFields, { file })));
}

function newEvidence(
  req: SimRequest,
  assessment: AudigydAssessment,
  question: AudigydQuestion,
  via: NewEvidence['via'],
  fields: EvidenceFields,
  body: Record<string, unknown>,
  content: Pick<NewEvidence, 'payload' | 'file'>,
): NewEvidence {
  const idempotencyKey = req.headers['idempotency-key'];
  return {
    assessmentId: assessment.id,
    questionId: question.id,
    controlRef: question.controlRef,
    via,
    title: fields.title,
    source: fields.source,
    result: fields.result,
    collectedAt: fields.collectedAt ?? iso(req.receivedAtMs),
    collectedAtSent: fields.collectedAt !== null,
    ...content,
    body,
    receivedAtMs: req.receivedAtMs,
    ...(typeof idempotencyKey === 'string' ? { idempotencyKey } : {}),
  };
}

function stored({ item, duplicate }: ReturnType<AudigydEvidenceStore['store']>): SimResponse {
  return audigydData(duplicate ? 200 : 201, evidenceJson(item, duplicate));
}

function candidateJson(question: AudigydQuestion): Record<string, string> {
  return { question_id: question.id, control_ref: question.controlRef, text: question.text };
}

/** The body as a JSON object, or the error to answer (413 past the limit). */
async function readJsonObject(req: SimRequest, maxBytes: number): Promise<{ value: Record<string, unknown> } | { response: SimResponse }> {
  const bytes = await readBodyUpTo(bodyStream(req), maxBytes);
  if (!bytes) return { response: audigydError(413, `The JSON body is over the ${maxBytes}-byte limit.`) };
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { response: audigydError(400, 'The body is not valid JSON.') };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { response: audigydError(400, 'The body must be a JSON object.') };
  return { value: value as Record<string, unknown> };
}
