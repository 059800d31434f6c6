import type { JsonSchema } from '../lib/json-schema.js';

/**
 * The events the hub emits, each with the JSON Schema of its `data` and an example. Served at
 * GET /api/v1/event-types; the tests validate every emitted event against these schemas, so
 * the catalog cannot drift from what receivers get.
 */
export interface EventType {
  type: string;
  description: string;
  schema: JsonSchema;
  example: Record<string, unknown>;
}

const id = { type: 'string' } as const;
const nullableId = { type: ['string', 'null'] } as const;
const time = { type: 'string', format: 'date-time' } as const;
const counts = {
  type: 'object',
  properties: Object.fromEntries(['collected', 'evidence', 'delivered', 'rejected', 'ambiguous', 'failed'].map((k) => [k, { type: 'integer', minimum: 0 }])),
  required: ['collected', 'evidence', 'delivered', 'rejected', 'ambiguous', 'failed'],
} as const;

function object(properties: Record<string, unknown>, required = Object.keys(properties)): JsonSchema {
  return { type: 'object', properties, required, additionalProperties: false } as JsonSchema;
}

const runData = object({
  run_id: id, job_id: nullableId, trigger: id, status: { enum: ['queued', 'running', 'succeeded', 'partial', 'failed', 'cancelled'] },
  mapping_id: nullableId, mapping_version: { type: ['integer', 'null'] }, counts, error: { type: ['string', 'null'] },
  started_at: { type: ['string', 'null'], format: 'date-time' }, ended_at: { type: ['string', 'null'], format: 'date-time' },
});

/** An evidence item as events carry it: what AUDIGYD's own evidence.added says, plus where it came from. */
const evidenceData = (extra: Record<string, unknown> = {}) => object({
  evidence_id: id, run_id: nullableId, job_id: nullableId, rule_id: nullableId, destination_id: nullableId,
  control_ref: id, question_match: nullableId, title: id, source: id, result: { enum: ['pass', 'fail', 'info', 'error'] },
  collected_at: time, payload_sha256: id, status: { enum: ['pending', 'delivered', 'rejected', 'ambiguous', 'failed'] }, ...extra,
});

const exampleRun = {
  run_id: 'run_01jd6x4m0v9c7n2q8r3s5t6w7y', job_id: 'job_01jd6wz1k2m3n4p5q6r7s8t9v0', trigger: 'schedule', status: 'succeeded',
  mapping_id: 'map_01jd6wy0a1b2c3d4e5f6g7h8j9', mapping_version: 3,
  counts: { collected: 1250, evidence: 6, delivered: 6, rejected: 0, ambiguous: 0, failed: 0 }, error: null,
  started_at: '2026-11-22T02:00:00.000Z', ended_at: '2026-11-22T02:00:41.512Z',
};
const exampleEvidence = {
  evidence_id: 'ev_01jd6x5a7b8c9d0e1f2g3h4j5k', run_id: exampleRun.run_id, job_id: exampleRun.job_id, rule_id: 'okta-admin-mfa',
  destination_id: 'dst_01jd6wx9z8y7x6w5v4t3s2r1q0', control_ref: 'Access Control', question_match: 'MFA admin',
  title: 'Okta: MFA for administrators', source: 'okta', result: 'pass', collected_at: '2026-11-22T02:00:12.000Z',
  payload_sha256: '9f2c3be1d4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1', status: 'delivered',
};

