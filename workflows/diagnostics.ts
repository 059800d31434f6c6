import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

const { recordDiagnostic } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 10 },
});

export interface DiagnosticsInput {
  diagnosticId: string;
}

/** The smallest durable round trip: the API starts it, a worker runs it, the activity writes to the store. */
export async function diagnosticsWorkflow(input: DiagnosticsInput): Promise<{ workerIdentity: string }> {
  return recordDiagnostic({ diagnosticId: input.diagnosticId });
}
