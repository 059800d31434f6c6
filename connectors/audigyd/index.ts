import { canonicalJson } from '../../lib/canonical-json.js';
import { ConnectorError, errorForStatus } from '../errors.js';
import { FormData, type HttpResponse } from '../http-client.js';
import { asJson, bodyJson, classifyDeliveryResponse, destinationMessage } from '../destination-http.js';
import { connectionContext, maxResponseMbProperty, type ConnectorContext, type DeliveryOutcome, type DestinationConnector } from '../types.js';

const SYSTEM = 'AUDIGYD';
/** AUDIGYD's limit for a structured JSON payload: "a structured JSON payload (up to 1MB)". */
const JSON_LIMIT_BYTES = 1024 * 1024;

interface AudigydConfig {
  base_url: string;
}

class AudigydClient {
  readonly base: string;

  constructor(readonly ctx: ConnectorContext, config: AudigydConfig) {
    this.base = config.base_url.replace(/\/+$/, '');
  }

  async send(method: 'GET' | 'POST', path: string, what: string, body?: { json?: unknown; form?: FormData }, idempotencyKey?: string): Promise<HttpResponse> {
    const apiKey = this.ctx.secrets.api_key;
    if (!apiKey) throw new ConnectorError('bad_config', 'AUDIGYD: the destination has no api_key secret.');
    return this.ctx.http.request(`${this.base}${path}`, {
      method, system: SYSTEM, what, signal: this.ctx.signal,
      headers: {
        'x-api-key': apiKey, accept: 'application/json',
        ...(body?.json !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
      },
      body: body?.json !== undefined ? JSON.stringify(body.json) : body?.form,
    });
  }
}

/** The ids of the evidence items AUDIGYD created or found (one per matched question). */
function evidenceIds(body: Record<string, unknown> | null): string[] {
  if (!body) return [];
  const data = (body.data ?? body) as Record<string, unknown>;
  const ids = new Set<string>();
  const visit = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      for (const key of ['evidence_id', 'id']) if (typeof record[key] === 'string') ids.add(record[key]);
      for (const key of ['evidence', 'items', 'results', 'attached']) if (record[key] !== undefined) visit(record[key]);
    }
  };
  visit(data);
  return [...ids];
}

function candidatesOf(body: Record<string, unknown> | null): unknown[] | null {
  if (!body) return null;
  const data = (body.data ?? body) as Record<string, unknown>;
  const candidates = data.candidates ?? body.candidates;
  return Array.isArray(candidates) ? candidates : null;
}

export const audigydConnector: DestinationConnector<AudigydClient> = {
  type: 'audigyd',
  name: 'AUDIGYD',
  description: 'Evidence push/match by control_ref + question_match (or direct write to a question) into an AUDIGYD assessment.',
  configSchema: {
    type: 'object', additionalProperties: false, required: ['base_url'],
    properties: { base_url: { type: 'string', format: 'uri', description: 'e.g. https://audigyd.com (the API is under /api/v1).' }, ...maxResponseMbProperty },
  },
  secretsSchema: { type: 'object', additionalProperties: false, required: ['api_key'], properties: { api_key: { type: 'string', minLength: 1, description: 'An API key with the assessments:write scope.' } } },
  targetSchema: {
    type: 'object', additionalProperties: false, required: ['assessment_id'],
    properties: { assessment_id: { type: 'string', minLength: 1, maxLength: 200 } },
  },
  urlFields: ['base_url'],
  open: (ctx) => new AudigydClient(connectionContext(ctx), ctx.config as unknown as AudigydConfig),

  async test(client) {
    const response = await client.send('GET', '/api/v1/overview', 'reading the overview');
    if (response.status !== 200) throw errorForStatus(SYSTEM, response.status, 'reading the overview', destinationMessage(response));
  },

  async deliver(client, item, target): Promise<DeliveryOutcome> {
    const assessment = encodeURIComponent(String(target.assessment_id));
    const payloadBytes = Buffer.byteLength(canonicalJson(item.payload));
    if (item.question_id || payloadBytes > JSON_LIMIT_BYTES) {
      if (!item.question_id) {
        return { status: 'rejected', http_status: null, error: `The payload is ${payloadBytes} bytes, over AUDIGYD's 1 MB push limit: pin question_id in the rule so it is uploaded as a file.` };
      }
      // Direct write: the payload as a JSON file, with the same identity fields as a push.
      const form = new FormData();
      form.set('file', new Blob([canonicalJson(item.payload)], { type: 'application/json' }), `${item.rule_id ?? 'evidence'}.json`);
      form.set('title', item.title);
      form.set('source', item.source);
      form.set('result', item.result);
      form.set('collected_at', item.collected_at);
      const what = `writing evidence to question ${item.question_id}`;
      const response = await client.send('POST', `/api/v1/assessments/${assessment}/questions/${encodeURIComponent(item.question_id)}/evidence`, what, { form }, item.idempotency_key);
      if (response.status >= 200 && response.status < 300) return { status: 'delivered', destination_ids: evidenceIds(bodyJson(response)), detail: asJson(bodyJson(response)) };
      return classifyDeliveryResponse(SYSTEM, response, what);
    }

    // Push/match: the same title + source + collected_at on every retry, so that AUDIGYD
    // reconciles a retried push with the first one ("treat retries as idempotent").
    const what = `pushing evidence for "${item.control_ref}" / "${item.question_match}"`;
    const response = await client.send('POST', `/api/v1/assessments/${assessment}/evidence/push`, what, {
      json: {
        control_ref: item.control_ref,
        question_match: item.question_match,
        title: item.title,
        source: item.source,
        result: item.result,
        payload: item.payload,
        collected_at: item.collected_at,
        allow_multiple: item.allow_multiple,
      },
    }, item.idempotency_key);
    const body = bodyJson(response);
    const candidates = candidatesOf(body);
    // "ambiguous matches return candidates": kept for a person to pick the question.
    if (candidates && candidates.length > 1 && !(response.status >= 200 && response.status < 300 && evidenceIds(body).length > 0)) {
      return { status: 'ambiguous', candidates: asJson(candidates) as never, error: destinationMessage(response) ?? `${candidates.length} questions match "${item.question_match}"` };
    }
    if (response.status >= 200 && response.status < 300) return { status: 'delivered', destination_ids: evidenceIds(body), detail: asJson(body) };
    return classifyDeliveryResponse(SYSTEM, response, what);
  },
};
