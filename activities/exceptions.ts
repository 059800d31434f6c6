import type { ExceptionStore } from '../store/exceptions.js';
import type { RunStore } from '../store/runs.js';
import type { SnapshotStore } from '../store/snapshots.js';

export interface ExceptionDeps {
  exceptions: ExceptionStore;
  runs: RunStore;
  snapshots: SnapshotStore;
}

/** The steps of an exception's life after it is granted (workflows/exception.ts). */
export function exceptionActivities(deps: ExceptionDeps) {
  return {
    async announceExceptionExpiring(input: { exceptionId: string }): Promise<void> {
      await deps.exceptions.announceExpiring(input.exceptionId);
    },

    /** Ends it as expired (with exception.expired); nothing when it was revoked meanwhile. */
    async expireException(input: { exceptionId: string }): Promise<boolean> {
      return (await deps.exceptions.end(input.exceptionId, 'expired')) !== null;
    },

    /** The job's latest snapshots by dataset: re-evaluating its checks reads them, collecting nothing. */
    async latestSnapshotsOfJob(input: { workspaceId: string; jobId: string }): Promise<Record<string, string>> {
      const ids = await deps.runs.latestSnapshotIds(input.workspaceId, input.jobId);
      const snapshots = await deps.snapshots.getMany(input.workspaceId, ids);
      return Object.fromEntries(snapshots.map((s) => [s.dataset, s.id]));
    },
  };
}
