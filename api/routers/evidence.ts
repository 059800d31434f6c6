import type { RouteSpec, JsonSchema } from '../route.js';
import { HubError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { canonicalSha256 } from '../../lib/canonical-json.js';
import type { ConnectorRegistry } from '../../connectors/registry.js';
import type { ConnectionStore } from '../../store/connections.js';
import { EvidenceStore, type Evidence } from '../../store/evidence.js';
import { temporalUnavailable, type WorkflowStarter } from '../../temporal/starters.js';
import { audited, type AuditDeps } from '../audit.js';
import { principalOf } from '../auth.js';
import { exact, linksTo, listOf, nullableTimestamp, pageQuery, pageRequest, timestamp } from '../schemas.js';
import { CHECKED_BY_HANDLER, compileFieldValidator } from '../validation.js';

export interface EvidenceDeps extends AuditDeps {
  evidence: EvidenceStore;
  destinations: ConnectionStore;
  registry: ConnectorRegistry;
  starter: WorkflowStarter;
}

const STATUSES = ['pending', 'delivered', 'rejected', 'ambiguous', 'failed'];
const summaryFields: Record<string, JsonSchema> = {
  id: { type: 'string' }, run_id: { type: ['string', 'null'] }, job_id: { type: ['string', 'null'] }, rule_id: { type: ['string', 'null'] },
  control_ref: { type: 'string' }, question_match: { type: ['string', 'null'] }, question_id: { type: ['string', 'null'] }, title: { type: 'string' },
  source: { type: 'string' }, result: { enum: ['pass', 'fail', 'info', 'error'] }, payload_sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
  collected_at: timestamp,
  observed_at: { ...nullableTimestamp, description: 'When the data the item describes was observed (its collection); for a pushed item, its collected_at.' },
  destination_id: { type: ['string', 'null'] }, target: { type: ['object', 'null'] }, status: { enum: STATUSES },
  destination_evidence_ids: { type: ['array', 'null'], items: { type: 'string' } }, candidates: { type: ['array', 'null'] }, error: { type: ['string', 'null'] },
  attempts: { type: 'integer', minimum: 0 }, delivered_at: nullableTimestamp, created_at: timestamp,
};
/** An item in a listing: everything but the payload. */
const evidenceSummary: JsonSchema = exact(summaryFields);
/** One item, with its payload. */
const evidenceView: JsonSchema = exact({ ...summaryFields, payload: { type: 'object' } });

/** Why an item is `failed` when its delivery workflow could not be started. */
const NOT_STARTED = 'The delivery did not start: Temporal was not reachable. Push the same item again to retry.';

/** The content fields in which a repeated push differs from the item its identity already names. */
function pushContentDiffers(
  existing: Evidence,
  pushed: { control_ref: string; question_match?: string; question_id?: string; result: string; payload_sha256: string; allow_multiple?: boolean },
): string[] {
  const differs: string[] = [];
  if (existing.result !== pushed.result) differs.push('result');
  if (existing.payload_sha256 !== pushed.payload_sha256) differs.push('payload');
  if (existing.control_ref !== pushed.control_ref) differs.push('control_ref');
  if ((existing.question_match ?? null) !== (pushed.question_match ?? null)) differs.push('question_match');
  if ((existing.question_id ?? null) !== (pushed.question_id ?? null)) differs.push('question_id');
  if (existing.allow_multiple !== (pushed.allow_multiple ?? false)) differs.push('allow_multiple');
  return differs;
}

export function presentEvidence(e: Evidence | Omit<Evidence, 'payload'>, withPayload: boolean) {
  const { workspace_id: _ws, identity: _identity, updated_at: _u, allow_multiple: _a, dataset: _d, ...rest } = e;
  if ('payload' in rest) {
    const { payload, ...summary } = rest;
    return withPayload ? { ...summary, payload } : summary;
  }
  return rest;
}

export function evidenceRoutes(deps: EvidenceDeps): RouteSpec[] {
  const targetChecks = new Map<string, (value: unknown) => void>();
  return [
    {
      method: 'get', path: '/api/v1/evidence', operationId: 'listEvidence', tag: 'evidence', auth: 'evidence:read',
      summary: 'The evidence ledger: every item, its result and what the destination did with it.',
      query: {
        type: 'object',
        properties: {
          ...(pageQuery.properties as object), run_id: { type: 'string' }, job_id: { type: 'string' }, control_ref: { type: 'string' },
          result: { enum: ['pass', 'fail', 'info', 'error'] }, status: { enum: STATUSES },
          collected_from: { type: 'string', format: 'date-time', description: 'Items whose data was collected at or after this time.' },
          collected_to: { type: 'string', format: 'date-time', description: 'Items whose data was collected before this time.' },
        },
      },
      responses: { 200: { description: 'A page of items (without payloads).', schema: listOf(evidenceSummary) } },
      handler: async (_req, res) => {
        const q = res.locals.query as { run_id?: string; job_id?: string; control_ref?: string; result?: string; status?: string; collected_from?: string; collected_to?: string };
        const page = await deps.evidence.list(principalOf(res).workspaceId, pageRequest(res), {
          runId: q.run_id, jobId: q.job_id, controlRef: q.control_ref, result: q.result, status: q.status,
          collectedFrom: q.collected_from ? new Date(q.collected_from) : undefined, collectedTo: q.collected_to ? new Date(q.collected_to) : undefined,
        });
        res.json({ data: page.data.map((e) => presentEvidence(e, false)), next_cursor: page.next_cursor });
      },
    },
    {
      method: 'get', path: '/api/v1/evidence/:id', operationId: 'getEvidence', tag: 'evidence', auth: 'evidence:read',
      summary: 'One item with its payload and payload_sha256.',
      responses: { 200: { description: 'The item.', schema: evidenceView } },
      handler: async (req, res) => {
        const e = await deps.evidence.get(principalOf(res).workspaceId, String(req.params.id));
        if (!e) throw HubError.notFound('No evidence with this id in this workspace.');
        res.json(presentEvidence(e, true));
      },
    },
    {
      method: 'post', path: '/api/v1/evidence/push', operationId: 'pushEvidence', tag: 'evidence', auth: 'evidence:write', idempotent: true,
      summary: 'Relay evidence from any HTTP caller to a destination, durably (same shape as AUDIGYD’s push).',
      description: 'The same title + source + collected_at (and destination and target) is the same item: a repeated push returns it instead of creating another.',
      body: {
        type: 'object', additionalProperties: false, required: ['destination_id', 'target', 'control_ref', 'title', 'source', 'result', 'payload', 'collected_at'],
        properties: {
          destination_id: { type: 'string', description: 'A destination of this workspace.' },
          target: {
            type: 'object', description: 'Where in the destination: the target_schema of its type (GET /api/v1/destination-types).',
            anyOf: deps.registry.listDestinations().map((d) => ({ title: d.name, ...d.targetSchema })),
            // Checked against the destination's own type.
            [CHECKED_BY_HANDLER]: true,
          },
          control_ref: { type: 'string', minLength: 1, maxLength: 500 },
          question_match: { type: 'string', maxLength: 500 }, question_id: { type: 'string', maxLength: 200 }, title: { type: 'string', minLength: 1, maxLength: 500 },
          source: { type: 'string', minLength: 1, maxLength: 200 }, result: { enum: ['pass', 'fail', 'info'] }, payload: { type: 'object' },
          collected_at: { type: 'string', format: 'date-time', description: 'When the evidence was collected (its UTC instant in the years 0001 to 9999).' },
          allow_multiple: { type: 'boolean', default: false },
        },
        // Where the item goes in the control: a question by its text or by its id (a non-empty one).
        anyOf: [
          { required: ['question_match'], properties: { question_match: { minLength: 1 } } },
          { required: ['question_id'], properties: { question_id: { minLength: 1 } } },
        ],
      },
      responses: {
        202: {
          description: 'Accepted; delivery follows. Poll Location. A repeated push answers with the item it already made.', schema: evidenceView,
          headers: { Location: 'The ledger item.' }, links: linksTo(['getEvidence']),
        },
      },
      problems: {
        409: 'An item with this title, source and collected_at was already pushed with other content.',
        503: 'Temporal is not reachable, so the delivery could not start; the item is recorded as failed (Retry-After).',
      },
      handler: async (req, res) => {
        const { workspaceId } = principalOf(res);
        const b = req.body as { destination_id: string; target: Record<string, unknown>; control_ref: string; question_match?: string; question_id?: string; title: string; source: string; result: 'pass' | 'fail' | 'info'; payload: Record<string, unknown>; collected_at: string; allow_multiple?: boolean };
        if (!b.question_match && !b.question_id) throw HubError.validation([{ pointer: '/question_match', message: 'give question_match or question_id' }]);
        const destination = await deps.destinations.get(workspaceId, b.destination_id);
        const connector = destination ? deps.registry.destination(destination.type) : undefined;
        if (!destination || !connector) throw HubError.validation([{ pointer: '/destination_id', message: 'no such destination in this workspace' }]);
        let check = targetChecks.get(connector.type);
        if (!check) targetChecks.set(connector.type, (check = compileFieldValidator(connector.targetSchema, '/target')));
        check(b.target);
        const collectedAt = new Date(b.collected_at);
        if (Number.isNaN(collectedAt.getTime())) throw HubError.validation([{ pointer: '/collected_at', message: 'is not a date-time this hub can use' }]);
        // What the ledger can store: the years PostgreSQL's timestamps hold.
        const year = collectedAt.getUTCFullYear();
        if (year < 1 || year > 9999) throw HubError.validation([{ pointer: '/collected_at', message: 'must fall in the years 0001 to 9999 (UTC)' }]);
        const identity = `push:${workspaceId}:${destination.id}:${canonicalSha256({ target: b.target, title: b.title, source: b.source, collected_at: collectedAt.toISOString() })}`;
        const id = newId('ev');
        const payloadSha256 = canonicalSha256(b.payload);
        const [row] = await audited(deps, req, res,
          async (tx) => {
            const items = await new EvidenceStore(tx).recordMany([{
              id, workspaceId, run_id: null, job_id: null, rule_id: null, dataset: null, control_ref: b.control_ref,
              question_match: b.question_match ?? null, question_id: b.question_id ?? null, title: b.title, source: b.source, result: b.result,
              payload: b.payload, payload_sha256: payloadSha256, collected_at: collectedAt, allow_multiple: b.allow_multiple ?? false,
              destination_id: destination.id, target: b.target, identity,
            }]);
            // The destination reconciles by title + source + collected_at: one identity is one content.
            const existing = items[0]!;
            if (existing.id !== id) {
              const differs = pushContentDiffers(existing, { ...b, payload_sha256: payloadSha256 });
              if (differs.length) {
                throw HubError.conflict(`Item ${existing.id} was already pushed with this title, source and collected_at but another ${differs.join(', ')}: the destination would take both for one item. Send a new collected_at for new content.`);
              }
            }
            return items;
          },
          // A repeated push returns the item it already made: nothing changed, nothing to record.
          // The payload is recorded by its digest: it is evidence, kept in the ledger.
          ([item]) => (item!.id !== id ? null : {
            action: 'evidence.pushed', resourceType: 'evidence', resourceId: id,
            changes: {
              destination_id: destination.id, target: b.target, control_ref: b.control_ref, question_match: b.question_match, question_id: b.question_id,
              title: b.title, source: b.source, result: b.result, collected_at: collectedAt.toISOString(), payload_sha256: item!.payload_sha256,
            },
          }));
        // A push of an item whose delivery never started starts it now.
        const fresh = row!.id === id || (await deps.evidence.rearm(row!.id, NOT_STARTED));
        if (fresh) {
          await deps.starter.delivery(row!.id).catch(async () => {
            // Never left pending with nothing to deliver it: failed, and the same push starts it again.
            await deps.evidence.settle(row!.id, { status: 'failed', error: NOT_STARTED });
            throw temporalUnavailable('the delivery could not start, and the item is recorded as failed. Push the same item again to retry');
          });
        }
        const current = fresh ? await deps.evidence.get(workspaceId, row!.id) : row;
        res.status(202).location(`/api/v1/evidence/${row!.id}`).json(presentEvidence(current ?? row!, true));
      },
    },
  ];
}
