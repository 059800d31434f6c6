/**
 * Collection benchmark (docs/architecture.md, "Performance"): okta.users from the Okta simulator under a per-endpoint
 * rate limit, through the real collection activity (connector, pacing, part blobs, snapshot),
 * against the minimum time the rate limit allows and a plain paginating fetch loop that
 * honours the same headers, measured in the same run. Target (docs/architecture.md, "Performance"): ≤ 1.03× the
 * rate-limit minimum with zero requests into an exhausted bucket (also with enrichment), peak
 * RSS < 300 MB.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { request } from 'undici';
import { collectActivities } from '../activities/collect.js';
import { builtInConnectors } from '../connectors/index.js';
import { OutboundHttp } from '../connectors/http-client.js';
import { linkUrl } from '../connectors/link-header.js';
import { createLogger } from '../lib/logger.js';
import { SecretSealer } from '../lib/sealed-secrets.js';
import { BlobStore } from '../store/blobs.js';
import { openDb } from '../store/db.js';
import { createStores } from '../store/index.js';
import { migrate } from '../store/migrate.js';
import { startGraphSimulator, startOktaSimulator, type GraphSimulator } from '../test/simulators/index.js';
import { table, timeWithPeakRss } from './util.js';
import { runGitHubCollectionBench } from './github-collection.js';

const WINDOW_MS = 1000;

/** What a competent script would write: follow Link, sleep until X-Rate-Limit-Reset when nothing remains. */
async function plainLoop(baseUrl: string, token: string): Promise<number> {
  let url: string | null = `${baseUrl}/api/v1/users?limit=200`;
  let count = 0;
  while (url) {
    const response = await request(url, { headers: { authorization: `SSWS ${token}` } });
    if (response.statusCode === 429) {
      await response.body.dump();
      const reset = Number(response.headers['x-rate-limit-reset']) * 1000;
      await new Promise((r) => setTimeout(r, Math.max(0, reset - Date.now()) + 25));
      continue;
    }
    const users = (await response.body.json()) as unknown[];
    count += users.length;
    url = linkUrl(response.headers.link, 'next');
    if (Number(response.headers['x-rate-limit-remaining']) === 0) {
      const reset = Number(response.headers['x-rate-limit-reset']) * 1000;
      await new Promise((r) => setTimeout(r, Math.max(0, reset - Date.now()) + 25));
    }
  }
  return count;
}

