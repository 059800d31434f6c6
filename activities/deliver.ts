import { ConnectorError } from '../connectors/errors.js';
import type { DeliveryItem, DeliveryOutcome } from '../connectors/types.js';
import { claimedItem, type DeliveryClaim, type Evidence, type EvidenceStore, type SettledOutcome, type SettleOutcome } from '../store/evidence.js';
import { openDestination, retryable, type DestinationDeps, type OpenDestination } from './destinations.js';
import { withHeartbeats } from './heartbeats.js';

export interface DeliverDeps extends DestinationDeps {
  evidence: EvidenceStore;
}

/** The most outcomes one settle transaction records (a larger backlog is settled in several, back to back). */
const MAX_SETTLE_GROUP = 200;

/**
 * Items whose attempt is counted at once (beginAttempts): a large batch is claimed a chunk at
 * a time, the next one while the lanes send the current one, so that a worker that dies
 * leaves at most two chunks counted but unsent (each is asked of the destination before it is
 * sent again, where the destination can tell: see deliveredEarlier).
 */
const CLAIM_CHUNK = 50;

/** The still-pending items among `ids`, their attempt counted a chunk at a time, the next chunk claimed ahead. */
async function* claimChunks(evidence: EvidenceStore, ids: string[]): AsyncGenerator<DeliveryClaim> {
  let claiming = evidence.beginAttempts(ids.slice(0, CLAIM_CHUNK));
  for (let from = 0; from < ids.length; from += CLAIM_CHUNK) {
    const claimed = await claiming;
    const nextFrom = from + CLAIM_CHUNK;
    if (nextFrom < ids.length) {
      claiming = evidence.beginAttempts(ids.slice(nextFrom, nextFrom + CLAIM_CHUNK));
      // Awaited in the next turn of the loop; marked handled in case the lanes stop before.
      claiming.catch(() => undefined);
    }
    yield* claimed;
  }
}

/**
 * Group commit of delivery outcomes, shared by every delivery activity of a worker process:
 * one settle transaction at a time (ledger rows, their events and audit entries, so one turn
 * of the audit chain's lock), taking every outcome that completed since the previous one
 * began. An outcome waits for no timer and no group size: when nothing is being settled it is
 * settled in the next turn of the event loop (with the answers read in this one), else as
 * soon as the running transaction ends. Each promise resolves once
 * its outcome has committed.
 */
export class OutcomeSettler {
  private queue: { outcome: SettledOutcome; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private draining = false;

  constructor(private readonly evidence: EvidenceStore) {}

  settle(outcome: SettledOutcome): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ outcome, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length) {
        // The answers already read in this turn of the event loop join the group (no timer).
        await new Promise<void>((resolve) => setImmediate(resolve));
        const group = this.queue.splice(0, MAX_SETTLE_GROUP);
        try {
          await this.evidence.settleMany(group.map((g) => g.outcome));
          for (const g of group) g.resolve();
        } catch (err) {
          for (const g of group) g.reject(err);
        }
      }
    } finally {
      this.draining = false;
    }
  }
}

