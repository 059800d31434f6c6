import type { WebhookConfig } from '../webhooks/config.js';
import type { Logger } from '../lib/logger.js';
import type { Db } from '../store/db.js';
import { EventStore } from '../store/events.js';
import { appendAuditEntries, SYSTEM_ACTOR } from '../store/audit-log/index.js';
import type { SecretStore } from '../store/secrets.js';
import { WebhookDeliveryStore, type DeliveryToSend } from '../store/webhook-deliveries.js';
import { WebhookStore, type Webhook } from '../store/webhooks.js';
import { mapConcurrent } from '../lib/map-concurrent.js';
import type { InFlightGate } from '../webhooks/endpoint-gate.js';
import type { AttemptResult, WebhookSender } from '../webhooks/sender.js';
import { webhookHeaders } from '../webhooks/signature.js';
import { deliveryUrl, removeCallbackUrl, signingSecrets } from '../webhooks/secrets.js';
import { withHeartbeats } from './heartbeats.js';

export interface WebhookDeps {
  db: Db;
  webhooks: WebhookStore;
  webhookDeliveries: WebhookDeliveryStore;
  secrets: SecretStore;
  webhookSender: WebhookSender;
  webhookGate: InFlightGate;
  webhookConfig: WebhookConfig;
  logger: Logger;
}

/** A delivery to try again, and when. */
export interface WebhookRetry {
  id: string;
  inMs: number;
}

/** How long a request waits for a slot to its endpoint before giving the slot back to the worker. */
const GATE_WAIT_MS = 2_000;
/** A deferred delivery (its endpoint was busy) comes back after this long, without spending an attempt. */
const DEFERRED_MS = 1_000;
/** Retry-After is honoured up to this long; a receiver asking for more gets the schedule's next step. */
const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/** The body sent for an event: the same bytes on every attempt, and the bytes that are signed. */
export function webhookBody(d: Pick<DeliveryToSend, 'event_id' | 'event_type' | 'event_created_at' | 'event_data'>): string {
  return JSON.stringify({ id: d.event_id, type: d.event_type, timestamp: new Date(d.event_created_at).toISOString(), data: d.event_data });
}

/** The wait before retry number `attempt` (1-based), spread by ± jitter. */
export function retryDelay(config: WebhookConfig, attempt: number, random = Math.random): number | null {
  const base = config.retryScheduleMs[attempt - 1];
  if (base === undefined) return null;
  return Math.max(0, Math.round(base * (1 + config.retryJitter * (2 * random() - 1))));
}

