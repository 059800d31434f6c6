/**
 * Webhook fan-out benchmark: events recorded through the outbox (EventStore.record, as every
 * cause does) are delivered to 3 local receivers by the hub (dispatcher → Temporal workflow
 * → signed POSTs). Prints sustained deliveries per second against a plain loop posting the
 * same signed bodies to the same receivers at the same concurrency, and the latency from
 * event recorded to first attempt (p50/p99) at a steady 50 events/s.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { loadConfig } from '../config.js';
import { startHub } from '../hub.js';
import { createLogger } from '../lib/logger.js';
import { EventStore } from '../store/events.js';
import { findOrBuildTemporalCli } from '../temporal/cli-binary.js';
import { freePort, startDevServer } from '../temporal/dev-server.js';
import { mapConcurrent } from '../lib/map-concurrent.js';
import { webhookHeaders } from '../webhooks/signature.js';
import { startChildService, table } from './util.js';

const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 2_000);
const STEADY_RATE = 50;
const STEADY_SECONDS = Number(process.env.BENCH_WEBHOOK_SECONDS ?? 10);
const IN_FLIGHT_PER_ENDPOINT = 8;

async function startReceivers(): Promise<{ urls: string[]; stop: () => void }> {
  const { info, stop } = await startChildService<{ ports: number[] }>('webhook-receivers.ts');
  return { urls: info.ports.map((p) => `http://127.0.0.1:${p}/hooks`), stop };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export async function runWebhookBench(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hub-bench-webhooks-'));
  const binary = await findOrBuildTemporalCli({ configuredPath: process.env.TEMPORAL_CLI_PATH || null });
  const temporal = await startDevServer({ binary, dbFile: null, port: await freePort(), uiPort: null, namespace: 'default' });
  const receivers = await startReceivers();
  const config = loadConfig({
    PORT: '0', HUB_HOST: '127.0.0.1', HUB_DATA_DIR: dataDir, TEMPORAL_ADDRESS: temporal.address, HUB_ALLOW_PRIVATE_NETWORKS: 'true', LOG_LEVEL: 'warn',
    HUB_WEBHOOK_MAX_IN_FLIGHT: String(IN_FLIGHT_PER_ENDPOINT), DATABASE_URL: process.env.DATABASE_URL ?? '',
  });
  const hub = await startHub(config, 'all', { logger: createLogger('warn') });
  const key = hub.bootstrap!.generatedKey!;
  try {
    const secrets: string[] = [];
    for (const url of receivers.urls) {
      const res = await request(`${hub.url}/api/v1/webhooks`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ url }) });
      secrets.push(((await res.body.json()) as { secret: string }).secret);
    }
    const events = new EventStore(hub.db);
    const data = { run_id: 'run_bench', job_id: 'job_bench', trigger: 'api', status: 'succeeded', mapping_id: 'map_bench', mapping_version: 1, counts: { collected: 1000, evidence: 6, delivered: 6, rejected: 0, ambiguous: 0, failed: 0 }, error: null, started_at: new Date().toISOString(), ended_at: new Date().toISOString() };
    const deliveredCount = async (since: Date) => (await hub.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'delivered' AND created_at >= $1`, [since]))[0]!.n;

    // 1. Sustained throughput: EVENTS events as fast as the outbox takes them, 3 deliveries each.
    const burstStart = new Date();
    const t0 = performance.now();
    for (let i = 0; i < EVENTS; i++) await events.record({ workspaceId: 'default', type: 'run.completed', data });
    const recordedMs = performance.now() - t0;
    while ((await deliveredCount(burstStart)) < EVENTS * 3) await new Promise((r) => setTimeout(r, 50));
    const hubSeconds = (performance.now() - t0) / 1000;
    const hubRate = (EVENTS * 3) / hubSeconds;

    // Baseline: the same signed bodies, posted by a plain loop at the same concurrency.
    const agent = new Agent({ connections: IN_FLIGHT_PER_ENDPOINT * 3 });
    const jobs = Array.from({ length: EVENTS * 3 }, (_, i) => i);
    const body = JSON.stringify({ id: 'evt_bench', type: 'run.completed', timestamp: new Date().toISOString(), data });
    const l0 = performance.now();
    await mapConcurrent(jobs, IN_FLIGHT_PER_ENDPOINT * 3, async (i) => {
      const headers = webhookHeaders([secrets[i % 3]!], `evt_bench_${i}`, Math.floor(Date.now() / 1000), body);
      const res = await request(receivers.urls[i % 3]!, { method: 'POST', body, headers: { ...headers, 'content-type': 'application/json' }, dispatcher: agent });
      await res.body.dump();
    });
    const loopRate = jobs.length / ((performance.now() - l0) / 1000);
    await agent.close();

    // 2. Latency at a steady 50 events/s: event recorded → first attempt.
    const steadyStart = new Date();
    const total = STEADY_RATE * STEADY_SECONDS;
    const s0 = performance.now();
    for (let i = 0; i < total; i++) {
      const due = s0 + (i * 1000) / STEADY_RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await events.record({ workspaceId: 'default', type: 'run.completed', data });
    }
    while ((await deliveredCount(steadyStart)) < total * 3) await new Promise((r) => setTimeout(r, 50));
    const rows = await hub.db.query<{ ms: number; dispatch_ms: number }>(
      `SELECT EXTRACT(EPOCH FROM (min(a.attempted_at) - e.created_at)) * 1000 AS ms, EXTRACT(EPOCH FROM (d.dispatched_at - e.created_at)) * 1000 AS dispatch_ms
       FROM webhook_deliveries d JOIN events e ON e.id = d.event_id JOIN webhook_attempts a ON a.delivery_id = d.id WHERE d.created_at >= $1 GROUP BY d.id, e.created_at`,
      [steadyStart],
    );
    const latencies = rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
    const dispatch = rows.map((r) => Number(r.dispatch_ms)).sort((a, b) => a - b);

    table([
      { measure: `fan-out of ${EVENTS} events × 3 endpoints`, hub_deliveries_per_s: Math.round(hubRate), plain_loop_per_s: Math.round(loopRate), ratio: Number((hubRate / loopRate).toFixed(2)), target: '≥ 0.2× the loop, ≥ 200/s sustained' },
    ]);
    table([
      { measure: `${STEADY_RATE} events/s for ${STEADY_SECONDS}s × 3 endpoints`, deliveries: latencies.length, dispatched_p50_ms: Math.round(percentile(dispatch, 50)), p50_ms: Math.round(percentile(latencies, 50)), p99_ms: Math.round(percentile(latencies, 99)), max_ms: Math.round(latencies[latencies.length - 1] ?? NaN), target: 'p99 < 1000 ms' },
    ]);
    console.log(`(recording ${EVENTS} events into the outbox took ${Math.round(recordedMs)} ms; database: ${hub.db.kind})`);
  } finally {
    await hub.stop();
    receivers.stop();
    await temporal.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
