/**
 * Collection benchmark, GitHub: github.repositories (500 repositories, each active one's default
 * branch read twice: branch protection and rules for the branch) from the GitHub simulator under
 * a primary rate limit of `rate` requests a second (x-ratelimit-* on every answer), through the
 * real collection activity (GitHub App token, connector, pacing, part blobs, snapshot), against
 * the minimum time the limit allows and a plain loop that follows Link and sleeps until
 * x-ratelimit-reset when nothing remains, measured in the same run. Target as Okta's: ≤ 1.03×
 * the rate-limit minimum with zero requests into an exhausted bucket.
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
import { startGitHubSimulator, type GitHubSimulator } from '../test/simulators/index.js';
import { table, timeWithPeakRss } from './util.js';

const WINDOW_MS = 1000;

async function hubCollection(sim: GitHubSimulator): Promise<{ collect: () => Promise<number>; close: () => Promise<void> }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hub-bench-github-'));
  const db = await openDb({ databaseUrl: process.env.DATABASE_URL || null, dataDir });
  await migrate(db);
  const stores = createStores(db, new SecretSealer(randomBytes(32)));
  await stores.workspaces.ensureDefault();
  const connection = await stores.connections.insert({
    id: 'conn_bench_github', workspaceId: 'default', name: 'github', type: 'github',
    config: { org: sim.org, api_url: sim.apiUrl, auth_method: 'app', app_id: sim.appId, installation_id: sim.installationId, page_size: 100, concurrency: 8 },
  });
  await stores.secrets.put({ workspaceId: 'default', type: 'connection', id: connection.id }, { private_key: sim.appPrivateKey });
  const activities = collectActivities({
    ...stores, db, blobs: await BlobStore.open(path.join(dataDir, 'blobs')), http: new OutboundHttp({ allowPrivateNetworks: true }), registry: builtInConnectors(), logger: createLogger('warn'),
  });
  const env = new MockActivityEnvironment();
  return {
    collect: async () => ((await env.run(activities.collectDataset, { workspaceId: 'default', connectionId: connection.id, dataset: 'github.repositories', collectionKey: 'bench-github' })) as { record_count: number }).record_count,
    close: async () => {
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** What a competent script would write: follow Link, read each default branch, sleep until x-ratelimit-reset when nothing remains. */
async function plainLoop(apiUrl: string, token: string): Promise<number> {
  const get = async (url: string) => {
    for (;;) {
      const response = await request(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/vnd.github+json' } });
      const remaining = response.headers['x-ratelimit-remaining'];
      const resetMs = Number(response.headers['x-ratelimit-reset']) * 1000;
      if ((response.statusCode === 403 || response.statusCode === 429) && remaining === '0') {
        await response.body.dump();
        await new Promise((r) => setTimeout(r, Math.max(0, resetMs - Date.now()) + 25));
        continue;
      }
      const body = (await response.body.json()) as unknown;
      if (remaining === '0') await new Promise((r) => setTimeout(r, Math.max(0, resetMs - Date.now()) + 25));
      return { body, link: response.headers.link as string | undefined };
    }
  };
  let count = 0;
  let url: string | null = `${apiUrl}/orgs/simcorp/repos?type=all&per_page=100`;
  while (url) {
    const page = await get(url);
    for (const repo of page.body as { full_name: string; archived: boolean; default_branch: string }[]) {
      if (!repo.archived) {
        await get(`${apiUrl}/repos/${repo.full_name}/branches/${repo.default_branch}/protection`);
        await get(`${apiUrl}/repos/${repo.full_name}/rules/branches/${repo.default_branch}?per_page=100`);
      }
      count += 1;
    }
    url = linkUrl(page.link, 'next');
  }
  return count;
}

export async function runGitHubCollectionBench(): Promise<void> {
  const repositories = Number(process.env.BENCH_GITHUB_REPOSITORIES ?? 500);
  const rate = Number(process.env.BENCH_GITHUB_RATE ?? 100);
  const population = { repositories, archived: 0, rulesetProtected: Math.round(repositories / 5), protectedWithoutReviews: Math.round(repositories / 100), unprotected: Math.round(repositories / 50), members: 5, dependabotAlerts: 0, openSecretAlerts: 0 };
  const run = async (side: 'hub' | 'loop') => {
    const sim = await startGitHubSimulator({ population, rateLimit: { limit: rate, windowMs: WINDOW_MS } });
    const prepared = side === 'hub' ? await hubCollection(sim) : null;
    try {
      await new Promise((r) => setTimeout(r, WINDOW_MS - (Date.now() % WINDOW_MS) + 5));
      const baseRssMb = Math.round(process.memoryUsage().rss / 1048576);
      const measured = await timeWithPeakRss(() => (prepared ? prepared.collect() : plainLoop(sim.apiUrl, sim.token)));
      const core = sim.requests.filter((r) => r.bucket === 'core').length;
      return { ...measured, baseRssMb, core, exhausted: sim.throttling.requestsIntoExhaustedBuckets.length, early: sim.throttling.requestsBeforeReset };
    } finally {
      await prepared?.close();
      await sim.close();
    }
  };
  const hub = await run('hub');
  const loop = await run('loop');
  if (hub.result !== repositories) throw new Error(`hub collected ${hub.result} of ${repositories}`);
  // Every request counts against the installation's core bucket: the list pages and two look-ups per repository.
  const bottleneck = Math.ceil(repositories / 100) + 2 * repositories;
  const minimumMs = (Math.ceil(bottleneck / rate) - 1) * WINDOW_MS;
  const label = `GitHub, ${repositories} repositories with branch protection and rulesets (github.repositories), ${rate} req/s primary limit`;
  console.log(`\n## Collection: ${label}`);
  table([
    { case: 'rate-limit minimum', 'wall ms': minimumMs, requests: bottleneck },
    { case: 'plain Link loop (sleeps until x-ratelimit-reset)', 'wall ms': Math.round(loop.ms), records: loop.result, requests: loop.core, 'into exhausted bucket': loop.exhausted },
    { case: 'hub collection activity', 'wall ms': Math.round(hub.ms), records: hub.result, requests: hub.core, 'into exhausted bucket': hub.exhausted, 'early requests': hub.early, 'RSS before MB': hub.baseRssMb, 'peak RSS MB': hub.peakRssMb },
  ]);
  console.log(`collection (${label}): hub/minimum = ${(hub.ms / Math.max(1, minimumMs)).toFixed(3)}× (target ≤ 1.03×), ${hub.exhausted} requests into an exhausted bucket (target 0), ` +
    `hub/plain loop = ${(hub.ms / loop.ms).toFixed(2)}×, peak RSS ${hub.peakRssMb} MB`);
}