export function webhookActivities(deps: WebhookDeps) {
  const config = deps.webhookConfig;

  /**
   * Disables an endpoint (once), ends its open deliveries so `recover` can resend them, and
   * tells the workspace's other endpoints — all in one transaction.
   */
  async function disableEndpoint(endpoint: Webhook, reason: 'gone' | 'failing', detail: string): Promise<void> {
    await deps.db.transaction(async (tx) => {
      const disabled = await new WebhookStore(tx).disable(endpoint.id, reason);
      if (!disabled) return;
      const failed = await new WebhookDeliveryStore(tx).failOpenForWebhook(endpoint.id, `the endpoint was disabled: ${detail}`);
      await new EventStore(tx).record({
        workspaceId: endpoint.workspace_id,
        type: 'webhook.endpoint_disabled',
        exceptWebhookId: endpoint.id,
        data: {
          // Other receivers see which host it pointed at, not the tokens its path or query may carry.
          webhook_id: endpoint.id, url: new URL(endpoint.url).origin, reason, detail,
          failing_since: disabled.failing_since ? new Date(disabled.failing_since).toISOString() : null,
          disabled_at: new Date(disabled.disabled_at ?? Date.now()).toISOString(),
        },
      });
      // The audit chain's lock is taken last, as everywhere: whoever holds it never waits on a row lock.
      await appendAuditEntries(tx, [{ workspaceId: endpoint.workspace_id, actor: SYSTEM_ACTOR, action: 'webhook.disabled', resourceType: 'webhook', resourceId: endpoint.id, changes: { reason, detail, failed_deliveries: failed } }]);
    });
    deps.logger.warn({ webhook_id: endpoint.id, reason }, 'webhook endpoint disabled');
  }

  /**
   * Removes a flow subscription whose callback is gone (the flow was deleted without sending
   * its DELETE): the endpoint is deleted with its sealed callback and secret, its open
   * deliveries end, and the audit log says why (the callback as origin and path hash only).
   */
  async function removeFlowSubscription(endpoint: Webhook, statusCode: number, detail: string): Promise<void> {
    await deps.db.transaction(async (tx) => {
      const removed = await new WebhookStore(tx).softDelete(endpoint.workspace_id, endpoint.id);
      if (!removed) return;
      const failed = await new WebhookDeliveryStore(tx).failOpenForWebhook(endpoint.id, `the subscription was removed: ${detail}`);
      await deps.secrets.remove({ workspaceId: endpoint.workspace_id, type: 'webhook', id: endpoint.id }, tx);
      await removeCallbackUrl(deps.secrets, endpoint, tx);
      await appendAuditEntries(tx, [{
        workspaceId: endpoint.workspace_id, actor: SYSTEM_ACTOR, action: 'power_automate.subscription_removed', resourceType: 'webhook', resourceId: endpoint.id,
        changes: {
          reason: `${detail}: the flow was deleted or its trigger removed without unsubscribing`, status_code: statusCode,
          callback: { origin: endpoint.url, path_sha256: endpoint.url_sha256 }, events: endpoint.events, failed_deliveries: failed,
        },
      }]);
    });
    deps.logger.warn({ webhook_id: endpoint.id, status_code: statusCode }, 'power automate subscription removed: its callback is gone');
  }

  type Sent = { d: DeliveryToSend; result: AttemptResult; attemptedAt: Date };
  type Outcome = Parameters<WebhookDeliveryStore['afterAttempts']>[0][number];

  /**
   * Settles one endpoint's round of attempts with a few statements whatever its size: the
   * attempt log, each delivery's new state, and the endpoint's health. A 410 or a failure
   * window that has run out disables the endpoint. Returns the retries.
   */
  async function settleRound(endpoint: Webhook, sent: Sent[]): Promise<WebhookRetry[]> {
    await deps.webhookDeliveries.recordAttempts(sent.map(({ d, result, attemptedAt }) => ({
      delivery_id: d.id, webhook_id: endpoint.id, attempted_at: attemptedAt, status_code: result.statusCode,
      latency_ms: result.latencyMs, response_body: result.responseBody, error: result.error,
    })));
    const ok = (r: AttemptResult) => r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300;
    const outcomes: Outcome[] = [];
    const retries: WebhookRetry[] = [];
    const failures = sent.filter((s) => !ok(s.result));
    for (const s of sent) if (ok(s.result)) outcomes.push({ id: s.d.id, status: 'delivered', statusCode: s.result.statusCode, error: null });
    if (outcomes.length) await deps.webhooks.recordSuccess(endpoint.id);

    // A flow deleted without its DELETE: its callback answers 404 or 410, and the subscription goes.
    const flowGone = endpoint.kind === 'power_automate' ? failures.find((s) => s.result.statusCode === 404 || s.result.statusCode === 410) : undefined;
    let disable: { reason: 'gone' | 'failing'; detail: string } | null = null;
    if (flowGone) {
      disable = { reason: 'gone', detail: `the flow's callback answered ${flowGone.result.statusCode === 404 ? '404 Not Found' : '410 Gone'}` };
    } else if (failures.some((s) => s.result.statusCode === 410)) {
      disable = { reason: 'gone', detail: 'the receiver answered 410 Gone' };
    } else if (failures.length) {
      const failingSince = new Date(await deps.webhooks.recordFailure(endpoint.id));
      if (Date.now() - failingSince.getTime() >= config.disableAfterMs) disable = { reason: 'failing', detail: `no successful delivery since ${failingSince.toISOString()}` };
    }
    for (const { d, result } of failures) {
      const wait = disable ? null : retryDelay(config, d.attempts + 1);
      if (wait === null) {
        const why = disable ? `the endpoint was disabled: ${disable.detail}` : 'no retries left';
        outcomes.push({ id: d.id, status: 'failed', statusCode: result.statusCode, error: `${result.error}; ${why}` });
        continue;
      }
      // Retry-After is honoured: never sooner than the receiver asked.
      const inMs = result.retryAfterMs === null ? wait : Math.max(wait, Math.min(result.retryAfterMs, MAX_RETRY_AFTER_MS));
      outcomes.push({ id: d.id, status: 'retrying', statusCode: result.statusCode, error: result.error, nextAttemptAt: new Date(Date.now() + inMs) });
      retries.push({ id: d.id, inMs });
    }
    const settledIds = new Map(sent.map((s) => [s.d.id, s.d]));
    await deps.db.transaction(async (tx) => {
      const changed = new Set((await new WebhookDeliveryStore(tx).afterAttempts(outcomes)).map((row) => row.id));
      // Final outcomes (not each retry) go on the audit trail with the state change; an outcome
      // that changed nothing (the delivery was failed meanwhile) is not an outcome.
      await appendAuditEntries(tx, outcomes.filter((o) => changed.has(o.id) && (o.status === 'delivered' || o.status === 'failed')).map((o) => ({
        workspaceId: endpoint.workspace_id, actor: SYSTEM_ACTOR, action: `webhook.delivery_${o.status}`, resourceType: 'webhook_delivery', resourceId: o.id,
        changes: { webhook_id: endpoint.id, event_id: settledIds.get(o.id)?.event_id ?? null, event_type: settledIds.get(o.id)?.event_type ?? null, status_code: o.statusCode, error: o.error, attempts: (settledIds.get(o.id)?.attempts ?? 0) + 1 },
      })));
    });
    if (flowGone && disable) await removeFlowSubscription(endpoint, flowGone.result.statusCode!, disable.detail);
    else if (disable) await disableEndpoint(endpoint, disable.reason, disable.detail);
    return retries;
  }

  return {
    /**
     * One round of attempts for the still-open deliveries among `deliveryIds`: each is signed
     * afresh (new timestamp, same webhook-id), posted, logged and settled. Returns those to try
     * again with their waits; the workflow sleeps durably in between, so a worker that dies
     * during a backoff loses nothing.
     */
    async attemptWebhookDeliveries(input: { deliveryIds: string[] }): Promise<{ retry: WebhookRetry[] }> {
      return withHeartbeats(async () => {
        const open = await deps.webhookDeliveries.openWithEvents(input.deliveryIds);
        const byEndpoint = new Map<string, DeliveryToSend[]>();
        for (const d of open) byEndpoint.set(d.webhook_id, [...(byEndpoint.get(d.webhook_id) ?? []), d]);
        const retry: WebhookRetry[] = [];
        for (const [webhookId, deliveries] of byEndpoint) {
          const endpoint = await deps.webhooks.getById(webhookId);
          if (!endpoint || endpoint.deleted_at || !endpoint.enabled) {
            const reason = endpoint?.deleted_at || !endpoint ? 'the endpoint was deleted' : 'the endpoint is disabled';
            await deps.db.transaction(async (tx) => {
              const failed = await new WebhookDeliveryStore(tx).failOpenForWebhook(webhookId, reason);
              if (failed.length && endpoint) {
                await appendAuditEntries(tx, [{ workspaceId: endpoint.workspace_id, actor: SYSTEM_ACTOR, action: 'webhook.deliveries_failed', resourceType: 'webhook', resourceId: webhookId, changes: { reason, failed_deliveries: failed } }]);
              }
            });
            continue;
          }
          const secrets = await signingSecrets(deps.secrets, endpoint);
          const target = await deliveryUrl(deps.secrets, endpoint);
          if (target === null) {
            await deps.webhookDeliveries.failOpenForWebhook(webhookId, 'the subscription has no callback URL');
            continue;
          }
          const sent: Sent[] = [];
          await mapConcurrent(deliveries, config.maxInFlightPerEndpoint, async (d) => {
            const release = await deps.webhookGate.acquire(webhookId, GATE_WAIT_MS);
            if (!release) {
              retry.push({ id: d.id, inMs: DEFERRED_MS });
              return;
            }
            const attemptedAt = new Date();
            try {
              const body = webhookBody(d);
              const result = await deps.webhookSender.post(target, webhookHeaders(secrets, d.event_id, Math.floor(attemptedAt.getTime() / 1000), body), body);
              sent.push({ d, result, attemptedAt });
            } finally {
              release();
            }
          });
          retry.push(...(await settleRound(endpoint, sent)));
        }
        return { retry };
      });
    },
  };
}
