/**
 * One collection by the real collection activity (generic HTTP connector, pacing, part blobs,
 * snapshot) in a fresh process, so that its memory figures are this collection's alone. Run by
 * bench/bounded-sources.ts: `tsx bench/bounded-sources-child.ts <source url> <dataset JSON>`;
 * prints its figures as one JSON line: RSS at rest (after set-up and a full GC), peak RSS during
 * the collection, wall time and the outcome.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { collectActivities } from '../activities/collect.js';
import { builtInConnectors } from '../connectors/index.js';
import { OutboundHttp } from '../connectors/http-client.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../lib/logger.js';
import { SecretSealer } from '../lib/sealed-secrets.js';
import { BlobStore } from '../store/blobs.js';
import { openDb } from '../store/db.js';
import { createStores } from '../store/index.js';
import { migrate } from '../store/migrate.js';
import { measure } from './memory.js';

const [sourceUrl, datasetJson] = process.argv.slice(2) as [string, string];
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hub-bench-bounded-'));
// The hub's limits as an operator gets them by default (HUB_MAX_RESPONSE_BYTES and the rest apply if set).
const config = loadConfig({ ...process.env, HUB_DATA_DIR: dataDir });
const db = await openDb({ databaseUrl: process.env.DATABASE_URL || null, dataDir });
const http = new OutboundHttp({ allowPrivateNetworks: true, limits: config.outbound });
await migrate(db);
const stores = createStores(db, new SecretSealer(randomBytes(32)));
await stores.workspaces.ensureDefault();
const connectionId = `conn_bench_${randomBytes(6).toString('hex')}`;
await stores.connections.insert({
  id: connectionId, workspaceId: 'default', name: 'bench', type: 'http',
  config: { base_url: sourceUrl, auth: { type: 'none' }, datasets: [{ name: 'items', ...(JSON.parse(datasetJson) as object) }] },
});
const activities = collectActivities({
  ...stores, db, http, registry: builtInConnectors(), logger: createLogger('error'),
  blobs: await BlobStore.open(path.join(dataDir, 'blobs')),
  collectionLimits: config.collection,
});
const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const env = new MockActivityEnvironment(undefined, { logger: quiet });
const measured = await measure(async () => {
  try {
    const snapshot = await env.run(activities.collectDataset, { workspaceId: 'default', connectionId, dataset: 'http.items', collectionKey: `bench-${connectionId}` });
    return { ok: true, message: `succeeded, ${(snapshot as { record_count: number }).record_count} records` };
  } catch (err) {
    return { ok: false, message: `failed: ${(err as Error).message}` };
  }
});
await http.close();
await db.close();
await rm(dataDir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ baselineRss: measured.baseline.rss, peakRss: measured.peak.rss, ms: measured.ms, outcome: measured.result, limits: { maxResponseBytes: config.outbound.maxResponseBytes, maxRecords: config.collection.maxRecords } })}\n`);
process.exit(0);
