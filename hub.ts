import { mkdir } from 'node:fs/promises';
import { packageVersion } from './lib/package-version.js';
import type { Server } from 'node:http';
import path from 'node:path';
import type { WorkflowBundle } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { createApp } from './api/app.js';
import { PreviewPool } from './api/preview/pool.js';
import { bootstrap, type BootstrapResult } from './bootstrap.js';
import type { Config } from './config.js';
import { ConfigError } from './lib/errors.js';
import { DataDirBusy, lockDataDir } from './lib/data-dir-lock.js';
import type { Logger } from './lib/logger.js';
import { SecretSealer, loadMasterKey } from './lib/sealed-secrets.js';
import { BlobStore } from './store/blobs.js';
import { openDb, type Db } from './store/db.js';
import { migrate } from './store/migrate.js';
import { createStores } from './store/index.js';
import { WorkspaceStore } from './store/workspaces.js';
import { ApiKeyStore } from './store/api-keys.js';
import type { SecretStore } from './store/secrets.js';
import type { RouteSpec } from './api/route.js';
import { builtInConnectors } from './connectors/index.js';
import { OutboundHttp } from './connectors/http-client.js';
import { findOrBuildTemporalCli } from './temporal/cli-binary.js';
import { startDevServer, type DevServer } from './temporal/dev-server.js';
import { TemporalGateway } from './temporal/gateway.js';
import { JobSchedules } from './temporal/schedules.js';
import { WorkflowStarter } from './temporal/starters.js';
import { HousekeepingSchedules } from './temporal/housekeeping.js';
import { ValetTokens } from './lib/valet-token.js';
import { ConsoleSessions } from './api/console-session.js';
import { createWorker } from './worker/worker.js';
import { WebhookSender } from './webhooks/sender.js';
import { EndpointGate, SharedEndpointGate, type InFlightGate } from './webhooks/endpoint-gate.js';
import { EndpointSlotStore, RateLimitLeaseStore } from './store/shared-limits.js';
import { FixedWindowRateLimiter, SharedRateLimiter, type RateLimiter } from './api/rate-limit.js';
import { WebhookDispatcher, roundTimeoutMs } from './webhooks/dispatcher.js';
import { QueuedRunReconciler } from './worker/run-reconciler.js';
import { ADVISORY_LOCKS } from './store/advisory-locks.js';

export type Role = 'api' | 'worker' | 'all';

export interface Hub {
  db: Db;
  blobs: BlobStore;
  secrets: SecretStore;
  /** Base URL of the API, when this process serves it. */
  url: string | null;
  temporalAddress: string;
  temporalUiUrl: string | null;
  bootstrap: BootstrapResult | null;
  /** A Temporal client on the hub's namespace (tests and tools). */
  temporalClient(): Promise<Client>;
  /** The API's operations (empty without the API role). */
  routes: RouteSpec[];
  stop(): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  /** Tests pass a bundle built once per run instead of bundling per worker. */
  workflowBundle?: WorkflowBundle;
  /** Progress lines for a person watching start-up (the Temporal CLI build). */
  progress?: (line: string) => void;
}


