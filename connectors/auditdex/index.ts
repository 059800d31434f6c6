import { createHash } from 'node:crypto';
import { canonicalJson } from '../../lib/canonical-json.js';
import { ConnectorError, errorForStatus } from '../errors.js';
import { FormData, type HttpResponse } from '../http-client.js';
import { asJson, bodyJson, classifyDeliveryResponse, destinationMessage } from '../destination-http.js';
import { TokenCache } from '../token-cache.js';
import { connectionContext, maxResponseMbProperty, type ConnectorContext, type DeliveryItem, type DeliveryOutcome, type DestinationConnector } from '../types.js';

const SYSTEM = 'AUDITDEX';
const DEFAULT_SCOPE = 'evidence:write controls:read';

interface AuditdexConfig {
  base_url: string;
  token_url?: string;
  client_id: string;
  scope?: string;
}

/**
 * AUDITDEX (seed 001): OAuth 2.0 client credentials; "Tokens expire after 60 minutes.
 * Implement token refresh logic in your integration — do not store long-lived tokens": the
 * token lives only in this session's memory, renewed before expiry and once on a 401.
 */
class AuditdexClient {
  readonly base: string;
  readonly tokens: TokenCache;

  constructor(readonly ctx: ConnectorContext, readonly config: AuditdexConfig) {
    this.base = config.base_url.replace(/\/+$/, '');
    const tokenUrl = config.token_url ?? `${new URL(this.base).origin}/oauth/token`;
    this.tokens = new TokenCache(async () => {
      const secret = ctx.secrets.client_secret;
      if (!secret) throw new ConnectorError('bad_config', 'AUDITDEX: the destination has no client_secret secret.');
      const response = await ctx.http.request(tokenUrl, {
        method: 'POST', system: SYSTEM, what: 'obtaining an access token', signal: ctx.signal,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: config.client_id, client_secret: secret, scope: config.scope ?? DEFAULT_SCOPE }).toString(),
      });
      if (response.status !== 200) throw errorForStatus(SYSTEM, response.status === 400 ? 401 : response.status, 'obtaining an access token', destinationMessage(response));
      const body = response.json<{ access_token: string; expires_in: number }>();
      return { value: body.access_token, expiresInSeconds: body.expires_in };
    });
  }

  async send(path: string, what: string, form: () => FormData | undefined, idempotencyKey?: string): Promise<HttpResponse> {
    for (let attempt = 0; ; attempt++) {
      const response = await this.ctx.http.request(`${this.base}${path}`, {
        method: form() ? 'POST' : 'GET', system: SYSTEM, what, signal: this.ctx.signal,
        headers: { authorization: `Bearer ${await this.tokens.get()}`, accept: 'application/json', ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
        body: form(),
      });
      if (response.status === 401 && attempt === 0) {
        this.tokens.invalidate(); // expired mid-run: one fresh token, then the same request again
        continue;
      }
      return response;
    }
  }
}

/** The control to file evidence under: the target's map from control_ref, or the control_ref itself when it is an id. */
function controlId(controlRef: string, target: Record<string, unknown>): string | null {
  const map = (target.control_map ?? {}) as Record<string, string>;
  return map[controlRef] ?? (/^ctrl_[A-Za-z0-9_-]+$/.test(controlRef) ? controlRef : null);
}

