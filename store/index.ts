import type { SecretSealer } from '../lib/sealed-secrets.js';
import { ApiKeyStore } from './api-keys.js';
import { AuditLogStore } from './audit-log/index.js';
import { CheckStore } from './checks.js';
import { ExceptionStore } from './exceptions.js';
import { CollectionStore } from './collections.js';
import { ConnectionStore } from './connections.js';
import type { Db } from './db.js';
import { DiagnosticStore } from './diagnostics.js';
import { IdempotencyStore } from './idempotency.js';
import { JobStore } from './jobs.js';
import { RunStore } from './runs.js';
import { RunStepStore } from './run-steps.js';
import { ConsoleSessionStore } from './console-sessions.js';
import { EvidenceStore } from './evidence.js';
import { EvidencePackageStore } from './evidence-packages.js';
import { MappingStore } from './mappings.js';
import { SecretStore } from './secrets.js';
import { SnapshotStore } from './snapshots.js';
import { WorkspaceStore } from './workspaces.js';
import { EventStore } from './events.js';
import { WebhookStore } from './webhooks.js';
import { WebhookDeliveryStore } from './webhook-deliveries.js';

/** Every repository, over one database. */
export function createStores(db: Db, sealer: SecretSealer) {
  return {
    workspaces: new WorkspaceStore(db),
    keys: new ApiKeyStore(db),
    consoleSessions: new ConsoleSessionStore(db),
    idempotency: new IdempotencyStore(db, sealer),
    diagnostics: new DiagnosticStore(db),
    secrets: new SecretStore(db, sealer),
    connections: new ConnectionStore(db),
    destinations: new ConnectionStore(db, 'destinations'),
    snapshots: new SnapshotStore(db),
    collections: new CollectionStore(db),
    mappings: new MappingStore(db),
    jobs: new JobStore(db),
    runs: new RunStore(db),
    runSteps: new RunStepStore(db),
    evidence: new EvidenceStore(db),
    checks: new CheckStore(db),
    exceptions: new ExceptionStore(db),
    evidencePackages: new EvidencePackageStore(db),
    auditLog: new AuditLogStore(db),
    events: new EventStore(db),
    webhooks: new WebhookStore(db),
    webhookDeliveries: new WebhookDeliveryStore(db),
  };
}

export type Stores = ReturnType<typeof createStores>;
