import { continueAsNew, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

export interface DeliverWebhooksInput {
  deliveryIds: string[];
  /** Long enough for a whole round at the endpoint's in-flight cap and request timeout (the dispatcher computes it). */
  roundTimeoutMs?: number;
  /** When each open delivery is due (epoch ms), carried over a continue-as-new. */
  dueAt?: Record<string, number>;
}

/** Rounds per workflow run before continuing as new, so a long outage never fills the history. */
const ROUNDS_PER_RUN = 200;

/**
 * Delivers a batch of webhook deliveries (one endpoint's, claimed together by the dispatcher)
 * along the retry schedule: a round of attempts, then a durable sleep until the earliest
 * retry is due, and again until nothing is left. The schedule, jitter, Retry-After and the
 * disabling rules are decided by the activity, which records each decision in the database.
 */
export async function deliverWebhooksWorkflow(input: DeliverWebhooksInput): Promise<void> {
  const { attemptWebhookDeliveries } = proxyActivities<Activities>({
    startToCloseTimeout: input.roundTimeoutMs ?? 10 * 60_000,
    heartbeatTimeout: '30 seconds',
    // These retries cover the hub's own trouble (database, a worker lost mid-round); the
    // receiver's failures are answered by the schedule, not by failing the activity.
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });
  const dueAt = new Map<string, number>(input.dueAt ? Object.entries(input.dueAt) : input.deliveryIds.map((id) => [id, Date.now()]));
  let rounds = 0;
  while (dueAt.size) {
    const now = Date.now();
    const due = [...dueAt].filter(([, at]) => at <= now).map(([id]) => id);
    if (!due.length) {
      await sleep(Math.min(...dueAt.values()) - now);
      continue;
    }
    if (rounds++ >= ROUNDS_PER_RUN) {
      await continueAsNew<typeof deliverWebhooksWorkflow>({ deliveryIds: [...dueAt.keys()], roundTimeoutMs: input.roundTimeoutMs, dueAt: Object.fromEntries(dueAt) });
    }
    for (const id of due) dueAt.delete(id);
    const { retry } = await attemptWebhookDeliveries({ deliveryIds: due });
    const after = Date.now();
    for (const r of retry) dueAt.set(r.id, after + r.inMs);
  }
}
