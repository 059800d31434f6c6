/**
 * The activities as a worker builds them (createActivities over the real stores), on a fresh
 * PGlite database in a temporary data dir, without Temporal: tests run them one at a time in a
 * MockActivityEnvironment. Set-up goes through the same stores the API writes with.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Info } from '@temporalio/activity';
import { createActivities, type ActivityDeps } from '../../activities/index.js';
import { loadConfig, type Config } from '../../config.js';
import { builtInConnectors } from '../../connectors/index.js';
import { OutboundHttp } from '../../connectors/http-client.js';
import { newId } from '../../lib/ids.js';
import { createLogger } from '../../lib/logger.js';
import { SecretSealer } from '../../lib/sealed-secrets.js';
import { urlBinding } from '../../lib/url-binding.js';
import { BlobStore } from '../../store/blobs.js';
import { openDb, type Db } from '../../store/db.js';
import { createStores, type Stores } from '../../store/index.js';
import { migrate } from '../../store/migrate.js';
import { WebhookStore } from '../../store/webhooks.js';
import { DEFAULT_WORKSPACE_ID } from '../../store/workspaces.js';
import { EndpointGate } from '../../webhooks/endpoint-gate.js';
import { issueSecret } from '../../webhooks/secrets.js';
import { WebhookSender } from '../../webhooks/sender.js';

export type Activities = ReturnType<typeof createActivities>;

export interface ActivityWorld {
  activities: Activities;
  stores: Stores;
  db: Db;
  config: Config;
  workspaceId: string;
  /** A connection (source) or destination with its secrets, as POST /api/v1/connections|destinations stores it. */
  addConnection(kind: 'connection' | 'destination', type: string, config: Record<string, unknown>, secrets: Record<string, string>): Promise<string>;
  /** A webhook endpoint and its signing secret, as POST /api/v1/webhooks stores them. */
  addWebhook(url: string, events?: string[]): Promise<{ id: string; secret: string }>;
  close(): Promise<void>;
}

export async function startActivityWorld(env: Record<string, string> = {}): Promise<ActivityWorld> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hub-activities-'));
  const config = loadConfig({ HUB_DATA_DIR: dataDir, HUB_ALLOW_PRIVATE_NETWORKS: 'true', LOG_LEVEL: 'silent', ...env });
  const db = await openDb({ databaseUrl: null, dataDir });
  await migrate(db);
  const stores = createStores(db, new SecretSealer(randomBytes(32)));
  await stores.workspaces.ensureDefault();
  const blobs = await BlobStore.open(path.join(dataDir, 'blobs'));
  const registry = builtInConnectors();
  const http = new OutboundHttp({
    allowPrivateNetworks: true, limits: config.outbound,
    connectionTest: { timeoutMs: config.outbound.connectionTestTimeoutMs, maxResponseBytes: config.outbound.connectionTestMaxResponseBytes },
  });
  const webhookSender = new WebhookSender({ allowPrivateNetworks: true, httpsOnly: false, timeoutMs: config.webhooks.requestTimeoutMs });
  const logger = createLogger('silent');
  // What hub.ts passes to the worker.
  const deps: ActivityDeps = {
    ...stores, db, blobs, http, registry, logger, collectionLimits: config.collection,
    webhookSender, webhookGate: new EndpointGate(config.webhooks.maxInFlightPerEndpoint), webhookConfig: config.webhooks,
  };
  const workspaceId = DEFAULT_WORKSPACE_ID;
  return {
    activities: createActivities(deps),
    stores, db, config, workspaceId,
    async addConnection(kind, type, connectionConfig, secrets) {
      const connector = kind === 'connection' ? registry.source(type) : registry.destination(type);
      if (!connector) throw new Error(`no ${kind} type ${type}`);
      const id = newId(kind === 'connection' ? 'conn' : 'dest');
      const store = kind === 'connection' ? stores.connections : stores.destinations;
      await db.transaction(async (tx) => {
        await store.insert({ id, workspaceId, name: `${type} (activities test)`, type, config: connectionConfig }, tx);
        await stores.secrets.put({ workspaceId, type: kind, id }, secrets, tx, urlBinding(connector.urlFields, connectionConfig));
      });
      return id;
    },
    async addWebhook(url, events = []) {
      const id = newId('wh');
      // The endpoint and its secret in one transaction, as the API writes them.
      const secret = await db.transaction(async (tx) => {
        const endpoint = await new WebhookStore(tx).create({ id, workspaceId, url, events, description: null, enabled: true });
        return issueSecret(stores.secrets, endpoint, tx);
      });
      return { id, secret };
    },
    async close() {
      await webhookSender.close();
      await http.close();
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** Runs one activity (`fn` calls it) in a mock activity context with `info`, recording its heartbeats. */
export async function runActivity<R>(fn: () => Promise<R>, info: Partial<Info> = {}): Promise<{ result: R; heartbeats: unknown[] }> {
  const env = new MockActivityEnvironment(info, { logger: quiet });
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (details: unknown) => heartbeats.push(details));
  const result = await env.run<[], R, () => Promise<R>>(fn);
  return { result, heartbeats };
}

/** Like runActivity, for an activity expected to fail: its error and heartbeats. */
export async function failActivity(fn: () => Promise<unknown>, info: Partial<Info> = {}): Promise<{ error: unknown; heartbeats: unknown[] }> {
  const env = new MockActivityEnvironment(info, { logger: quiet });
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (details: unknown) => heartbeats.push(details));
  try {
    await env.run(fn);
  } catch (error) {
    return { error, heartbeats };
  }
  throw new Error('the activity succeeded');
}

/** The activity info of attempt `attempt` of a workflow (activities read its workflow id). */
export function inWorkflow(workflowId: string, attempt = 1): Partial<Info> {
  return { workflowExecution: { workflowId, runId: `${workflowId}-run` }, attempt };
}
