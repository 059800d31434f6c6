import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runActivity, startActivityWorld, type ActivityWorld } from '../helpers/activities.js';
import { WebhookReceiver, type ReceivedWebhook } from '../helpers/webhook-receiver.js';

const headersOf = (h: ReceivedWebhook) => ({ 'webhook-id': h.id, 'webhook-timestamp': h.timestamp, 'webhook-signature': h.signature });

describe('webhook activity, built by createActivities over PGlite (MockActivityEnvironment)', () => {
  let w: ActivityWorld;
  let receiver: WebhookReceiver;

  /** An endpoint on the receiver and one test event for it (as POST /webhooks/:id/test records it): its delivery. */
  async function oneDelivery(): Promise<{ webhookId: string; secret: string; eventId: string; deliveryId: string }> {
    const { id: webhookId, secret } = await w.addWebhook(receiver.url);
    const event = await w.stores.events.record({ workspaceId: w.workspaceId, type: 'webhook.test', onlyWebhookId: webhookId, data: { webhook_id: webhookId, message: 'activities test' } });
    const [delivery] = (await w.stores.webhookDeliveries.listForWebhook(webhookId, { limit: 10, after: null }, {})).data;
    return { webhookId, secret, eventId: event.id, deliveryId: delivery!.id };
  }
  const attempt = (deliveryIds: string[]) => runActivity(() => w.activities.attemptWebhookDeliveries({ deliveryIds }), { workflowExecution: { workflowId: 'webhook-test', runId: 'r' } });
  const delivery = async (id: string) => (await w.stores.webhookDeliveries.getWithAttempts(w.workspaceId, id))!;

  beforeAll(async () => {
    [w, receiver] = await Promise.all([startActivityWorld(), WebhookReceiver.start()]);
  });
  afterAll(async () => {
    await receiver?.down();
    await w?.close();
  });

  it('signs the event and posts it to the receiver, heartbeating while it answers; the attempt is logged and the delivery settled delivered', async () => {
    const d = await oneDelivery();
    receiver.respond = () => ({ status: 200, body: 'thanks', delayMs: 2_200 });
    const { result, heartbeats } = await attempt([d.deliveryId]);
    expect(result).toEqual({ retry: [] });
    expect(heartbeats.length).toBeGreaterThanOrEqual(1);

    const hooks = receiver.received.filter((h) => h.id === d.eventId);
    expect(hooks).toHaveLength(1);
    // Standard Webhooks: the receiver verifies the body with the endpoint's secret.
    const verified = new Webhook(d.secret).verify(hooks[0]!.body, headersOf(hooks[0]!)) as { id: string; type: string; data: Record<string, unknown> };
    expect(verified).toMatchObject({ id: d.eventId, type: 'webhook.test', data: { webhook_id: d.webhookId, message: 'activities test' } });

    const settled = await delivery(d.deliveryId);
    expect(settled).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 200, last_error: null });
    expect(settled.attempt_log).toHaveLength(1);
    expect(settled.attempt_log[0]).toMatchObject({ status_code: 200, response_body: 'thanks', error: null });
    expect(settled.attempt_log[0]!.latency_ms).toBeGreaterThanOrEqual(2_000);
  });

  it('a 503 with Retry-After: the attempt is logged, the delivery waits to be retried no sooner than the receiver asked', async () => {
    const d = await oneDelivery();
    receiver.respond = () => ({ status: 503, headers: { 'Retry-After': '120' }, body: 'maintenance' });
    const before = Date.now();
    const { result } = await attempt([d.deliveryId]);
    expect(result.retry).toHaveLength(1);
    expect(result.retry[0]).toMatchObject({ id: d.deliveryId });
    expect(result.retry[0]!.inMs).toBeGreaterThanOrEqual(120_000);

    const waiting = await delivery(d.deliveryId);
    expect(waiting).toMatchObject({ status: 'retrying', attempts: 1, last_status_code: 503 });
    expect(new Date(waiting.next_attempt_at!).getTime()).toBeGreaterThanOrEqual(before + 120_000);
    expect(waiting.attempt_log[0]).toMatchObject({ status_code: 503, response_body: 'maintenance' });

    // The next round (the workflow's durable timer fired) delivers it, signed afresh with the same webhook-id.
    receiver.respond = () => ({ status: 204 });
    expect((await attempt([d.deliveryId])).result).toEqual({ retry: [] });
    expect(await delivery(d.deliveryId)).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(receiver.received.filter((h) => h.id === d.eventId).map((h) => h.status)).toEqual([503, 204]);
  });

  it('410 Gone: the endpoint is disabled and its delivery failed, not retried', async () => {
    const d = await oneDelivery();
    receiver.respond = () => ({ status: 410 });
    expect((await attempt([d.deliveryId])).result).toEqual({ retry: [] });
    expect(await delivery(d.deliveryId)).toMatchObject({ status: 'failed', attempts: 1, last_status_code: 410 });
    expect(await w.stores.webhooks.getById(d.webhookId)).toMatchObject({ enabled: false, disabled_reason: 'gone' });
    // A later round for it sends nothing.
    const posts = receiver.received.length;
    await attempt([d.deliveryId]);
    expect(receiver.received.length).toBe(posts);
  });
});
