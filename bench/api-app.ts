/**
 * The hub's API alone (no Temporal, no worker) over a fresh database, for benchmarks that
 * measure the request path: the same createApp the hub serves, with the bootstrap key.
 */
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createApp } from '../api/app.js';
import { ConsoleSessions } from '../api/console-session.js';
import { PreviewPool } from '../api/preview/pool.js';
import { bootstrap } from '../bootstrap.js';
import { loadConfig } from '../config.js';
import { builtInConnectors } from '../connectors/index.js';
import { OutboundHttp } from '../connectors/http-client.js';
import { createLogger } from '../lib/logger.js';
import { SecretSealer } from '../lib/sealed-secrets.js';
import { ValetTokens } from '../lib/valet-token.js';
import { BlobStore } from '../store/blobs.js';
import { openDb, type Db } from '../store/db.js';
import { createStores, type Stores } from '../store/index.js';
import { migrate } from '../store/migrate.js';
import { TemporalGateway } from '../temporal/gateway.js';
import { JobSchedules } from '../temporal/schedules.js';
import { WorkflowStarter } from '../temporal/starters.js';
import { listen } from './util.js';

export interface BenchApi {
  url: string;
  adminKey: string;
  db: Db;
  stores: Stores;
  blobs: BlobStore;
  close(): Promise<void>;
}

export async function startBenchApi(env: Record<string, string> = {}): Promise<BenchApi> {
  const config = loadConfig(env);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hub-bench-api-'));
  const db = await openDb({ databaseUrl: process.env.DATABASE_URL || null, dataDir });
  await migrate(db);
  const masterKey = randomBytes(32);
  const stores = createStores(db, new SecretSealer(masterKey));
  const temporal = new TemporalGateway({ address: '127.0.0.1:1', namespace: 'default', taskQueue: 'bench' });
  const { generatedKey } = await bootstrap({ ...stores, adminKey: null, dataDir });
  const logger = createLogger('info', pino.destination({ dest: '/dev/null', sync: false }));
  const blobs = await BlobStore.open(path.join(dataDir, 'blobs'));
  const preview = new PreviewPool(path.join(dataDir, 'blobs'), config.preview);
  const starter = new WorkflowStarter(temporal, config.deliveryRetry);
  const { app } = createApp({
    db, logger, stores, blobs, preview, http: new OutboundHttp({ allowPrivateNetworks: true }), registry: builtInConnectors(), allowPrivateNetworks: true,
    temporal, schedules: new JobSchedules(temporal, starter), starter, valet: new ValetTokens(masterKey), publicUrl: null, webhookConfig: config.webhooks,
    rateLimitPerMinute: 10_000_000, jsonBodyLimitBytes: 1 << 20, jsonMaxDepth: 64, version: 'bench', exceptionMaxDurationMs: config.exceptionMaxDurationMs,
    sessions: new ConsoleSessions(masterKey, stores.consoleSessions, config.console.sessionIdleMs),
    console: { dir: config.console.dir, temporalUiUrl: null, temporalNamespace: 'default' },
    mcpAllowedOrigins: [],
  });
  const server = createServer(app);
  const url = await listen(server);
  return {
    url, adminKey: generatedKey!, db, stores, blobs,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await preview.close();
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