/** The composition root: builds every dependency once and wires it into the API and/or worker. */
export async function startHub(config: Config, role: Role, options: StartOptions): Promise<Hub> {
  const { logger } = options;
  if (role !== 'all' && !config.temporal.address) {
    throw new ConfigError(`Running only the ${role} needs TEMPORAL_ADDRESS: the embedded Temporal server runs with "all" only.`);
  }
  if (role !== 'all' && !config.databaseUrl) {
    throw new ConfigError(`Running only the ${role} needs DATABASE_URL: PGlite lives inside one process, so API and worker must share PostgreSQL.`);
  }
  if (role !== 'all' && !config.masterKey) {
    throw new ConfigError(`Running only the ${role} needs HUB_MASTER_KEY: API and workers must open the same sealed secrets.`);
  }
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err: unknown) => logger.error({ err }, 'error while stopping'));
  };

  try {
    await mkdir(config.dataDir, { recursive: true });
    if (!config.databaseUrl) {
      // PGlite is one process's database: a second hub (or `admin-key create`) must not open it too.
      const release = await lockDataDir(config.dataDir).catch((err: unknown) => {
        if (err instanceof DataDirBusy) throw new ConfigError(`${err.message}: stop it first, or run both against PostgreSQL with DATABASE_URL.`);
        throw err;
      });
      cleanups.push(release);
    }
    const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    cleanups.push(() => db.close());
    const applied = await migrate(db);
    if (applied.length) logger.info({ applied, database: db.kind }, 'database migrations applied');

    const masterKey = await loadMasterKey(config.masterKey, config.dataDir);
    const sealer = new SecretSealer(masterKey);
    const blobs = await BlobStore.open(path.join(config.dataDir, 'blobs'));
    const stores = createStores(db, sealer);
    stores.evidencePackages.configure(config.evidencePackages);
    const registry = builtInConnectors({ aws: { allowAmbientCredentials: config.allowAmbientAwsCredentials } });
    const http = new OutboundHttp({
      allowPrivateNetworks: config.allowPrivateNetworks,
      limits: config.outbound, connectionTest: { timeoutMs: config.outbound.connectionTestTimeoutMs, maxResponseBytes: config.outbound.connectionTestMaxResponseBytes },
    });
    cleanups.push(() => http.close());

    let devServer: DevServer | null = null;
    let temporalAddress = config.temporal.address;
    if (!temporalAddress) {
      const binary = await findOrBuildTemporalCli({ configuredPath: config.temporal.cliPath, progress: options.progress });
      devServer = await startDevServer({
        binary,
        dbFile: path.join(config.dataDir, 'temporal.db'),
        port: config.temporal.embeddedPort,
        uiPort: config.temporal.embeddedUiPort,
        namespace: config.temporal.namespace,
        onLog: (line) => logger.debug({ component: 'temporal' }, line),
      });
      cleanups.push(() => devServer!.stop());
      temporalAddress = devServer.address;
      logger.info({ address: devServer.address, ui: devServer.uiUrl, pid: devServer.pid }, 'embedded Temporal dev server started');
    }

    const temporal = new TemporalGateway({ address: temporalAddress, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue });
    cleanups.push(() => temporal.close());
    const starter = new WorkflowStarter(temporal, config.deliveryRetry);

    if (role === 'worker' || role === 'all') {
      const webhookSender = new WebhookSender({ allowPrivateNetworks: config.allowPrivateNetworks, httpsOnly: config.webhooks.httpsOnly, timeoutMs: config.webhooks.requestTimeoutMs });
      cleanups.push(() => webhookSender.close());
      // With PostgreSQL, the workers share each endpoint's in-flight cap; PGlite is one process's.
      const webhookGate: InFlightGate = db.kind === 'postgres'
        ? new SharedEndpointGate(new EndpointSlotStore(db), config.webhooks.maxInFlightPerEndpoint, { onError: (err) => logger.warn({ err }, 'webhook in-flight slots: database error') })
        : new EndpointGate(config.webhooks.maxInFlightPerEndpoint);
      cleanups.push(async () => webhookGate.close?.());
      const { worker, connection } = await createWorker({
        address: temporalAddress,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        deps: { ...stores, db, blobs, http, registry, logger, collectionLimits: config.collection, webhookSender, webhookGate, webhookConfig: config.webhooks },
        logger,
        workflowBundle: options.workflowBundle,
      });
      const running = worker.run();
      running.catch((err: unknown) => logger.error({ err }, 'worker stopped with an error'));
      cleanups.push(async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
        await connection.close();
      });
      // The outbox of webhook deliveries is drained by the workers, onto Temporal.
      const dispatcher = new WebhookDispatcher({
        deliveries: stores.webhookDeliveries, startBatch: (batchId, deliveryIds, timeoutMs) => starter.webhookBatch(batchId, deliveryIds, timeoutMs),
        intervalMs: config.webhooks.dispatchIntervalMs, roundTimeoutMs: roundTimeoutMs(config.webhooks), logger,
      });
      dispatcher.start();
      cleanups.push(() => dispatcher.stop());
      // Runs an API process accepted but died before starting: started within 1.5 × the grace.
      const reconciler = new QueuedRunReconciler({
        runs: stores.runs, jobs: stores.jobs, snapshots: stores.snapshots, starter, graceMs: config.queuedRunGraceMs, logger,
      });
      reconciler.start();
      cleanups.push(() => reconciler.stop());
      // Periodic upkeep runs on Temporal Schedules (one per task for the whole cluster): audit
      // retention hourly, package expiry every 10 minutes (or the time to live, if shorter).
      // A worker that cannot reach Temporal yet tries again each minute.
      const housekeeping = new HousekeepingSchedules(temporal, starter);
      let housekeepingTimer: NodeJS.Timeout | null = null;
      const ensureHousekeeping = () => housekeeping
        .ensure({ 'audit-retention': 3_600_000, 'evidence-package-expiry': Math.min(600_000, config.evidencePackages.ttlMs), 'stale-checks': config.staleCheckIntervalMs })
        .catch((err: unknown) => {
          logger.warn({ err }, 'housekeeping schedules not set up yet; trying again in a minute');
          housekeepingTimer = setTimeout(() => void ensureHousekeeping(), 60_000);
          housekeepingTimer.unref();
        });
      await ensureHousekeeping();
      cleanups.push(async () => { if (housekeepingTimer) clearTimeout(housekeepingTimer); });
      logger.info({ taskQueue: config.temporal.taskQueue }, 'worker polling');
    }

    let url: string | null = null;
    let bootstrapped: BootstrapResult | null = null;
    let routes: RouteSpec[] = [];
    if (role === 'api' || role === 'all') {
      // Several API replicas starting at once must not each create a bootstrap key.
      bootstrapped = await db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.bootstrap]);
        return bootstrap({ workspaces: new WorkspaceStore(tx), keys: new ApiKeyStore(tx), adminKey: config.adminKey, dataDir: config.dataDir });
      });
      // With PostgreSQL, the API processes share each key's and IP's window; PGlite is one process's.
      const rateLimiter: RateLimiter = db.kind === 'postgres'
        ? new SharedRateLimiter(new RateLimitLeaseStore(db), config.rateLimitPerMinute, { onError: (err) => logger.warn({ err }, 'rate limit: database error; counting in this process') })
        : new FixedWindowRateLimiter(config.rateLimitPerMinute);
      cleanups.push(async () => rateLimiter.close?.());
      const preview = new PreviewPool(path.join(config.dataDir, 'blobs'), config.preview);
      cleanups.push(() => preview.close());
      const created = createApp({
        db, logger, temporal, stores, blobs, http, registry, preview,
        allowPrivateNetworks: config.allowPrivateNetworks,
        schedules: new JobSchedules(temporal, starter),
        starter,
        valet: new ValetTokens(masterKey),
        publicUrl: config.publicUrl,
        webhookConfig: config.webhooks,
        rateLimitPerMinute: config.rateLimitPerMinute,
        rateLimiter,
        jsonBodyLimitBytes: config.jsonBodyLimitBytes,
        jsonMaxDepth: config.jsonMaxDepth,
        exceptionMaxDurationMs: config.exceptionMaxDurationMs,
        sessions: new ConsoleSessions(masterKey, stores.consoleSessions, config.console.sessionIdleMs),
        mcpAllowedOrigins: config.mcp.allowedOrigins,
        console: { dir: config.console.dir, temporalUiUrl: config.console.temporalUiUrl ?? devServer?.uiUrl ?? null, temporalNamespace: config.temporal.namespace },
        version: await packageVersion(),
      });
      const { app } = created;
      routes = created.routes;
      const server = await new Promise<Server>((resolve, reject) => {
        const s = app.listen(config.port, config.host, () => resolve(s));
        s.once('error', reject);
      });
      // Slow clients must not hold sockets forever.
      server.headersTimeout = 20_000;
      server.requestTimeout = 60_000;
      cleanups.push(() => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }));
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      url = `http://${config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host}:${port}`;
      logger.info({ url }, 'API listening');
    }

    return { db, blobs, secrets: stores.secrets, url, temporalAddress, temporalUiUrl: devServer?.uiUrl ?? null, bootstrap: bootstrapped, routes, temporalClient: () => temporal.client(), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
