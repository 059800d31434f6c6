/**
 * API benchmark (DESIGN.md §6): an authenticated GET through the hub's full middleware stack
 * (request id, JSON logs, key lookup, rate limit, validation, problem handling) against a bare
 * Express handler, both measured in this run. Target: p99 < 20 ms at 200 req/s, throughput
 * ≥ 0.5× the bare handler.
 */
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { pino } from 'pino';
import { createApp } from '../api/app.js';
import { createLogger } from '../lib/logger.js';
import { openDb } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import { createStores } from '../store/index.js';
import { BlobStore } from '../store/blobs.js';
import { SecretSealer } from '../lib/sealed-secrets.js';
import { builtInConnectors } from '../connectors/index.js';
import { OutboundHttp } from '../connectors/http-client.js';
import { TemporalGateway } from '../temporal/gateway.js';
import { JobSchedules } from '../temporal/schedules.js';
import { ValetTokens } from '../lib/valet-token.js';
import { loadConfig } from '../config.js';
import { randomBytes } from 'node:crypto';
import { bootstrap } from '../bootstrap.js';
import { PreviewPool } from '../api/preview/pool.js';
import { listen, load, table } from './util.js';

export async function runApiBench(options: { seconds?: number } = {}): Promise<void> {
  const seconds = options.seconds ?? Number(process.env.BENCH_SECONDS ?? 5);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hub-bench-api-'));
  const db = await openDb({ databaseUrl: process.env.DATABASE_URL || null, dataDir });
  await migrate(db);
  const masterKey = randomBytes(32);
  const stores = createStores(db, new SecretSealer(masterKey));
  const temporal = new TemporalGateway({ address: '127.0.0.1:1', namespace: 'default', taskQueue: 'bench' });
  const { generatedKey } = await bootstrap({ ...stores, adminKey: null, dataDir });
  const logger = createLogger('info', pino.destination({ dest: '/dev/null', sync: false }));
  const { app } = createApp({
    db, logger, stores,
    blobs: await BlobStore.open(path.join(dataDir, 'blobs')), http: new OutboundHttp({ allowPrivateNetworks: true }), registry: builtInConnectors(), allowPrivateNetworks: true,
    temporal, schedules: new JobSchedules(temporal, loadConfig({}).deliveryRetry), valet: new ValetTokens(masterKey), publicUrl: null, deliveryRetry: loadConfig({}).deliveryRetry, webhookConfig: loadConfig({}).webhooks,
    rateLimitPerMinute: 10_000_000, jsonBodyLimitBytes: 1 << 20, jsonMaxDepth: 64, version: 'bench',
    preview: new PreviewPool(path.join(dataDir, 'blobs'), loadConfig({}).preview),
  });
  const hubUrl = await listen(createServer(app));
  const bare = express();
  bare.get('/bare', (_req, res) => { res.json({ key_id: 'key_x', name: 'bootstrap', workspace_id: 'default', scopes: ['admin'] }); });
  const bareUrl = await listen(createServer(bare));
  const auth = { 'x-api-key': generatedKey! };

  // Warm up both (JIT, key cache).
  await load(`${bareUrl}/bare`, { seconds: 1, connections: 10 });
  await load(`${hubUrl}/api/v1/me`, { headers: auth, seconds: 1, connections: 10 });

  const bareMax = await load(`${bareUrl}/bare`, { seconds, connections: 10 });
  const hubMax = await load(`${hubUrl}/api/v1/me`, { headers: auth, seconds, connections: 10 });
  const listMax = await load(`${hubUrl}/api/v1/api-keys`, { headers: auth, seconds, connections: 10 });
  // Fixed-rate runs on few connections: latency, not queueing behind a burst, is measured.
  const bareAt200 = await load(`${bareUrl}/bare`, { seconds, connections: 2, rate: 200 });
  const hubAt200 = await load(`${hubUrl}/api/v1/me`, { headers: auth, seconds, connections: 2, rate: 200 });
  for (const r of [hubMax, listMax, hubAt200]) if (r.errors || r.non2xx) throw new Error(`hub answered errors during the benchmark: ${JSON.stringify(r)}`);

  console.log('\n## API: authenticated GET through the full middleware stack vs a bare Express handler');
  table([
    { case: 'bare Express handler, max', 'req/s': Math.round(bareMax.requestsPerSecond), 'p50 ms': bareMax.p50, 'p99 ms': bareMax.p99 },
    { case: 'hub GET /api/v1/me, max', 'req/s': Math.round(hubMax.requestsPerSecond), 'p50 ms': hubMax.p50, 'p99 ms': hubMax.p99 },
    { case: 'hub GET /api/v1/api-keys (DB read), max', 'req/s': Math.round(listMax.requestsPerSecond), 'p50 ms': listMax.p50, 'p99 ms': listMax.p99 },
    { case: 'bare at 200 req/s', 'req/s': Math.round(bareAt200.requestsPerSecond), 'p50 ms': bareAt200.p50, 'p99 ms': bareAt200.p99 },
    { case: 'hub /api/v1/me at 200 req/s', 'req/s': Math.round(hubAt200.requestsPerSecond), 'p50 ms': hubAt200.p50, 'p99 ms': hubAt200.p99 },
  ]);
  const ratio = hubMax.requestsPerSecond / bareMax.requestsPerSecond;
  console.log(`api: throughput ratio hub/bare = ${ratio.toFixed(2)}× (target ≥ 0.5×); DB-backed list ratio = ${(listMax.requestsPerSecond / bareMax.requestsPerSecond).toFixed(2)}×; p99 at 200 req/s = ${hubAt200.p99} ms (target < 20 ms)`);

  await db.close();
  await rm(dataDir, { recursive: true, force: true });
}
