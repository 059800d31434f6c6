import { rm } from 'node:fs/promises';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { Logger } from '../lib/logger.js';
import type { PackageStatus } from '../store/evidence-packages.js';
import { writeEvidencePackage, type PackageProgress, type PackageSources } from './evidence-package-writer.js';

export interface EvidencePackageDeps extends PackageSources {
  logger: Logger;
}

export interface EvidencePackageOutcome {
  packageId: string;
  status: PackageStatus;
  itemCount: number | null;
  bytes: number | null;
}

const HEARTBEAT_MS = 2_000;

export function evidencePackageActivities(deps: EvidencePackageDeps) {
  return {
    /**
     * Builds the package into a temporary file of the blob store, which then adopts it (a
     * rename: the ZIP is written once, hashed as it is written, and named by its SHA-256), and
     * marks it ready, to expire after the configured time. Idempotent: a settled package is
     * left as it is, and a retried attempt starts over with a new file. Heartbeats every 2 s
     * and after every page, with the progress as details; stops when the workflow is cancelled.
     */
    async buildEvidencePackage(input: { packageId: string }): Promise<EvidencePackageOutcome> {
      const ctx = Context.current();
      const pkg = await deps.evidencePackages.markBuilding(input.packageId);
      if (!pkg) {
        const settled = await deps.evidencePackages.getById(input.packageId);
        if (!settled) throw ApplicationFailure.nonRetryable(`evidence package ${input.packageId} does not exist`, 'evidence_package.gone');
        return { packageId: settled.id, status: settled.status, itemCount: settled.item_count, bytes: settled.bytes };
      }
      let latest: PackageProgress | null = null;
      const progress = (p: PackageProgress) => {
        latest = p;
        if (ctx.cancellationSignal.aborted) throw new CancelledFailure('the package build was cancelled');
        ctx.heartbeat(p);
      };
      const alive = setInterval(() => ctx.heartbeat(latest ?? undefined), HEARTBEAT_MS);
      const zipPath = deps.blobs.tempPath('.zip');
      try {
        const written = await writeEvidencePackage(deps, pkg, zipPath, progress);
        await deps.blobs.adopt(zipPath, { sha256: written.sha256, bytes: written.bytes });
        await deps.evidencePackages.markReady(pkg.id, written);
        deps.logger.info({ package_id: pkg.id, items: written.itemCount, files: written.fileCount, bytes: written.bytes }, 'evidence package ready');
        return { packageId: pkg.id, status: 'ready', itemCount: written.itemCount, bytes: written.bytes };
      } finally {
        clearInterval(alive);
        // Gone already once adopted; a failed attempt leaves no partial ZIP behind.
        await rm(zipPath, { force: true });
      }
    },

    /** Records why the package could not be built (after the build's retries ran out, or a cancel). */
    async failEvidencePackage(input: { packageId: string; error: string }): Promise<void> {
      await deps.evidencePackages.markFailed(input.packageId, input.error);
    },
  };
}
