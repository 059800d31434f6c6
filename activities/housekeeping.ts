import type { Logger } from '../lib/logger.js';
import type { AuditLogStore } from '../store/audit-log/index.js';
import type { BlobStore } from '../store/blobs.js';
import type { CheckStore } from '../store/checks.js';
import type { EvidencePackageStore } from '../store/evidence-packages.js';

/** The hub's periodic upkeep, each run by its own Temporal Schedule (temporal/housekeeping.ts). */
export const HOUSEKEEPING_TASKS = ['audit-retention', 'evidence-package-expiry', 'stale-checks'] as const;
export type HousekeepingTask = (typeof HOUSEKEEPING_TASKS)[number];

export interface HousekeepingDeps {
  auditLog: AuditLogStore;
  evidencePackages: EvidencePackageStore;
  checks: CheckStore;
  blobs: BlobStore;
  logger: Logger;
}

export function housekeepingActivities(deps: HousekeepingDeps) {
  return {
    /**
     * Audit retention moves entries past each workspace's period to the archive (never drops
     * them); package expiry deletes the files of ready packages past their time to live. Both
     * are idempotent, so a retried or overlapping pass does nothing twice.
     */
    async runHousekeeping(input: { task: HousekeepingTask }): Promise<{ task: HousekeepingTask; affected: number }> {
      if (input.task === 'audit-retention') {
        const results = await deps.auditLog.runRetention();
        const affected = results.reduce((n, r) => n + r.archived, 0);
        if (affected) deps.logger.info({ task: input.task, archived: affected, workspaces: results.length }, 'audit log retention archived entries');
        return { task: input.task, affected };
      }
      if (input.task === 'stale-checks') {
        const marked = await deps.checks.markStale();
        if (marked) deps.logger.info({ task: input.task, stale: marked }, 'checks went stale');
        return { task: input.task, affected: marked };
      }
      const { expired } = await deps.evidencePackages.expireDue(deps.blobs);
      if (expired.length) deps.logger.info({ task: input.task, expired: expired.length }, 'evidence packages expired');
      return { task: input.task, affected: expired.length };
    },
  };
}
