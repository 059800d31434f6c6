import { CancellationScope, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { EvidencePackageOutcome } from '../activities/evidence-package.js';
import { failureMessage } from './options.js';

const { buildEvidencePackage } = proxyActivities<Activities>({
  // A large package takes a while; a silent worker is presumed dead after the heartbeat
  // timeout and the build starts over on another one.
  startToCloseTimeout: '4 hours',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 4, nonRetryableErrorTypes: ['evidence_package.gone'] },
});

const { failEvidencePackage } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 20 },
});

/** Builds one evidence package (POST /api/v1/evidence-packages); a build that cannot finish leaves the package failed with the reason. */
export async function buildEvidencePackageWorkflow(input: { packageId: string }): Promise<EvidencePackageOutcome> {
  try {
    return await buildEvidencePackage(input);
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => failEvidencePackage({ packageId: input.packageId, error: 'The package build was cancelled.' }));
      throw err;
    }
    const error = failureMessage(err);
    await failEvidencePackage({ packageId: input.packageId, error });
    return { packageId: input.packageId, status: 'failed', itemCount: null, bytes: null };
  }
}
