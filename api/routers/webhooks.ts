import { lookup } from 'node:dns/promises';
import type { Response } from 'express';
import type { RouteSpec, JsonSchema } from '../route.js';
import type { WebhookConfig } from '../../webhooks/config.js';
import { HubError } from '../../lib/errors.js';
import { REDACTED } from '../../lib/redact.js';
import { newId } from '../../lib/ids.js';
import { assertOutboundUrl, isPrivateAddress } from '../../lib/net-guard.js';
import { EventStore } from '../../store/events.js';
import type { SecretStore } from '../../store/secrets.js';
import { WebhookDeliveryStore, type WebhookAttempt, type WebhookDelivery } from '../../store/webhook-deliveries.js';
import { WebhookStore, type Webhook, type WebhookPatch } from '../../store/webhooks.js';
import { EVENT_TYPES, EVENT_TYPE_NAMES } from '../../store/event-catalog.js';
import { FLOW_CALLBACK_OWNER, issueSecret, rotateSecret } from '../../webhooks/secrets.js';
import { audited, auditUrl, type AuditDeps } from '../audit.js';
import { hasScope, principalOf } from '../auth.js';
import { exact, linksTo, listOf, outboundUrl, pageQuery, pageRequest, timestamp } from '../schemas.js';

export interface WebhookRouteDeps extends AuditDeps {
  webhooks: WebhookStore;
  webhookDeliveries: WebhookDeliveryStore;
  secrets: SecretStore;
  allowPrivateNetworks: boolean;
  webhookConfig: Pick<WebhookConfig, 'httpsOnly' | 'secretGraceMs'>;
}

const url: JsonSchema = { type: 'string', minLength: 1, maxLength: 2048, format: 'uri', description: 'Where events are POSTed (http or https; https only when the hub is set so).' };
const events: JsonSchema = {
  type: 'array', uniqueItems: true, maxItems: EVENT_TYPE_NAMES.length, items: { enum: EVENT_TYPE_NAMES },
  description: 'Event types to receive; empty or omitted: every type.',
};
const description: JsonSchema = { type: ['string', 'null'], maxLength: 1000 };
const nullableTime: JsonSchema = { type: ['string', 'null'], format: 'date-time' };

const webhookFields: Record<string, JsonSchema> = {
  id: { type: 'string' },
  kind: { enum: ['endpoint', 'power_automate'], description: '`power_automate`: a flow trigger’s subscription, created and deleted by the flow (its callback URL is never shown, only its origin).' },
  url: { type: 'string', description: 'The endpoint URL; only its origin (scheme, host, port) for keys without config:write, see url_redacted.' },
  url_redacted: { type: 'boolean', description: 'True when `url` is only the origin: the path and query (often the receiver’s credential) are shown to keys with config:write alone.' },
  events: { type: 'array', items: { type: 'string' } }, description,
  enabled: { type: 'boolean' }, disabled_reason: { type: ['string', 'null'], enum: ['gone', 'failing', null] }, disabled_at: nullableTime,
  failing_since: nullableTime, last_success_at: nullableTime,
  previous_secret_expires_at: { ...nullableTime, description: 'Until then deliveries are also signed with the secret before the last rotation.' },
  created_at: timestamp, updated_at: timestamp,
};
const webhookView: JsonSchema = exact(webhookFields);
const withSecret: JsonSchema = exact({ ...webhookFields, secret: { type: 'string', pattern: '^whsec_', description: 'whsec_… — shown once; verify deliveries with it.' } });
const attemptView: JsonSchema = exact({
  attempted_at: timestamp, status_code: { type: ['integer', 'null'] }, latency_ms: { type: 'integer', minimum: 0 },
  response_body: { type: ['string', 'null'], description: 'The first 4 KB of the response.' }, error: { type: ['string', 'null'] },
});
const deliveryView: JsonSchema = exact({
  id: { type: 'string' }, webhook_id: { type: 'string' }, event_id: { type: 'string', description: 'Also the webhook-id header: the same on every attempt.' },
  event_type: { type: 'string' }, status: { enum: ['pending', 'retrying', 'delivered', 'failed'] }, attempt_count: { type: 'integer', minimum: 0 },
  next_attempt_at: nullableTime, last_status_code: { type: ['integer', 'null'] }, last_error: { type: ['string', 'null'] },
  redelivery_of: { type: ['string', 'null'] }, created_at: timestamp, delivered_at: nullableTime, attempts: { type: 'array', items: attemptView },
});
const deliveryLinks = (expression = '$response.body#/id') => linksTo(['getWebhookDelivery', 'redeliverWebhook'], 'id', expression);
const DISABLED = 'The endpoint is disabled: enable it (PATCH enabled: true) first.';

