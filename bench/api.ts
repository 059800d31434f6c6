/**
 * API benchmark (docs/architecture.md, "Performance"): an authenticated GET through the hub's full middleware stack
 * (request id, JSON logs, key lookup, rate limit, validation, problem handling) against a bare
 * Express handler, both measured in this run. Target: p99 < 20 ms at 200 req/s, throughput
 * ≥ 0.5× the bare handler.
 */
import { createServer } from 'node:http';
import express from 'express';
import { startBenchApi } from './api-app.js';
import { listen, load, table } from './util.js';

export async function runApiBench(options: { seconds?: number } = {}): Promise<void> {
  const seconds = options.seconds ?? Number(process.env.BENCH_SECONDS ?? 5);
  const api = await startBenchApi();
  const hubUrl = api.url;
  const bare = express();
  bare.get('/bare', (_req, res) => { res.json({ key_id: 'key_x', name: 'bootstrap', workspace_id: 'default', scopes: ['admin'] }); });
  const bareUrl = await listen(createServer(bare));
  const auth = { 'x-api-key': api.adminKey };

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
  console.log(`api: throughput ratio hub/bare = ${ratio.toFixed(2)}× (target ≥ 0.8×); DB-backed list ratio = ${(listMax.requestsPerSecond / bareMax.requestsPerSecond).toFixed(2)}× (target ≥ 0.5×); p99 at 200 req/s = ${hubAt200.p99} ms (target < 20 ms)`);

  await api.close();
}
