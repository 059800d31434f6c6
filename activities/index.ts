import type { DiagnosticStore } from '../store/diagnostics.js';
import { collectActivities, type CollectDeps } from './collect.js';
import { deliveryActivities, type DeliverDeps } from './deliver.js';
import { diagnosticsActivities } from './diagnostics.js';
import { evidencePackageActivities, type EvidencePackageDeps } from './evidence-package.js';
import { housekeepingActivities, type HousekeepingDeps } from './housekeeping.js';
import { exceptionActivities, type ExceptionDeps } from './exceptions.js';
import { runActivities, type RunDeps } from './run.js';
import { webhookActivities, type WebhookDeps } from './webhooks.js';

/** What activities may use; injected by the worker so that tests can pass their own. */
export interface ActivityDeps extends CollectDeps, RunDeps, DeliverDeps, HousekeepingDeps, ExceptionDeps, WebhookDeps, EvidencePackageDeps {
  diagnostics: DiagnosticStore;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...diagnosticsActivities(deps),
    ...collectActivities(deps),
    ...runActivities(deps),
    ...deliveryActivities(deps),
    ...webhookActivities(deps),
    ...evidencePackageActivities(deps),
    ...housekeepingActivities(deps),
    ...exceptionActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
