import { Context } from '@temporalio/activity';
import type { WebhookConfig } from '../config.js';
import type { Logger } from '../lib/logger.js';
import type { Db } from '../store/db.js';
import { EventStore } from '../store/events.js';
import type { SecretStore } from '../store/secrets.js';
import { WebhookDeliveryStore, type DeliveryToSend } from '../store/webhook-deliveries.js';
import { WebhookStore, type Webhook } from '../store/webhooks.js';
import { mapConcurrent } from '../connectors/pacer.js';
import type { EndpointGate } from '../webhooks/endpoint-gate.js';
import type { AttemptResult, WebhookSender } from '../webhooks/sender.js';
import { webhookHeaders } from '../webhooks/signature.js';
import { signingSecrets } from '../webhooks/secrets.js';

export interface WebhookDeps {
  db: Db;
  webhooks: WebhookStore;
  webhookDeliveries: WebhookDeliveryStore;
  secrets: SecretStore;
  webhookSender: WebhookSender;
  webhookGate: EndpointGate;
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
      await new WebhookDeliveryStore(tx).failOpenForWebhook(endpoint.id, `the endpoint was disabled: ${detail}`);
      await new EventStore(tx).record({
        workspaceId: endpoint.workspace_id,
        type: 'webhook.endpoint_disabled',
        exceptWebhookId: endpoint.id,
        data: {
          webhook_id: endpoint.id, url: endpoint.url, reason, detail,
          failing_since: disabled.failing_since ? new Date(disabled.failing_since).toISOString() : null,
          disabled_at: new Date(disabled.disabled_at ?? Date.now()).toISOString(),
        },
      });
    });
    deps.logger.warn({ webhook_id: endpoint.id, reason }, 'webhook endpoint disabled');
  }

  /** Settles one attempt's outcome: the retry if there is one, or 'disabled' when the endpoint was just disabled. */
  async function settle(endpoint: Webhook, d: DeliveryToSend, result: AttemptResult): Promise<WebhookRetry | 'disabled' | null> {
    const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    if (ok) {
      await deps.webhookDeliveries.afterAttempt(d.id, { status: 'delivered', statusCode: result.statusCode, error: null });
      await deps.webhooks.recordSuccess(endpoint.id);
      return null;
    }
    if (result.statusCode === 410) {
      await deps.webhookDeliveries.afterAttempt(d.id, { status: 'failed', statusCode: 410, error: 'HTTP 410 Gone: the endpoint was disabled' });
      await disableEndpoint(endpoint, 'gone', 'the receiver answered 410 Gone');
      return 'disabled';
    }
    const failingSince = await deps.webhooks.recordFailure(endpoint.id);
    if (Date.now() - new Date(failingSince).getTime() >= config.disableAfterMs) {
      await deps.webhookDeliveries.afterAttempt(d.id, { status: 'failed', statusCode: result.statusCode, error: result.error });
      await disableEndpoint(endpoint, 'failing', `no successful delivery since ${new Date(failingSince).toISOString()}`);
      return 'disabled';
    }
    let wait = retryDelay(config, d.attempts + 1);
    if (wait === null) {
      await deps.webhookDeliveries.afterAttempt(d.id, { status: 'failed', statusCode: result.statusCode, error: `${result.error}; no retries left` });
      return null;
    }
    if (result.retryAfterMs !== null) wait = Math.max(wait, Math.min(result.retryAfterMs, MAX_RETRY_AFTER_MS));
    await deps.webhookDeliveries.afterAttempt(d.id, { status: 'retrying', statusCode: result.statusCode, error: result.error, nextAttemptAt: new Date(Date.now() + wait) });
    return { id: d.id, inMs: wait };
  }

  return {
    /**
     * One round of attempts for the still-open deliveries among `deliveryIds`: each is signed
     * afresh (new timestamp, same webhook-id), posted, logged and settled. Returns those to try
     * again with their waits; the workflow sleeps durably in between, so a worker that dies
     * during a backoff loses nothing.
     */
    async attemptWebhookDeliveries(input: { deliveryIds: string[] }): Promise<{ retry: WebhookRetry[] }> {
      const ctx = Context.current();
      const alive = setInterval(() => ctx.heartbeat(), 2_000);
      try {
        const open = await deps.webhookDeliveries.openWithEvents(input.deliveryIds);
        const byEndpoint = new Map<string, DeliveryToSend[]>();
        for (const d of open) byEndpoint.set(d.webhook_id, [...(byEndpoint.get(d.webhook_id) ?? []), d]);
        const retry: WebhookRetry[] = [];
        // Endpoints disabled during this round: their remaining deliveries are already failed.
        const disabledNow = new Set<string>();
        for (const [webhookId, deliveries] of byEndpoint) {
          const endpoint = await deps.webhooks.getById(webhookId);
          if (!endpoint || endpoint.deleted_at || !endpoint.enabled) {
            await deps.webhookDeliveries.failOpenForWebhook(webhookId, endpoint?.deleted_at || !endpoint ? 'the endpoint was deleted' : 'the endpoint is disabled');
            continue;
          }
          const secrets = await signingSecrets(deps.secrets, endpoint);
          await mapConcurrent(deliveries, config.maxInFlightPerEndpoint, async (d) => {
            if (disabledNow.has(webhookId)) return;
            const release = await deps.webhookGate.acquire(webhookId, GATE_WAIT_MS);
            if (!release) {
              retry.push({ id: d.id, inMs: DEFERRED_MS });
              return;
            }
            let result: AttemptResult;
            const attemptedAt = new Date();
            try {
              const body = webhookBody(d);
              result = await deps.webhookSender.post(endpoint.url, webhookHeaders(secrets, d.event_id, Math.floor(attemptedAt.getTime() / 1000), body), body);
            } finally {
              release();
            }
            await deps.webhookDeliveries.recordAttempt({
              delivery_id: d.id, webhook_id: webhookId, attempted_at: attemptedAt, status_code: result.statusCode,
              latency_ms: result.latencyMs, response_body: result.responseBody, error: result.error,
            });
            const outcome = await settle(endpoint, d, result);
            if (outcome === 'disabled') disabledNow.add(webhookId);
            else if (outcome) retry.push(outcome);
          });
        }
        return { retry };
      } finally {
        clearInterval(alive);
      }
    },
  };
}
