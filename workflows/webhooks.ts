import { proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

const { attemptWebhookDeliveries } = proxyActivities<Activities>({
  // A round posts up to a batch to one endpoint, a few at a time, each within the request timeout.
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  // These retries cover the hub's own trouble (database, a worker lost mid-round); the
  // receiver's failures are answered by the schedule below, not by failing the activity.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * Delivers a batch of webhook deliveries (one endpoint's, claimed together by the dispatcher)
 * along the retry schedule: a round of attempts, then a durable sleep until the earliest
 * retry is due, and again until nothing is left. The schedule, jitter, Retry-After and the
 * disabling rules are decided by the activity, which records each decision in the database.
 */
export async function deliverWebhooksWorkflow(input: { deliveryIds: string[] }): Promise<void> {
  const dueAt = new Map<string, number>(input.deliveryIds.map((id) => [id, Date.now()]));
  while (dueAt.size) {
    const now = Date.now();
    const due = [...dueAt].filter(([, at]) => at <= now).map(([id]) => id);
    if (!due.length) {
      await sleep(Math.min(...dueAt.values()) - now);
      continue;
    }
    for (const id of due) dueAt.delete(id);
    const { retry } = await attemptWebhookDeliveries({ deliveryIds: due });
    const after = Date.now();
    for (const r of retry) dueAt.set(r.id, after + r.inMs);
  }
}
