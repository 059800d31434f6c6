import { isCancellation, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { failureMessage } from './collect.js';
import type { DeliveryRetry } from './run.js';

const { markEvidenceFailed } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 20 } });

/** Delivers one pushed evidence item (POST /api/v1/evidence/push) with the same durability as a run. */
export async function deliverEvidenceWorkflow(input: { evidenceId: string; deliveryRetry: DeliveryRetry }): Promise<string> {
  const { deliverEvidence } = proxyActivities<Activities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '10 seconds',
    retry: { initialInterval: input.deliveryRetry.initialIntervalMs, backoffCoefficient: 2, maximumInterval: input.deliveryRetry.maximumIntervalMs, maximumAttempts: input.deliveryRetry.maximumAttempts },
  });
  try {
    return await deliverEvidence({ evidenceId: input.evidenceId });
  } catch (err) {
    if (isCancellation(err)) throw err;
    await markEvidenceFailed({ evidenceId: input.evidenceId, error: failureMessage(err) });
    return 'failed';
  }
}
