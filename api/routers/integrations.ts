import type { Request } from 'express';
import type { RouteSpec, JsonSchema } from '../route.js';
import { buildConnector, connectorZip } from '../power-automate/connector.js';
import { HubError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { assertOutboundUrl } from '../../lib/net-guard.js';
import { EVENT_TYPE_NAMES } from '../../store/event-catalog.js';
import type { SecretStore } from '../../store/secrets.js';
import { WebhookDeliveryStore } from '../../store/webhook-deliveries.js';
import { WebhookStore, type Webhook } from '../../store/webhooks.js';
import { issueSecret, removeCallbackUrl, sealCallbackUrl } from '../../webhooks/secrets.js';
import { audited, auditUrl, type AuditDeps } from '../audit.js';
import { principalOf } from '../auth.js';
import { exact, listOf, pageQuery, pageRequest, timestamp } from '../schemas.js';

export interface IntegrationDeps extends AuditDeps {
  /** The hub's routes, read when the connector is asked for (the list is final by then). */
  routes: () => RouteSpec[];
  publicUrl: string | null;
  version: string;
  webhooks: WebhookStore;
  secrets: SecretStore;
  allowPrivateNetworks: boolean;
  httpsOnly: boolean;
}

export const SUBSCRIPTIONS_PATH = '/api/v1/integrations/power-automate/subscriptions';

const subscriptionView: JsonSchema = exact({
  id: { type: 'string', description: 'The subscription, which is also a webhook endpoint of kind power_automate.' },
  event_types: { type: 'array', items: { type: 'string' }, description: 'The event types delivered to the flow.' },
  callback: exact({
    origin: { type: 'string', description: 'The scheme, host and port of the flow’s callback URL.' },
    path_sha256: { type: ['string', 'null'], description: 'The SHA-256 of the callback’s path and query, which carry the flow’s signature and are never shown.' },
  }, { description: 'Where the flow is called back: its origin and a hash of the rest, never the URL itself.' }),
  enabled: { type: 'boolean', description: 'False once the hub stopped delivering to it.' },
  created_at: timestamp,
});

/** A subscription as every route shows it: never the callback URL (it is sealed), whatever the key's scopes. */
function presentSubscription(w: Webhook) {
  return { id: w.id, event_types: w.events, callback: { origin: w.url, path_sha256: w.url_sha256 }, enabled: w.enabled, created_at: w.created_at };
}

/** Integrations built from the hub's own route declarations: the Power Automate custom connector and its trigger's subscriptions. */
export function integrationRoutes(deps: IntegrationDeps): RouteSpec[] {
  const base = (req: Request) => deps.publicUrl ?? `${req.protocol}://${req.get('host')}`;
  const idParam = (req: { params: Record<string, unknown> }) => String(req.params.id);
  const notFound = () => HubError.notFound('No Power Automate subscription with this id in this workspace.');
  async function subscriptionOr404(workspaceId: string, id: string): Promise<Webhook> {
    const endpoint = await deps.webhooks.get(workspaceId, id);
    if (!endpoint || endpoint.kind !== 'power_automate') throw notFound();
    return endpoint;
  }

  return [
    {
      method: 'get', path: '/api/v1/integrations/power-automate/connector.zip', operationId: 'getPowerAutomateConnector', tag: 'integrations', auth: 'admin',
      summary: 'The Power Automate custom connector as a ZIP: apiDefinition.swagger.json, apiProperties.json and icon.png.',
      description: 'Generated from the same route declarations as this document. Its host and basePath come from HUB_PUBLIC_URL, else from the host this request was sent to. `npx evidence-hub power-automate export --out <dir>` writes the same files.',
      responses: {
        200: {
          description: 'The ZIP (application/zip).', contentType: 'application/zip',
          headers: { 'Content-Disposition': 'attachment; filename="evidence-hub-power-automate.zip"' },
        },
      },
      handler: async (req, res) => {
        const publicUrl = deps.publicUrl ?? `${req.protocol}://${req.get('host')}`;
        const zip = await connectorZip(buildConnector(deps.routes(), { publicUrl, version: deps.version }));
        res.status(200).type('application/zip').setHeader('Content-Disposition', 'attachment; filename="evidence-hub-power-automate.zip"');
        res.send(zip);
      },
    },
    {
      method: 'post', path: SUBSCRIPTIONS_PATH, operationId: 'createPowerAutomateSubscription', tag: 'integrations', auth: 'events:subscribe',
      summary: 'Subscribe a Power Automate flow trigger to a hub event: the event is POSTed to the flow’s callback URL.',
      description: 'Power Automate calls this when a flow with the trigger “When a hub event occurs” is saved, and sends DELETE to the Location answered when the trigger is removed. The subscription is a webhook endpoint of kind power_automate; its callback URL is sealed and never shown. A callback answering 404 or 410 (a flow deleted without unsubscribing) removes the subscription.',
      body: {
        type: 'object', additionalProperties: false, required: ['callback_url', 'event_type'],
        properties: {
          callback_url: { type: 'string', minLength: 1, maxLength: 4096, format: 'uri', description: 'The flow’s callback URL, which Power Automate fills in.' },
          event_type: { enum: EVENT_TYPE_NAMES, description: 'The hub event that starts the flow, for example run.completed.' },
        },
      },
      responses: { 201: { description: 'Subscribed.', schema: subscriptionView, headers: { Location: 'The subscription: DELETE it to unsubscribe.' } } },
      handler: async (req, res) => {
        const body = req.body as { callback_url: string; event_type: string };
        const parsed = assertOutboundUrl(body.callback_url, { allowPrivateNetworks: deps.allowPrivateNetworks, httpsOnly: deps.httpsOnly, pointer: '/callback_url' });
        const callback = auditUrl(parsed.href) as { origin: string; path_sha256: string };
        const workspaceId = principalOf(res).workspaceId;
        const endpoint = await audited(deps, req, res,
          async (tx) => {
            const created = await new WebhookStore(tx).create({
              id: newId('wh'), workspaceId, url: callback.origin, urlSha256: callback.path_sha256, kind: 'power_automate',
              events: [body.event_type], description: 'Power Automate flow trigger', enabled: true,
            });
            await sealCallbackUrl(deps.secrets, created, parsed.href, tx);
            // Deliveries are signed like every endpoint's; the flow does not need the secret.
            await issueSecret(deps.secrets, created, tx);
            return created;
          },
          (w) => ({ action: 'power_automate.subscription_created', resourceType: 'webhook', resourceId: w.id, changes: { callback, events: w.events } }));
        res.status(201).location(`${base(req)}${SUBSCRIPTIONS_PATH}/${endpoint.id}`).json(presentSubscription(endpoint));
      },
    },
    {
      method: 'get', path: SUBSCRIPTIONS_PATH, operationId: 'listPowerAutomateSubscriptions', tag: 'integrations', auth: 'events:subscribe',
      summary: 'The workspace’s Power Automate flow subscriptions (never their callback URLs).',
      query: pageQuery,
      responses: { 200: { description: 'A page of subscriptions.', schema: listOf(subscriptionView) } },
      handler: async (_req, res) => {
        const page = await deps.webhooks.listOfKind(principalOf(res).workspaceId, 'power_automate', pageRequest(res));
        res.json({ data: page.data.map(presentSubscription), next_cursor: page.next_cursor });
      },
    },
    {
      method: 'get', path: `${SUBSCRIPTIONS_PATH}/:id`, operationId: 'getPowerAutomateSubscription', tag: 'integrations', auth: 'events:subscribe',
      summary: 'One Power Automate flow subscription (never its callback URL).',
      responses: { 200: { description: 'The subscription.', schema: subscriptionView } },
      handler: async (req, res) => {
        res.json(presentSubscription(await subscriptionOr404(principalOf(res).workspaceId, idParam(req))));
      },
    },
    {
      method: 'delete', path: `${SUBSCRIPTIONS_PATH}/:id`, operationId: 'deletePowerAutomateSubscription', tag: 'integrations', auth: 'events:subscribe',
      summary: 'Unsubscribe a flow trigger: nothing more is sent to it, including retries still scheduled.',
      description: 'Power Automate sends this to the Location of the subscription when the flow’s trigger is removed or the flow is deleted.',
      responses: { 200: { description: 'The removed subscription.', schema: subscriptionView } },
      handler: async (req, res) => {
        const workspaceId = principalOf(res).workspaceId;
        const { endpoint } = await audited(deps, req, res,
          async (tx) => {
            const store = new WebhookStore(tx);
            const endpoint = await store.getForUpdate(workspaceId, idParam(req));
            if (!endpoint || endpoint.kind !== 'power_automate') throw notFound();
            await store.softDelete(workspaceId, endpoint.id);
            const failedDeliveries = await new WebhookDeliveryStore(tx).failOpenForWebhook(endpoint.id, 'the flow unsubscribed');
            await deps.secrets.remove({ workspaceId, type: 'webhook', id: endpoint.id }, tx);
            await removeCallbackUrl(deps.secrets, endpoint, tx);
            return { endpoint, failedDeliveries };
          },
          ({ endpoint, failedDeliveries }) => ({
            action: 'power_automate.subscription_deleted', resourceType: 'webhook', resourceId: endpoint.id,
            changes: { callback: { origin: endpoint.url, path_sha256: endpoint.url_sha256 }, events: endpoint.events, open_deliveries_failed: failedDeliveries },
          }));
        res.json(presentSubscription({ ...endpoint, enabled: false }));
      },
    },
  ];
}
