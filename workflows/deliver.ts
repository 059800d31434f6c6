import { isCancellation, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { deliveryOptions, failureMessage, type DeliveryRetry } from './options.js';

const { markEvidenceFailed } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 20 } });

/** Delivers one pushed evidence item (POST /api/v1/evidence/push) with the same durability as a run. */
export async function deliverEvidenceWorkflow(input: { evidenceId: string; deliveryRetry: DeliveryRetry }): Promise<string> {
  const { deliverEvidence } = proxyActivities<Activities>(deliveryOptions(input.deliveryRetry));
  try {
    return await deliverEvidence({ evidenceId: input.evidenceId });
  } catch (err) {
    if (isCancellation(err)) throw err;
    await markEvidenceFailed({ evidenceId: input.evidenceId, error: failureMessage(err) });
    return 'failed';
  }
}