/**
 * An endpoint as the API shows it. The full URL only to keys that may change the endpoint
 * (`fullUrl`: config:write or admin): receivers such as Slack or Teams put their credential in
 * the path. Others get the origin in `url` and `url_redacted: true`.
 */
export function presentWebhook(w: Webhook, { fullUrl }: { fullUrl: boolean }) {
  const { workspace_id: _ws, url_sha256: _hash, ...view } = w as Webhook & { deleted_at?: unknown };
  delete (view as { deleted_at?: unknown }).deleted_at;
  // A flow's callback URL is sealed: the row holds only its origin, whatever the key's scopes.
  if (fullUrl && w.kind !== 'power_automate') return { ...view, url_redacted: false };
  let origin: string;
  try {
    origin = new URL(w.url).origin;
  } catch {
    origin = REDACTED;
  }
  return { ...view, url: origin, url_redacted: true };
}

/** Whether the caller sees webhook URLs in full. */
const seesFullUrls = (res: Response) => hasScope(principalOf(res), 'config:write');

function presentDelivery(d: WebhookDelivery & { event_type?: string; attempt_log?: WebhookAttempt[] }) {
  return {
    id: d.id, webhook_id: d.webhook_id, event_id: d.event_id, event_type: d.event_type, status: d.status, attempt_count: d.attempts,
    next_attempt_at: d.next_attempt_at, last_status_code: d.last_status_code, last_error: d.last_error, redelivery_of: d.redelivery_of,
    created_at: d.created_at, delivered_at: d.delivered_at,
    attempts: (d.attempt_log ?? []).map((a) => ({ attempted_at: a.attempted_at, status_code: a.status_code, latency_ms: a.latency_ms, response_body: a.response_body, error: a.error })),
  };
}