export const EVENT_TYPES: EventType[] = [
  {
    type: 'run.started',
    description: 'A job run began: its mapping version is fixed and collection starts.',
    schema: runData,
    example: { ...exampleRun, status: 'running', counts: { collected: 0, evidence: 0, delivered: 0, rejected: 0, ambiguous: 0, failed: 0 }, ended_at: null },
  },
  {
    type: 'run.completed',
    description: 'A run ended with its evidence delivered: status `succeeded`, or `partial` when some items were rejected, ambiguous or failed.',
    schema: runData,
    example: exampleRun,
  },
  {
    type: 'run.failed',
    description: 'A run ended without delivering any evidence (collection failed, the job was gone, every item failed), or was cancelled (status `cancelled`).',
    schema: runData,
    example: { ...exampleRun, status: 'failed', error: 'okta: the API token was refused (401)', counts: { collected: 0, evidence: 0, delivered: 0, rejected: 0, ambiguous: 0, failed: 0 } },
  },
  {
    type: 'evidence.added',
    description: 'An evidence item was delivered to its destination (once per item; AUDIGYD fires its own evidence.added once per question).',
    schema: evidenceData({ destination_evidence_ids: { type: 'array', items: id } }),
    example: { ...exampleEvidence, destination_evidence_ids: ['evd_4821'] },
  },
  {
    type: 'control.failed',
    description: 'A finding surfaced: a rule evaluated to `fail` (emitted when the item is recorded, before delivery).',
    schema: evidenceData(),
    example: { ...exampleEvidence, result: 'fail', status: 'pending', title: 'Okta: 2 administrators without MFA' },
  },
  {
    type: 'control.recovered',
    description: 'A check that failed passes again: the newest result of a job\u2019s rule went from `fail` to `pass` (GET /api/v1/checks/{check_id}/history shows both).',
    schema: object({
      check_id: id, job_id: id, rule_id: id, control_ref: id, question_match: nullableId, title: id, evidence_id: id, run_id: nullableId,
      previous_result: { enum: ['fail'] }, result: { enum: ['pass'] }, failing_since: time, recovered_at: time,
    }),
    example: {
      check_id: 'job_01jd6wz1k2m3n4p5q6r7s8t9v0.okta-admin-mfa', job_id: 'job_01jd6wz1k2m3n4p5q6r7s8t9v0', rule_id: 'okta-admin-mfa', control_ref: 'Access Control',
      question_match: 'MFA admin', title: 'Okta: 0 administrators without MFA of 3', evidence_id: 'ev_01jd6x5b…', run_id: 'run_01jd6x4m…',
      previous_result: 'fail', result: 'pass', failing_since: '2026-11-21T02:00:00.000Z', recovered_at: '2026-11-22T02:00:00.000Z',
    },
  },
  {
    type: 'evidence.stale',
    description: 'A check’s freshness window passed without a new result: its latest evidence is too old to stand for now (once per check until a new result arrives).',
    schema: object({
      check_id: id, job_id: id, rule_id: id, control_ref: id, question_match: nullableId, title: id, last_result: { enum: ['pass', 'fail', 'info', 'error'] },
      evidence_id: id, last_result_at: time, stale_since: time,
    }),
    example: {
      check_id: 'job_01jd6wz1k2m3n4p5q6r7s8t9v0.okta-admin-mfa', job_id: 'job_01jd6wz1k2m3n4p5q6r7s8t9v0', rule_id: 'okta-admin-mfa', control_ref: 'Access Control',
      question_match: 'MFA admin', title: 'Okta: 0 administrators without MFA of 3', last_result: 'pass', evidence_id: 'ev_01jd6x5b…',
      last_result_at: '2026-11-20T02:00:00.000Z', stale_since: '2026-11-22T02:00:00.000Z',
    },
  },
  ...(['exception.expiring', 'exception.expired'] as const).map((type) => ({
    type,
    description: type === 'exception.expiring'
      ? 'An exception (risk acceptance) expires in 7 days: renew it, or fix what it accepts.'
      : 'An exception expired: its check was evaluated again on the latest data, and that result recorded and delivered.',
    schema: object({
      exception_id: id, check_id: id, job_id: id, rule_id: id, record_ids: { type: ['array', 'null'], items: id }, reason: id, owner: id, expires_at: time,
      status: { enum: type === 'exception.expiring' ? ['active'] : ['expired'] },
    }),
    example: {
      exception_id: 'exc_01jd6x9…', check_id: 'job_01jd6wz1k2m3n4p5q6r7s8t9v0.okta-admin-mfa', job_id: 'job_01jd6wz1k2m3n4p5q6r7s8t9v0', rule_id: 'okta-admin-mfa',
      record_ids: ['00u1breakglass'], reason: 'break-glass account, hardware key in the safe', owner: 'ciso@example.com', expires_at: '2027-06-30T00:00:00.000Z',
      status: type === 'exception.expiring' ? 'active' : 'expired',
    },
  })),
  {
    type: 'evidence.rejected',
    description: 'The destination refused an item (4xx, not retried) or delivery gave up after every retry; `status` says which.',
    schema: evidenceData({ error: id }),
    example: { ...exampleEvidence, status: 'rejected', error: 'AUDIGYD 409: the assessment is finalized' },
  },
  {
    type: 'evidence.ambiguous',
    description: 'The destination matched several questions and attached the item to none; the candidates are listed.',
    schema: evidenceData({ candidates: { type: 'array' }, error: { type: ['string', 'null'] } }),
    example: { ...exampleEvidence, status: 'ambiguous', candidates: [{ question_id: 'q_12', text: 'MFA for admins' }, { question_id: 'q_19', text: 'MFA admin review' }], error: 'several questions match' },
  },
  {
    type: 'connection.failed',
    description: 'Collecting from a source connection failed (credentials, permissions, an unreachable system).',
    schema: object({ connection_id: id, connection_type: nullableId, collection_id: nullableId, run_id: nullableId, datasets: { type: 'array', items: id }, error: id, failed_at: time }),
    example: { connection_id: 'con_01jd6wv8…', connection_type: 'okta', collection_id: null, run_id: 'run_01jd6x4m…', datasets: ['okta.users'], error: 'okta: the API token was refused (401)', failed_at: '2026-11-22T02:00:03.000Z' },
  },
  {
    type: 'mapping.published',
    description: 'A mapping version was published: created, changed (PUT) or restored from an earlier version.',
    schema: object({ mapping_id: id, name: id, version: { type: 'integer', minimum: 1 }, restored_from: { type: ['integer', 'null'] }, rule_count: { type: 'integer', minimum: 0 }, published_at: time }),
    example: { mapping_id: 'map_01jd6wy0…', name: 'Okta access reviews', version: 4, restored_from: 2, rule_count: 7, published_at: '2026-11-22T01:12:00.000Z' },
  },
  {
    type: 'webhook.endpoint_disabled',
    description: 'A webhook endpoint was disabled (it answered 410 Gone, or failed without a success for the configured window). Sent to the workspace\'s other endpoints.',
    schema: object({ webhook_id: id, url: { type: 'string', description: 'The endpoint\'s origin only (scheme, host, port): its path and query may carry tokens.' }, reason: { enum: ['gone', 'failing'] }, detail: id, failing_since: { type: ['string', 'null'], format: 'date-time' }, disabled_at: time }),
    example: { webhook_id: 'wh_01jd6wt…', url: 'https://hooks.example.com', reason: 'failing', detail: 'no successful delivery since 2026-11-17T02:00:00.000Z', failing_since: '2026-11-17T02:00:00.000Z', disabled_at: '2026-11-22T02:00:00.000Z' },
  },
  {
    type: 'webhook.test',
    description: 'Sent by POST /api/v1/webhooks/:id/test to that endpoint only, to check it receives and verifies deliveries.',
    schema: object({ webhook_id: id, message: id }),
    example: { webhook_id: 'wh_01jd6wt…', message: 'This is a test event from Evidence Hub.' },
  },
];

export const EVENT_TYPE_NAMES = EVENT_TYPES.map((t) => t.type);

export type EventTypeName =
  | 'run.started' | 'run.completed' | 'run.failed' | 'evidence.added' | 'control.failed' | 'evidence.rejected'
  | 'evidence.ambiguous' | 'connection.failed' | 'mapping.published' | 'webhook.endpoint_disabled' | 'webhook.test'
  | 'control.recovered' | 'evidence.stale' | 'exception.expiring' | 'exception.expired';