/** Sets up a store and returns the collection to run (the set-up is not measured). */
async function hubCollection(baseUrl: string, token: string, config: Record<string, unknown>): Promise<{ collect: () => Promise<number>; close: () => Promise<void> }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hub-bench-collect-'));
  // PGlite alone holds ~650 MB (a whole PostgreSQL in WASM); DATABASE_URL measures without it.
  const db = await openDb({ databaseUrl: process.env.DATABASE_URL || null, dataDir });
  {
    await migrate(db);
    const stores = createStores(db, new SecretSealer(randomBytes(32)));
    await stores.workspaces.ensureDefault();
    const connection = await stores.connections.insert({ id: 'conn_bench', workspaceId: 'default', name: 'okta', type: 'okta', config: { base_url: baseUrl, auth_method: 'api_token', ...config } });
    await stores.secrets.put({ workspaceId: 'default', type: 'connection', id: connection.id }, { api_token: token });
    const activities = collectActivities({
      ...stores,
      db,
      blobs: await BlobStore.open(path.join(dataDir, 'blobs')),
      http: new OutboundHttp({ allowPrivateNetworks: true }),
      registry: builtInConnectors(),
      logger: createLogger('warn'),
    });
    const env = new MockActivityEnvironment();
    return {
      collect: async () => {
        const snapshot = await env.run(activities.collectDataset, { workspaceId: 'default', connectionId: connection.id, dataset: 'okta.users', collectionKey: 'bench' });
        return (snapshot as { record_count: number }).record_count;
      },
      close: async () => {
        await db.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }
}

async function scenario(label: string, users: number, limit: number, config: Record<string, unknown>, requestsInBottleneck: (users: number) => number) {
  // A fresh simulator per side, so both start with empty windows.
  const run = async (fn: (url: string, token: string) => Promise<number>, setUp?: (url: string, token: string) => Promise<{ collect: () => Promise<number>; close: () => Promise<void> }>) => {
    const sim = await startOktaSimulator({ population: { total: users, deprovisioned: 0 }, rateLimit: { limit, windowMs: WINDOW_MS } });
    const prepared = setUp ? await setUp(sim.url, sim.apiToken) : null;
    try {
      // Start at a window boundary, as a fair comparison needs the same number of windows.
      await new Promise((r) => setTimeout(r, WINDOW_MS - (Date.now() % WINDOW_MS) + 5));
      const baseRssMb = Math.round(process.memoryUsage().rss / 1048576);
      const measured = await timeWithPeakRss(() => (prepared ? prepared.collect() : fn(sim.url, sim.apiToken)));
      return { ...measured, baseRssMb, exhausted: sim.throttling.requestsIntoExhaustedBuckets.length, early: sim.throttling.requestsBeforeReset };
    } finally {
      await prepared?.close();
      await sim.close();
    }
  };
  const minimumMs = (Math.ceil(requestsInBottleneck(users) / limit) - 1) * WINDOW_MS;
  const hub = await run(async () => 0, (url, token) => hubCollection(url, token, config));
  const loop = config.enrich === false ? await run(plainLoop) : null;
  if (hub.result !== users) throw new Error(`hub collected ${hub.result} of ${users}`);
  console.log(`\n## Collection: ${label}`);
  table([
    { case: 'rate-limit minimum', 'wall ms': minimumMs },
    ...(loop ? [{ case: 'plain paginating fetch loop', 'wall ms': Math.round(loop.ms), records: loop.result, 'into exhausted bucket': loop.exhausted }] : []),
    { case: 'hub collection activity', 'wall ms': Math.round(hub.ms), records: hub.result, 'into exhausted bucket': hub.exhausted, 'early requests': hub.early, 'RSS before MB': hub.baseRssMb, 'peak RSS MB': hub.peakRssMb },
  ]);
  console.log(`collection (${label}): hub/minimum = ${(hub.ms / Math.max(1, minimumMs)).toFixed(3)}× (target ≤ 1.03×), ${hub.exhausted} requests into an exhausted bucket (target 0)` +
    (loop ? `, hub/plain loop = ${(hub.ms / loop.ms).toFixed(2)}×` : '') + `, peak RSS ${hub.peakRssMb} MB, of which ${hub.peakRssMb - hub.baseRssMb} MB during the collection (target < 300 MB)`);
}

export async function runCollectionBench(): Promise<void> {
  const users = Number(process.env.BENCH_OKTA_USERS ?? 100_000);
  const rate = Number(process.env.BENCH_OKTA_RATE ?? 100);
  // The list walk: 200 users per page, the users endpoint limited to `rate` requests per second.
  await scenario(`${users} users, list only (enrich: false), ${rate} req/s on /api/v1/users`, users, rate, { enrich: false }, (n) => Math.ceil(n / 200) + 1);
  // With MFA factors and admin roles: two look-ups per user, each endpoint limited separately.
  const enriched = Number(process.env.BENCH_OKTA_ENRICHED_USERS ?? 3_000);
  await scenario(`${enriched} users with factors and roles, 600 req/s per endpoint`, enriched, 600, { enrich: true, enrich_concurrency: 16 }, (n) => n);
  await runGraphCollectionBench();
  await runGitHubCollectionBench();
}

/**
 * Microsoft Graph: the entra connector against the Graph simulator, 10 000 users with their
 * registration details, each Graph service (users, reports) limited to `rate` requests a
 * second. Graph announces no window (only Retry-After on a 429), so a client learns the
 * limit by meeting it: the figure counts those 429s, and compares the hub with a plain
 * nextLink loop that sleeps Retry-After.
 */
async function graphScenario(label: string, users: number, rate: number, pageSize: number, dataset: 'entra.users' | 'entra.mfa_registration', bottleneckRequests: number) {
  const run = async (side: 'hub' | 'loop') => {
    const sim = await startGraphSimulator({ users: { total: users }, rateLimit: { limit: rate, windowMs: WINDOW_MS } });
    let prepared: { collect: () => Promise<number>; close: () => Promise<void> } | null = null;
    if (side === 'hub') prepared = await graphHubCollection(sim, pageSize, dataset);
    try {
      await new Promise((r) => setTimeout(r, WINDOW_MS - (Date.now() % WINDOW_MS) + 5));
      const baseRssMb = Math.round(process.memoryUsage().rss / 1048576);
      const measured = await timeWithPeakRss(() => (prepared ? prepared.collect() : graphPlainLoop(sim.url, sim.tokenUrl, sim.clientId, sim.clientSecret, pageSize, dataset)));
      return { ...measured, baseRssMb, throttled: sim.throttling.requestsIntoExhaustedBuckets.length, early: sim.throttling.requestsBeforeReset };
    } finally {
      await prepared?.close();
      await sim.close();
    }
  };
  const minimumMs = (Math.ceil(bottleneckRequests / rate) - 1) * WINDOW_MS;
  const hub = await run('hub');
  const loop = await run('loop');
  if (hub.result !== users) throw new Error(`hub collected ${hub.result} of ${users}`);
  console.log(`\n## Collection: ${label}`);
  table([
    { case: 'rate-limit minimum', 'wall ms': minimumMs },
    { case: 'plain nextLink loop (sleeps Retry-After)', 'wall ms': Math.round(loop.ms), records: loop.result, '429s': loop.throttled, 'early requests': loop.early },
    { case: 'hub collection activity', 'wall ms': Math.round(hub.ms), records: hub.result, '429s': hub.throttled, 'early requests': hub.early, 'RSS before MB': hub.baseRssMb, 'peak RSS MB': hub.peakRssMb },
  ]);
  console.log(`collection (${label}): hub/minimum = ${(hub.ms / Math.max(1, minimumMs)).toFixed(3)}×, hub/plain loop = ${(hub.ms / loop.ms).toFixed(2)}×, ` +
    `${hub.throttled} 429s met (Graph announces no window: about one per window is how a client finds the limit), ${hub.early} requests before a Retry-After ran out (target 0), peak RSS ${hub.peakRssMb} MB`);
}

async function graphHubCollection(sim: GraphSimulator, pageSize: number, dataset: string): Promise<{ collect: () => Promise<number>; close: () => Promise<void> }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hub-bench-graph-'));
  const db = await openDb({ databaseUrl: process.env.DATABASE_URL || null, dataDir });
  await migrate(db);
  const stores = createStores(db, new SecretSealer(randomBytes(32)));
  await stores.workspaces.ensureDefault();
  const connection = await stores.connections.insert({
    id: 'conn_bench_graph', workspaceId: 'default', name: 'entra', type: 'entra',
    config: { tenant_id: sim.tenantId, client_id: sim.clientId, authority_url: sim.url, graph_url: sim.url, page_size: pageSize },
  });
  await stores.secrets.put({ workspaceId: 'default', type: 'connection', id: connection.id }, { client_secret: sim.clientSecret });
  const activities = collectActivities({
    ...stores, db, blobs: await BlobStore.open(path.join(dataDir, 'blobs')), http: new OutboundHttp({ allowPrivateNetworks: true }), registry: builtInConnectors(), logger: createLogger('warn'),
  });
  const env = new MockActivityEnvironment();
  return {
    collect: async () => ((await env.run(activities.collectDataset, { workspaceId: 'default', connectionId: connection.id, dataset, collectionKey: 'bench-graph' })) as { record_count: number }).record_count,
    close: async () => {
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** What a competent script would write against Graph: a token, then follow @odata.nextLink, sleeping Retry-After on a 429. */
async function graphPlainLoop(graphUrl: string, tokenUrl: string, clientId: string, clientSecret: string, pageSize: number, dataset: string): Promise<number> {
  const tokenResponse = await request(tokenUrl, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: clientId, client_secret: clientSecret, scope: `${graphUrl}/.default`, grant_type: 'client_credentials' }).toString(),
  });
  const { access_token: token } = (await tokenResponse.body.json()) as { access_token: string };
  const walk = async (first: string, onPage: (items: Record<string, unknown>[]) => void) => {
    let url: string | null = first;
    while (url) {
      const response = await request(url, { headers: { authorization: `Bearer ${token}` } });
      if (response.statusCode === 429) {
        await response.body.dump();
        await new Promise((r) => setTimeout(r, Number(response.headers['retry-after']) * 1000));
        continue;
      }
      const body = (await response.body.json()) as { value: Record<string, unknown>[]; '@odata.nextLink'?: string };
      onPage(body.value);
      url = body['@odata.nextLink'] ?? null;
    }
  };
  let count = 0;
  if (dataset === 'entra.users') {
    await walk(`${graphUrl}/v1.0/users?$select=id,userPrincipalName,accountEnabled,userType,createdDateTime,signInActivity&$top=${pageSize}`, (items) => { count += items.length; });
    return count;
  }
  const enabled = new Map<string, unknown>();
  await walk(`${graphUrl}/v1.0/users?$select=id,accountEnabled&$top=999`, (items) => { for (const u of items) enabled.set(String(u.id), u.accountEnabled); });
  await walk(`${graphUrl}/v1.0/reports/authenticationMethods/userRegistrationDetails?$top=${pageSize}`, (items) => { for (const r of items) { void enabled.get(String(r.id)); count += 1; } });
  return count;
}

export async function runGraphCollectionBench(): Promise<void> {
  const users = Number(process.env.BENCH_GRAPH_USERS ?? 10_000);
  const rate = Number(process.env.BENCH_GRAPH_RATE ?? 20);
  const pageSize = Number(process.env.BENCH_GRAPH_PAGE_SIZE ?? 100);
  const pages = Math.ceil(users / pageSize);
  await graphScenario(`Graph, ${users} users with sign-in activity (entra.users), ${pageSize} a page, ${rate} req/s per service`, users, rate, pageSize, 'entra.users', pages);
  // The users walk (999 a page, the users service) then the registration report (the reports service): the report's pages are the bottleneck.
  await graphScenario(`Graph, ${users} users with registration details (entra.mfa_registration), ${pageSize} a page, ${rate} req/s per service`, users, rate, pageSize, 'entra.mfa_registration', pages);
}