export function webhookRoutes(deps: WebhookRouteDeps): RouteSpec[] {
  const endpointUrl: JsonSchema = { ...url, ...outboundUrl(deps.webhookConfig.httpsOnly) };
  /**
   * Refuses URLs a receiver must not have: not http(s), credentials, private literals and —
   * unless private networks are allowed — hosts that resolve to a private address now. The
   * sender checks again on every connection (DNS can change after this).
   */
  async function checkUrl(raw: string): Promise<void> {
    const parsed = assertOutboundUrl(raw, { allowPrivateNetworks: deps.allowPrivateNetworks, httpsOnly: deps.webhookConfig.httpsOnly, pointer: '/url' });
    if (deps.allowPrivateNetworks) return;
    const addresses = await lookup(parsed.hostname.replace(/^\[|\]$/g, ''), { all: true }).catch(() => []);
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad) {
      throw HubError.validation([{ pointer: '/url', message: `resolves to the private address ${bad.address} (set HUB_ALLOW_PRIVATE_NETWORKS=true to allow)` }], 'The URL is not allowed.');
    }
  }

  async function endpointOr404(workspaceId: string, id: string): Promise<Webhook> {
    const endpoint = await deps.webhooks.get(workspaceId, id);
    if (!endpoint) throw HubError.notFound('No webhook with this id in this workspace.');
    return endpoint;
  }

  const idParam = (req: { params: Record<string, unknown> }) => String(req.params.id);

  return [
    {
      method: 'get', path: '/api/v1/event-types', operationId: 'listEventTypes', tag: 'webhooks', auth: 'authenticated',
      summary: 'The events webhooks can receive, each with the JSON Schema of its `data` and an example.',
      responses: { 200: { description: 'The catalog.', schema: exact({ data: { type: 'array', items: exact({ type: { type: 'string' }, description: { type: 'string' }, schema: { type: 'object' }, example: { type: 'object' } }) } }) } },
      handler: (_req, res) => {
        res.json({ data: EVENT_TYPES });
      },
    },
    {
      method: 'post', path: '/api/v1/webhooks', operationId: 'createWebhook', tag: 'webhooks', auth: 'config:write', idempotent: true,
      summary: 'Subscribe an endpoint to events. The signing secret is in the response once.',
      description: 'Deliveries follow the Standard Webhooks specification: headers webhook-id, webhook-timestamp and webhook-signature (v1,<base64 HMAC-SHA256 of "id.timestamp.body">).',
      body: { type: 'object', additionalProperties: false, required: ['url'], properties: { url: endpointUrl, events, description, enabled: { type: 'boolean', default: true } } },
      responses: {
        201: {
          description: 'Created.', schema: withSecret, headers: { Location: 'The new endpoint.' },
          links: linksTo(['getWebhook', 'updateWebhook', 'deleteWebhook', 'rotateWebhookSecret', 'testWebhook', 'listWebhookDeliveries', 'recoverWebhook']),
        },
      },
      handler: async (req, res) => {
        const body = req.body as { url: string; events?: string[]; description?: string | null; enabled?: boolean };
        await checkUrl(body.url);
        const workspaceId = principalOf(res).workspaceId;
        const { endpoint, secret } = await audited(deps, req, res,
          async (tx) => {
            const endpoint = await new WebhookStore(tx).create({ id: newId('wh'), workspaceId, url: body.url, events: body.events ?? [], description: body.description ?? null, enabled: body.enabled ?? true });
            return { endpoint, secret: await issueSecret(deps.secrets, endpoint, tx) };
          },
          // The signing secret is shown once, to the caller, and never recorded.
          ({ endpoint: w }) => ({
            action: 'webhook.created', resourceType: 'webhook', resourceId: w.id,
            changes: { url: auditUrl(w.url), events: w.events, description: w.description, enabled: w.enabled },
          }));
        res.status(201).location(`/api/v1/webhooks/${endpoint.id}`).json({ ...presentWebhook(endpoint, { fullUrl: true }), secret });
      },
    },
    {
      method: 'get', path: '/api/v1/webhooks', operationId: 'listWebhooks', tag: 'webhooks', auth: 'config:read',
      summary: 'The workspace’s webhook endpoints (never their secrets).',
      query: pageQuery,
      responses: { 200: { description: 'A page of endpoints.', schema: listOf(webhookView) } },
      handler: async (_req, res) => {
        const page = await deps.webhooks.list(principalOf(res).workspaceId, pageRequest(res));
        const fullUrl = seesFullUrls(res);
        res.json({ data: page.data.map((w) => presentWebhook(w, { fullUrl })), next_cursor: page.next_cursor });
      },
    },
    {
      method: 'get', path: '/api/v1/webhooks/:id', operationId: 'getWebhook', tag: 'webhooks', auth: 'config:read',
      summary: 'One endpoint, with its health (failing since, last success, why it was disabled).',
      responses: { 200: { description: 'The endpoint.', schema: webhookView } },
      handler: async (req, res) => {
        res.json(presentWebhook(await endpointOr404(principalOf(res).workspaceId, idParam(req)), { fullUrl: seesFullUrls(res) }));
      },
    },
    {
      method: 'patch', path: '/api/v1/webhooks/:id', operationId: 'updateWebhook', tag: 'webhooks', auth: 'config:write',
      summary: 'Change the URL, the event filter or the description; `enabled: true` re-enables a disabled endpoint.',
      body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { url: endpointUrl, events, description, enabled: { type: 'boolean' } } },
      responses: { 200: { description: 'The endpoint.', schema: webhookView } },
      handler: async (req, res) => {
        const patch = req.body as WebhookPatch;
        if (patch.url !== undefined) await checkUrl(patch.url);
        const workspaceId = principalOf(res).workspaceId;
        // The signing secret stays as it is (rotate it separately); the entry records where the
        // endpoint pointed and points now, each as origin and path hash (paths can be credentials).
        const { updated } = await audited(deps, req, res,
          async (tx) => {
            const store = new WebhookStore(tx);
            const before = await store.getForUpdate(workspaceId, idParam(req));
            if (!before) throw HubError.notFound('No webhook with this id in this workspace.');
            if (before.kind === 'power_automate' && patch.url !== undefined) throw HubError.conflict('This endpoint is a Power Automate flow subscription: its URL is the flow’s callback and cannot be changed.');
            return { before, updated: (await store.update(workspaceId, before.id, patch))! };
          },
          ({ before: old, updated: w }) => ({
            action: 'webhook.updated', resourceType: 'webhook', resourceId: w.id,
            changes: { ...patch, url: patch.url === undefined ? undefined : { from: auditUrl(old.url), to: auditUrl(w.url) } },
          }));
        res.json(presentWebhook(updated, { fullUrl: true }));
      },
    },
    {
      method: 'delete', path: '/api/v1/webhooks/:id', operationId: 'deleteWebhook', tag: 'webhooks', auth: 'config:write',
      summary: 'Unsubscribe: nothing more is sent, including retries still scheduled.',
      responses: { 204: { description: 'Deleted.' } },
      handler: async (req, res) => {
        const workspaceId = principalOf(res).workspaceId;
        await audited(deps, req, res,
          async (tx) => {
            const endpoint = await new WebhookStore(tx).getForUpdate(workspaceId, idParam(req));
            if (!endpoint) throw HubError.notFound('No webhook with this id in this workspace.');
            await new WebhookStore(tx).softDelete(workspaceId, endpoint.id);
            const failedDeliveries = await new WebhookDeliveryStore(tx).failOpenForWebhook(endpoint.id, 'the endpoint was deleted');
            await deps.secrets.remove({ workspaceId, type: 'webhook', id: endpoint.id }, tx);
            if (endpoint.kind === 'power_automate') await deps.secrets.remove({ workspaceId, type: FLOW_CALLBACK_OWNER, id: endpoint.id }, tx);
            return { endpoint, failedDeliveries };
          },
          ({ endpoint, failedDeliveries }) => ({
            action: 'webhook.deleted', resourceType: 'webhook', resourceId: endpoint.id, changes: { url: auditUrl(endpoint.url), open_deliveries_failed: failedDeliveries },
          }));
        res.status(204).end();
      },
    },
    {
      method: 'post', path: '/api/v1/webhooks/:id/rotate-secret', operationId: 'rotateWebhookSecret', tag: 'webhooks', auth: 'config:write',
      summary: 'Issue a new secret. The previous one keeps signing (both signatures are sent) for a grace period, 24 h unless configured.',
      body: { type: 'object', additionalProperties: false, properties: { grace_period_seconds: { type: 'integer', minimum: 0, maximum: 30 * 86_400, description: 'Overrides HUB_WEBHOOK_SECRET_GRACE for this rotation.' } } },
      bodyOptional: true,
      responses: { 200: { description: 'The new secret, shown once.', schema: withSecret } },
      handler: async (req, res) => {
        const workspaceId = principalOf(res).workspaceId;
        const grace = (req.body as { grace_period_seconds?: number } | undefined)?.grace_period_seconds;
        const graceMs = grace !== undefined ? grace * 1000 : deps.webhookConfig.secretGraceMs;
        const { endpoint, secret } = await audited(deps, req, res,
          async (tx) => {
            const locked = await new WebhookStore(tx).getForUpdate(workspaceId, idParam(req));
            if (!locked) throw HubError.notFound('No webhook with this id in this workspace.');
            const { secret } = await rotateSecret(deps.secrets, locked, graceMs, tx);
            return { endpoint: (await new WebhookStore(tx).get(workspaceId, locked.id))!, secret };
          },
          // Neither secret is recorded: only that it changed and how long the old one still signs.
          ({ endpoint: w }) => ({
            action: 'webhook.secret_rotated', resourceType: 'webhook', resourceId: w.id,
            changes: { grace_period_seconds: Math.round(graceMs / 1000), previous_signs_until: w.previous_secret_expires_at },
          }));
        res.json({ ...presentWebhook(endpoint, { fullUrl: true }), secret });
      },
    },
    {
      method: 'post', path: '/api/v1/webhooks/:id/test', operationId: 'testWebhook', tag: 'webhooks', auth: 'config:write',
      summary: 'Send a `webhook.test` event to this endpoint only; follow it in the deliveries.',
      responses: {
        202: {
          description: 'Queued.', schema: exact({ event_id: { type: 'string' }, delivery_id: { type: ['string', 'null'] } }),
          links: deliveryLinks('$response.body#/delivery_id'),
        },
      },
      problems: { 409: DISABLED },
      handler: async (req, res) => {
        const workspaceId = principalOf(res).workspaceId;
        const endpoint = await endpointOr404(workspaceId, idParam(req));
        if (!endpoint.enabled) throw HubError.conflict('The endpoint is disabled; enable it (PATCH enabled: true) before testing it.');
        const { event, delivery } = await audited(deps, req, res,
          async (tx) => {
            const event = await new EventStore(tx).record({ workspaceId, type: 'webhook.test', onlyWebhookId: endpoint.id, data: { webhook_id: endpoint.id, message: 'This is a test event from Evidence Hub.' } });
            const [delivery] = await tx.query<{ id: string }>('SELECT id FROM webhook_deliveries WHERE event_id = $1', [event.id]);
            return { event, delivery };
          },
          (sent) => ({ action: 'webhook.test_sent', resourceType: 'webhook', resourceId: endpoint.id, changes: { event_id: sent.event.id, delivery_id: sent.delivery?.id ?? null } }));
        res.status(202).json({ event_id: event.id, delivery_id: delivery?.id ?? null });
      },
    },
    {
      method: 'get', path: '/api/v1/webhooks/:id/deliveries', operationId: 'listWebhookDeliveries', tag: 'webhooks', auth: 'config:read',
      summary: 'Deliveries to this endpoint, newest first, each with every attempt (time, status code, latency, first 4 KB of the response, error).',
      query: { type: 'object', properties: { ...(pageQuery.properties as object), status: { enum: ['pending', 'retrying', 'delivered', 'failed'] }, event_type: { enum: EVENT_TYPE_NAMES } } },
      responses: { 200: { description: 'A page of deliveries.', schema: listOf(deliveryView) } },
      handler: async (req, res) => {
        const endpoint = await endpointOr404(principalOf(res).workspaceId, idParam(req));
        const q = res.locals.query as { status?: string; event_type?: string };
        const page = await deps.webhookDeliveries.listForWebhook(endpoint.id, pageRequest(res), { status: q.status, eventType: q.event_type });
        res.json({ data: page.data.map(presentDelivery), next_cursor: page.next_cursor });
      },
    },
    {
      method: 'post', path: '/api/v1/webhooks/:id/recover', operationId: 'recoverWebhook', tag: 'webhooks', auth: 'config:write',
      summary: 'Send again every event since `since` whose delivery to this endpoint failed (for example after an outage or while disabled).',
      body: { type: 'object', additionalProperties: false, required: ['since'], properties: { since: timestamp } },
      responses: { 202: { description: 'Queued.', schema: exact({ recovered: { type: 'integer', minimum: 0, description: 'Failed deliveries queued again.' } }) } },
      problems: { 409: DISABLED },
      handler: async (req, res) => {
        const workspaceId = principalOf(res).workspaceId;
        const endpoint = await endpointOr404(workspaceId, idParam(req));
        if (!endpoint.enabled) throw HubError.conflict('The endpoint is disabled; enable it (PATCH enabled: true) before recovering its deliveries.');
        const since = new Date((req.body as { since: string }).since);
        if (Number.isNaN(since.getTime())) throw HubError.validation([{ pointer: '/since', message: 'is not a date-time this hub can use' }]);
        const recovered = await audited(deps, req, res,
          async (tx) => {
            // The endpoint's row lock makes concurrent recovers (a double click, a retried call) queue: the second finds nothing left.
            await new WebhookStore(tx).getForUpdate(workspaceId, endpoint.id);
            return new WebhookDeliveryStore(tx).recover(workspaceId, endpoint.id, since);
          },
          // No failed delivery to send again: nothing changed, nothing to record.
          (count) => (count === 0 ? null : {
            action: 'webhook.deliveries_recovered', resourceType: 'webhook', resourceId: endpoint.id, changes: { since: since.toISOString(), recovered: count },
          }));
        res.status(202).json({ recovered });
      },
    },
    {
      method: 'get', path: '/api/v1/webhook-deliveries/:id', operationId: 'getWebhookDelivery', tag: 'webhooks', auth: 'config:read',
      summary: 'One delivery with its attempts.',
      responses: { 200: { description: 'The delivery.', schema: deliveryView } },
      handler: async (req, res) => {
        const workspaceId = principalOf(res).workspaceId;
        const delivery = await deps.webhookDeliveries.getWithAttempts(workspaceId, idParam(req));
        if (!delivery) throw HubError.notFound('No webhook delivery with this id in this workspace.');
        res.json(presentDelivery(delivery));
      },
    },
    {
      method: 'post', path: '/api/v1/webhook-deliveries/:id/redeliver', operationId: 'redeliverWebhook', tag: 'webhooks', auth: 'config:write',
      summary: 'Send this delivery’s event to its endpoint again now, as a new delivery with the same webhook-id.',
      responses: { 202: { description: 'Queued.', schema: deliveryView, headers: { Location: 'The new delivery.' }, links: deliveryLinks() } },
      problems: { 409: DISABLED },
      handler: async (req, res) => {
        const workspaceId = principalOf(res).workspaceId;
        const original = await deps.webhookDeliveries.get(workspaceId, idParam(req));
        if (!original) throw HubError.notFound('No webhook delivery with this id in this workspace.');
        const endpoint = await endpointOr404(workspaceId, original.webhook_id);
        if (!endpoint.enabled) throw HubError.conflict('The endpoint is disabled; enable it (PATCH enabled: true) before redelivering.');
        const delivery = await audited(deps, req, res,
          (tx) => new WebhookDeliveryStore(tx).redeliver(original),
          (d) => ({
            action: 'webhook_delivery.redelivered', resourceType: 'webhook_delivery', resourceId: d.id,
            changes: { webhook_id: d.webhook_id, event_id: d.event_id, redelivery_of: original.id },
          }));
        res.status(202).location(`/api/v1/webhook-deliveries/${delivery.id}`).json(presentDelivery((await deps.webhookDeliveries.getWithAttempts(workspaceId, delivery.id)) ?? delivery));
      },
    },
  ];
}
