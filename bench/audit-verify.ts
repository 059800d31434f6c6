/**
 * Audit log verify benchmark: a chain of 1 000 000 entries (BENCH_AUDIT_ENTRIES) in one
 * workspace of a whole hub on PGlite (one connection for everything), verified through
 * POST /api/v1/audit-log/verify while a prober in a worker thread (its own event loop, so a
 * stalled hub shows as latency, not as a prober that stopped asking) calls /readyz and another
 * workspace's GET /api/v1/me one after another. Baseline: the same probes against the idle hub,
 * in the same run. Prints the verify's time and rate and the probes' p50/p99/max, idle and
 * during the verify, with their ratio. `DATABASE_URL` runs the same against PostgreSQL.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadConfig } from '../config.js';
import { startHub } from '../hub.js';
import { createLogger } from '../lib/logger.js';
import { ApiKeyStore } from '../store/api-keys.js';
import { WorkspaceStore } from '../store/workspaces.js';
import { findOrBuildTemporalCli } from '../temporal/cli-binary.js';
import { freePort, startDevServer } from '../temporal/dev-server.js';
import { appendBulkChain } from '../test/helpers/audit-bulk.js';
import { table } from './util.js';

const ENTRIES = Number(process.env.BENCH_AUDIT_ENTRIES ?? 1_000_000);
const IDLE_PROBE_MS = 5_000;
const PROBE_GAP_MS = 50;

interface Probe { path: string; ms: number; status: number }

/** Calls each path in turn, one request at a time, PROBE_GAP_MS apart, until told to stop; posts every latency. */
const PROBER = `
const { parentPort, workerData } = require('node:worker_threads');
let stop = false;
parentPort.on('message', () => { stop = true; });
(async () => {
  const probes = [];
  while (!stop) {
    for (const { path, key } of workerData.targets) {
      const started = performance.now();
      let status = 0;
      try {
        const res = await fetch(workerData.url + path, { headers: key ? { 'x-api-key': key } : {} });
        await res.arrayBuffer();
        status = res.status;
      } catch { status = -1; }
      probes.push({ path, ms: performance.now() - started, status });
    }
    await new Promise((r) => setTimeout(r, workerData.gapMs));
  }
  parentPort.postMessage(probes);
})();
`;

