import type { Logger } from '../lib/logger.js';
import type { WebhookDeliveryStore, ClaimedBatch } from '../store/webhook-deliveries.js';

/** Deliveries per workflow: large enough to keep Temporal off the hot path, small enough to spread. */
export const DISPATCH_BATCH_SIZE = 50;

/** The activity timeout of one round: every request of a batch at the in-flight cap, plus slack for the database. */
export function roundTimeoutMs(config: { maxInFlightPerEndpoint: number; requestTimeoutMs: number }): number {
  return Math.ceil(DISPATCH_BATCH_SIZE / config.maxInFlightPerEndpoint) * (config.requestTimeoutMs + 1_000) + 60_000;
}
const CLAIM_LIMIT = 500;
/** A claimed batch whose workflow has not been confirmed started after this long is started again. */
const UNDISPATCHED_AFTER_MS = 10_000;

/**
 * Moves new deliveries from the outbox onto Temporal. Each pass claims the unclaimed rows (a
 * row lock with SKIP LOCKED, so several workers share the work), groups them by endpoint and
 * starts one `deliverWebhooksWorkflow` per batch, whose workflow id is the batch id. A
 * dispatcher that dies between the claim and the start leaves the batch undispatched; the
 * next pass of any dispatcher starts it again under the same id, so nothing is lost and
 * nothing starts twice.
 */
export class WebhookDispatcher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private lastSweep = 0;

  constructor(private readonly deps: {
    deliveries: WebhookDeliveryStore;
    /** Starts (or finds already started) the delivery workflow of one batch, under an id of the batch. */
    startBatch: (batchId: string, deliveryIds: string[], roundTimeoutMs: number) => Promise<unknown>;
    intervalMs: number;
    /** How long one round of a batch may take: ⌈batch / in-flight cap⌉ requests of the request timeout each, and slack. */
    roundTimeoutMs: number;
    logger: Logger;
  }) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass()
        .then((busy) => this.schedule(busy ? 0 : this.deps.intervalMs))
        .catch((err: unknown) => {
          this.deps.logger.warn({ err }, 'webhook dispatch failed; retrying');
          this.schedule(Math.max(1_000, this.deps.intervalMs));
        });
    }, ms);
  }

  /** One pass; true when it claimed a full load (more may be waiting). */
  async pass(): Promise<boolean> {
    if (Date.now() - this.lastSweep > UNDISPATCHED_AFTER_MS) {
      this.lastSweep = Date.now();
      const stale = await this.deps.deliveries.undispatched(UNDISPATCHED_AFTER_MS);
      if (stale.length) await this.startAll(stale);
      // A full page of stale batches (after a Temporal outage): sweep again on the next pass.
      if (stale.length >= 100) this.lastSweep = 0;
    }
    const batches = await this.deps.deliveries.claim(CLAIM_LIMIT, DISPATCH_BATCH_SIZE);
    if (batches.length) await this.startAll(batches);
    return batches.reduce((n, b) => n + b.deliveryIds.length, 0) >= CLAIM_LIMIT;
  }

  private async startAll(batches: ClaimedBatch[]): Promise<void> {
    await Promise.all(batches.map((batch) => this.deps.startBatch(batch.batchId, batch.deliveryIds, this.deps.roundTimeoutMs)));
    await this.deps.deliveries.markDispatched(batches.map((b) => b.batchId));
  }
}
