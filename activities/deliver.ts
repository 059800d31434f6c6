import { ConnectorError } from '../connectors/errors.js';
import type { DeliveryItem, DeliveryOutcome } from '../connectors/types.js';
import { mapConcurrent } from '../lib/map-concurrent.js';
import type { Evidence, EvidenceStore, SettleOutcome } from '../store/evidence.js';
import { openDestination, retryable, type DestinationDeps, type OpenDestination } from './destinations.js';
import { withHeartbeats } from './heartbeats.js';

export interface DeliverDeps extends DestinationDeps {
  evidence: EvidenceStore;
}

type Settle = (id: string, outcome: SettleOutcome) => Promise<void>;

/** Outcomes settled together: fewer transactions, and at most this many items re-sent after a crash. */
const SETTLE_EVERY = 8;

/** Delivery of ledger items to their destinations: the push relay's one item, a run's batches. */
export function deliveryActivities(deps: DeliverDeps) {
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
   * Delivers one ledger item and settles it; idempotent (a settled item is not sent again).
   * A retryable failure is thrown as the ConnectorError for the caller to turn into a retry.
   * Sessions (with their access tokens) are shared by the items of one activity.
   */
  async function deliverOne(evidence: Evidence, sessions: Map<string, OpenDestination | ConnectorError | null>, settle: Settle): Promise<Evidence['status']> {
    const key = `${evidence.workspace_id}/${evidence.destination_id}`;
    if (!sessions.has(key)) {
      // A destination that cannot be opened (its secrets bound to other URLs) fails each item alike.
      sessions.set(key, await openDestination(deps, evidence.workspace_id, evidence.destination_id)
        .catch((err: unknown) => { if (err instanceof ConnectorError) return err; throw err; }));
    }
    const open = sessions.get(key);
    if (!open) {
      await settle(evidence.id, { status: 'failed', error: 'The destination no longer exists.' });
      return 'failed';
    }
    if (open instanceof ConnectorError) {
      await settle(evidence.id, { status: 'rejected', error: open.message });
      return 'rejected';
    }
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
      if (outcome.status === 'delivered') await settle(evidence.id, { status: 'delivered', destinationIds: outcome.destination_ids });
      else if (outcome.status === 'ambiguous') await settle(evidence.id, { status: 'ambiguous', candidates: outcome.candidates, error: outcome.error });
      else await settle(evidence.id, { status: 'rejected', error: outcome.error });
      return outcome.status;
    } catch (err) {
      if (err instanceof ConnectorError && !err.retryable) {
        // Credentials, permissions, a bad hash: the destination will answer the same again.
        const status = err.kind === 'bad_response' ? 'failed' : 'rejected';
        await settle(evidence.id, { status, error: err.message });
        return status;
      }
      throw err;
    }
  }

  /**
   * Delivers the still-pending items among `ids` (each attempt counted), `concurrency` at a
   * time. Outcomes are settled a few at a time (SETTLE_EVERY), each group in one transaction
   * with its events and audit entries: a worker that dies re-sends at most that many items,
   * which the destinations' idempotency identity absorbs (or, where a destination has none,
   * its findDelivered check before an item is sent again).
   */
  async function deliverPending(ids: string[], concurrency: number, onRetryable: (err: ConnectorError) => void): Promise<void> {
    const sessions = new Map<string, OpenDestination | ConnectorError | null>();
    const pending = await deps.evidence.beginAttempts(ids);
    let buffered: (SettleOutcome & { id: string })[] = [];
    const flush = async () => {
      const group = buffered;
      buffered = [];
      await deps.evidence.settleMany(group);
    };
    const settle: Settle = async (id, outcome) => {
      buffered.push({ id, ...outcome });
      if (buffered.length >= SETTLE_EVERY) await flush();
    };
    try {
      await mapConcurrent(pending, concurrency, async (evidence) => {
        try {
          await deliverOne(evidence, sessions, settle);
        } catch (err) {
          if (err instanceof ConnectorError && err.retryable) onRetryable(err);
          else throw err;
        }
      });
    } finally {
      await flush();
    }
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