function startProber(url: string, targets: { path: string; key?: string }[]): { stop: () => Promise<Probe[]> } {
  const worker = new Worker(PROBER, { eval: true, workerData: { url, targets, gapMs: PROBE_GAP_MS } });
  const done = new Promise<Probe[]>((resolve, reject) => {
    worker.once('message', (probes: Probe[]) => resolve(probes));
    worker.once('error', reject);
  });
  return {
    async stop() {
      worker.postMessage('stop');
      const probes = await done;
      await worker.terminate();
      return probes;
    },
  };
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summary(probes: Probe[], path: string) {
  const mine = probes.filter((p) => p.path === path);
  const ms = mine.map((p) => p.ms).sort((a, b) => a - b);
  const statuses = [...new Set(mine.filter((p) => p.status !== 200).map((p) => p.status))].sort().join(', ');
  return { count: mine.length, not200: mine.filter((p) => p.status !== 200).length, statuses, p50: percentile(ms, 50), p99: percentile(ms, 99), max: ms[ms.length - 1] ?? Number.NaN };
}

const round = (n: number) => (Number.isNaN(n) ? '—' : n < 10 ? n.toFixed(1) : String(Math.round(n)));

export async function runAuditVerifyBench(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hub-bench-audit-'));
  const binary = await findOrBuildTemporalCli({ configuredPath: process.env.TEMPORAL_CLI_PATH || null });
  const temporal = await startDevServer({ binary, dbFile: null, port: await freePort(), uiPort: null, namespace: 'default' });
  const config = loadConfig({ PORT: '0', HUB_HOST: '127.0.0.1', HUB_DATA_DIR: dataDir, TEMPORAL_ADDRESS: temporal.address, LOG_LEVEL: 'warn',
    // The prober asks more often than the default rate limit allows one client.
    HUB_RATE_LIMIT_PER_MINUTE: '1000000', DATABASE_URL: process.env.DATABASE_URL ?? '' });
  const hub = await startHub(config, 'all', { logger: createLogger('warn') });
  try {
    const workspaces = new WorkspaceStore(hub.db);
    const keys = new ApiKeyStore(hub.db);
    const big = await workspaces.create('bench-audit-chain');
    const bigKey = (await keys.create({ workspaceId: big.id, name: 'bench', scopes: ['admin'] })).key;
    const other = await workspaces.create('bench-neighbour');
    const otherKey = (await keys.create({ workspaceId: other.id, name: 'bench', scopes: ['audit:read'] })).key;

    const seedStarted = performance.now();
    await appendBulkChain(hub.db, big.id, ENTRIES, { keepHashes: false });
    const seedMs = performance.now() - seedStarted;
    const targets = [{ path: '/readyz' }, { path: '/api/v1/me', key: otherKey }];

    // Warm-up (the first /readyz opens the Temporal connection), then the baseline: the idle
    // hub, probed the same way.
    for (let i = 0; i < 5; i++) for (const target of targets) await (await fetch(hub.url! + target.path, { headers: target.key ? { 'x-api-key': target.key } : {} })).arrayBuffer();
    const idle = startProber(hub.url!, targets);
    await new Promise((r) => setTimeout(r, IDLE_PROBE_MS));
    const idleProbes = await idle.stop();

    const during = startProber(hub.url!, targets);
    const started = performance.now();
    const res = await fetch(`${hub.url}/api/v1/audit-log/verify`, { method: 'POST', headers: { 'x-api-key': bigKey, 'content-type': 'application/json' }, body: '{}' });
    const report = (await res.json()) as { verified: boolean; logs_checked: number; gaps_detected: number };
    const verifyMs = performance.now() - started;
    const busyProbes = await during.stop();
    if (res.status !== 200 || !report.verified || report.logs_checked < ENTRIES) throw new Error(`verify answered ${res.status}: ${JSON.stringify(report)}`);

    console.log(`\n## Audit log verify: ${ENTRIES.toLocaleString('en')} entries on ${hub.db.kind} (chain written in ${(seedMs / 1000).toFixed(0)} s)`);
    console.log(`verify: ${(verifyMs / 1000).toFixed(1)} s, ${Math.round(report.logs_checked / (verifyMs / 1000)).toLocaleString('en')} entries/s, verified=${report.verified}, gaps=${report.gaps_detected}`);
    const rows = [];
    for (const target of targets) {
      const a = summary(idleProbes, target.path);
      const b = summary(busyProbes, target.path);
      rows.push({ probe: target.path, phase: 'idle hub (baseline)', requests: a.count, 'not 200': a.not200 ? `${a.not200} (${a.statuses})` : 0, 'p50 ms': round(a.p50), 'p99 ms': round(a.p99), 'max ms': round(a.max) });
      rows.push({ probe: target.path, phase: 'during the verify', requests: b.count, 'not 200': b.not200 ? `${b.not200} (${b.statuses})` : 0, 'p50 ms': round(b.p50), 'p99 ms': round(b.p99), 'max ms': round(b.max) });
      console.log(`audit-verify: ${target.path} during a ${ENTRIES.toLocaleString('en')}-entry verify: p50 ${round(b.p50)} ms, p99 ${round(b.p99)} ms, max ${round(b.max)} ms ` +
        `(idle: p50 ${round(a.p50)} ms, p99 ${round(a.p99)} ms; p99 ratio ${(b.p99 / a.p99).toFixed(1)}×), ${b.not200} of ${b.count} not 200${b.not200 ? ` (${b.statuses})` : ''}`);
    }
    table(rows);
  } finally {
    await hub.stop();
    await temporal.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