export const auditdexConnector: DestinationConnector<AuditdexClient> = {
  type: 'auditdex',
  name: 'AUDITDEX',
  description: 'Evidence files uploaded to AUDITDEX engagement controls (OAuth 2.0 client credentials), checked against the SHA-256 AUDITDEX returns.',
  configSchema: {
    type: 'object', additionalProperties: false, required: ['base_url', 'client_id'],
    properties: {
      base_url: { type: 'string', format: 'uri', description: 'The API base, e.g. https://api.augixsys.com/v1' },
      token_url: { type: 'string', format: 'uri', description: 'Default: <origin>/oauth/token' },
      client_id: { type: 'string', minLength: 1 },
      scope: { type: 'string', default: DEFAULT_SCOPE },
      ...maxResponseMbProperty,
    },
  },
  secretsSchema: { type: 'object', additionalProperties: false, required: ['client_secret'], properties: { client_secret: { type: 'string', minLength: 1 } } },
  targetSchema: {
    type: 'object', additionalProperties: false, required: ['engagement_id'],
    properties: {
      engagement_id: { type: 'string', minLength: 1, maxLength: 200 },
      control_map: { type: 'object', additionalProperties: { type: 'string', pattern: '^ctrl_' }, description: 'control_ref → AUDITDEX control_id.' },
    },
  },
  urlFields: ['base_url', 'token_url'],
  open: (ctx) => new AuditdexClient(connectionContext(ctx), ctx.config as unknown as AuditdexConfig),

  async test(client) {
    const response = await client.send('/engagements', 'listing engagements', () => undefined);
    if (response.status !== 200) throw errorForStatus(SYSTEM, response.status, 'listing engagements', destinationMessage(response));
  },

  async deliver(client, item, target): Promise<DeliveryOutcome> {
    const control = controlId(item.control_ref, target);
    if (!control) return { status: 'rejected', http_status: null, error: `No AUDITDEX control_id for control_ref "${item.control_ref}": add it to the job target's control_map.` };
    const file = evidenceFile(item);
    const form = () => {
      const data = new FormData();
      data.set('control_id', control);
      data.set('description', item.title);
      data.set('file', new Blob([file.bytes], { type: 'application/json' }), file.name);
      return data;
    };
    const what = `submitting evidence to ${control}`;
    const response = await client.send(`/engagements/${encodeURIComponent(String(target.engagement_id))}/evidence`, what, form, item.idempotency_key);
    if (response.status < 200 || response.status >= 300) return classifyDeliveryResponse(SYSTEM, response, what);
    const body = bodyJson(response);
    const data = (body?.data ?? body ?? {}) as Record<string, unknown>;
    // "Evidence files are automatically hashed (SHA-256) … The response includes the hash":
    // a different hash means AUDITDEX stored other bytes than the hub sent.
    const theirHash = hashOf(data);
    if (theirHash !== file.sha256) {
      throw new ConnectorError('bad_response', `AUDITDEX stored a file whose SHA-256 (${theirHash || 'none given'}) is not the hub's (${file.sha256}).`, { system: SYSTEM });
    }
    const id = data.evidence_id ?? data.id;
    return { status: 'delivered', destination_ids: typeof id === 'string' ? [id] : [], detail: asJson(body) };
  },

  /**
   * AUDITDEX takes no idempotency key (the seed names none) and stores every submission as a
   * new immutable file, so an upload whose answer was lost is looked for before it is sent
   * again: "GET /engagements/{engagement_id}/controls/{control_id} … Returns current testing
   * status, findings, and linked evidence for a control". The item is there when a linked file
   * has its SHA-256 and also its file name or description: the name carries the rule and the
   * collection time, so the same payload filed by another run (unchanged data) or another rule
   * of the same control is not taken for it. A listing that gives a hash but neither of those
   * cannot tell, and the item is sent again.
   */
  async findDelivered(client, item, target) {
    const control = controlId(item.control_ref, target);
    if (!control) return null; // deliver() rejects it, saying why
    const file = evidenceFile(item);
    const what = `reading the evidence linked to ${control}`;
    const response = await client.send(`/engagements/${encodeURIComponent(String(target.engagement_id))}/controls/${encodeURIComponent(control)}`, what, () => undefined);
    if (response.status !== 200) {
      // 429 and 5xx are retried (classifyDeliveryResponse throws); anything else means "cannot tell".
      const outcome = classifyDeliveryResponse(SYSTEM, response, what);
      throw new ConnectorError('bad_response', outcome.status === 'rejected' ? outcome.error : `AUDITDEX answered ${response.status} while ${what}.`, { status: response.status, system: SYSTEM });
    }
    const body = bodyJson(response);
    const data = (body?.data ?? body ?? {}) as Record<string, unknown>;
    const linked = (Array.isArray(data.evidence) ? data.evidence : Array.isArray(data.linked_evidence) ? data.linked_evidence : []) as unknown[];
    const same = linked.find((entry): entry is Record<string, unknown> => {
      if (!entry || typeof entry !== 'object') return false;
      const e = entry as Record<string, unknown>;
      const name = e.file_name ?? e.filename;
      const checks = [name === undefined ? null : name === file.name, e.description === undefined ? null : e.description === item.title].filter((c) => c !== null);
      return hashOf(e) === file.sha256 && checks.length > 0 && checks.every(Boolean);
    });
    if (!same) return null;
    const id = same.evidence_id ?? same.id;
    return { status: 'delivered', destination_ids: typeof id === 'string' ? [id] : [], detail: asJson({ found_linked_to: control, evidence: same }) };
  },
};

/** The file an item is uploaded as: the same bytes and name on every attempt. */
function evidenceFile(item: DeliveryItem): { bytes: string; sha256: string; name: string } {
  const bytes = canonicalJson(item.payload);
  return {
    bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    name: `${item.rule_id ?? 'evidence'}-${item.collected_at.replace(/[:.]/g, '')}.json`,
  };
}

/** The SHA-256 AUDITDEX reports for a file, as lower-case hex ('' when none). */
function hashOf(data: Record<string, unknown>): string {
  return String(data.sha256 ?? data.hash ?? data.file_hash ?? '').replace(/^sha256:/, '').toLowerCase();
}