/** Delivery of ledger items to their destinations: the push relay's one item, a run's batches. */
export function deliveryActivities(deps: DeliverDeps) {
  const settler = new OutcomeSettler(deps.evidence);

  /**
   * Whether an earlier attempt at this item, whose outcome was never recorded (its worker died
   * between the request and the settle, or the answer never came), delivered it: asked of
   * destinations that cannot deduplicate a second send (DestinationConnector.findDelivered).
   * Null when it did not, or when the destination cannot tell (the item is then sent again:
   * at least once); a retryable failure is thrown to retry the item later.
   */
  async function deliveredEarlier(open: OpenDestination, item: DeliveryItem, target: Record<string, unknown>): Promise<DeliveryOutcome | null> {
    if (!open.connector.findDelivered) return null;
    const log = { evidence_id: item.evidence_id, destination_id: open.destination.id };
    try {
      const found = await open.connector.findDelivered(open.session, item, target);
      if (found) deps.logger.info({ ...log, destination_ids: found.destination_ids }, 'an earlier attempt delivered this item: not sent again');
      return found;
    } catch (err) {
      if (err instanceof ConnectorError && err.retryable) throw err;
      deps.logger.warn({ ...log, err: err instanceof Error ? err.message : String(err) }, 'could not tell whether an earlier attempt delivered this item: sending it again');
      return null;
    }
  }

  /**
   * Delivers one ledger item and returns the outcome to settle; a retryable failure is thrown as
   * the ConnectorError for the caller to turn into a retry. Sessions (with their access tokens)
   * are shared by the items of one activity.
   */
  async function deliverOne(evidence: DeliveryClaim, sessions: Map<string, Promise<OpenDestination | ConnectorError | null>>): Promise<SettleOutcome> {
    const key = `${evidence.workspace_id}/${evidence.destination_id}`;
    if (!sessions.has(key)) {
      // Opened once for all the lanes, which start together: the session is kept before it is
      // open, so the others wait for it instead of each reading the destination and its
      // secrets and signing in. A destination that cannot be opened (its secrets bound to
      // other URLs) fails each item alike.
      sessions.set(key, openDestination(deps, evidence.workspace_id, evidence.destination_id)
        .catch((err: unknown) => { if (err instanceof ConnectorError) return err; throw err; }));
    }
    const open = await sessions.get(key)!;
    if (!open) return { status: 'failed', error: 'The destination no longer exists.' };
    if (open instanceof ConnectorError) return { status: 'rejected', error: open.message };
    const { connector, session } = open;
    const item: DeliveryItem = {
      evidence_id: evidence.id, rule_id: evidence.rule_id, control_ref: evidence.control_ref, question_match: evidence.question_match,
      question_id: evidence.question_id, title: evidence.title, source: evidence.source, result: evidence.result as DeliveryItem['result'],
      payload: evidence.payload, payload_sha256: evidence.payload_sha256, collected_at: new Date(evidence.collected_at).toISOString(),
      allow_multiple: evidence.allow_multiple, idempotency_key: `evidence-hub:${evidence.identity}`,
    };
    try {
      const target = evidence.target ?? {};
      // `attempts` counts this one: more means an earlier attempt ended with no recorded outcome.
      const outcome = (evidence.attempts > 1 ? await deliveredEarlier(open, item, target) : null) ?? await connector.deliver(session, item, target);
      if (outcome.status === 'delivered') return { status: 'delivered', destinationIds: outcome.destination_ids };
      if (outcome.status === 'ambiguous') return { status: 'ambiguous', candidates: outcome.candidates, error: outcome.error };
      return { status: 'rejected', error: outcome.error };
    } catch (err) {
      if (err instanceof ConnectorError && !err.retryable) {
        // Credentials, permissions, a bad hash: the destination will answer the same again.
        return { status: err.kind === 'bad_response' ? 'failed' : 'rejected', error: err.message };
      }
      throw err;
    }
  }

  /**
   * Delivers the still-pending items among `ids` (each attempt counted, see claimChunks),
   * `concurrency` at a time. Each outcome goes to the worker's settler as soon as it is known
   * (see OutcomeSettler), and the lanes go on sending while outcomes commit as long as fewer
   * than 2 × `concurrency` of this activity's items are sent and not yet committed (in flight,
   * or answered and being settled): a worker that dies re-sends at most that many, which the
   * destinations' idempotency identity absorbs (or, where a destination has none, its
   * findDelivered check before an item is sent again). The whole allowance is used: a lane
   * does not wait because some outcomes are committing while fewer requests are in flight.
   * The activity ends once all its outcomes have committed.
   */
  async function deliverPending(ids: string[], concurrency: number, onRetryable: (err: ConnectorError) => void): Promise<void> {
    const sessions = new Map<string, Promise<OpenDestination | ConnectorError | null>>();
    const pending = claimChunks(deps.evidence, ids);
    const commits: Promise<void>[] = [];
    // This activity's items sent and not yet committed, and the lanes waiting for that to drop.
    const unrecordedAtMost = 2 * concurrency;
    let unrecorded = 0;
    const waiting: (() => void)[] = [];
    const recorded = () => {
      unrecorded--;
      waiting.shift()?.();
    };
    const lane = async () => {
      for (;;) {
        while (unrecorded >= unrecordedAtMost) await new Promise<void>((resolve) => waiting.push(resolve));
        // Counted before the claim is awaited, so that lanes waking together stay within the bound.
        unrecorded++;
        const next = await pending.next().catch((err: unknown) => {
          recorded();
          throw err;
        });
        if (next.done) {
          recorded();
          return;
        }
        const evidence = next.value;
        let outcome: SettleOutcome | null = null;
        try {
          outcome = await deliverOne(evidence, sessions);
        } catch (err) {
          // Nothing to record: the item stays pending for the activity's retry.
          recorded();
          if (err instanceof ConnectorError && err.retryable) onRetryable(err);
          else throw err;
        }
        if (outcome) {
          const committed = settler.settle({ id: evidence.id, claimed: claimedItem(evidence), ...outcome }).finally(recorded);
          // Awaited at the end; marked handled so that a failure is reported once, there.
          committed.catch(() => undefined);
          commits.push(committed);
        }
      }
    };
    const lanes = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(concurrency, ids.length)) }, lane));
    // A lane that failed leaves the others to end; the claims not taken yet are not made.
    await pending.return(undefined);
    // Whatever happened, what was delivered is recorded before the activity ends.
    const committed = await Promise.allSettled(commits);
    const failed = [...lanes, ...committed].find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  return {
    /** Delivers one item (the push relay's workflow). */
    async deliverEvidence(input: { evidenceId: string }): Promise<Evidence['status']> {
      let failure: ConnectorError | null = null;
      await withHeartbeats(() => deliverPending([input.evidenceId], 1, (err) => { failure = err; }));
      if (failure) retryable(failure);
      return (await deps.evidence.getById(input.evidenceId))?.status ?? 'failed';
    },

    /**
     * Delivers a batch of a run's items, a few at a time: one activity per batch rather than
     * per item keeps Temporal's round trips off the delivery path. Items already settled are
     * skipped, so a retried batch re-sends only what is still pending; when some failed in a
     * retryable way the batch is retried after the longest Retry-After they were given.
     */
    async deliverEvidenceBatch(input: { evidenceIds: string[]; concurrency: number }): Promise<void> {
      const retry: ConnectorError[] = [];
      await withHeartbeats(() => deliverPending(input.evidenceIds, input.concurrency, (err) => retry.push(err)));
      if (retry.length) {
        const wait = Math.max(...retry.map((e) => e.details.retryAfterMs ?? 0));
        retryable(new ConnectorError(retry[0]!.kind, `${retry.length} of ${input.evidenceIds.length} items to retry: ${retry[0]!.message}`, { retryAfterMs: wait > 0 ? wait : undefined }));
      }
    },

  };
}
