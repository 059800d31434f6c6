/**
 * Evidence package benchmark (docs/architecture.md, "Performance"): a package of 50 000 evidence items (~1 KB
 * payloads each), one run and a 10 000-record snapshot, built twice in one process:
 *
 * 1. the package writer the build activity runs, in a fresh child process that loads only the
 *    database, the stores and the writer (bench/evidence-package-child.ts): what a package
 *    costs, without the seeding's leftovers or the Temporal SDK in the figure;
 * 2. the real path in the whole hub (API + worker + embedded database in one process):
 *    POST /api/v1/evidence-packages, the workflow on Temporal, the activity streaming the ZIP
 *    into the blob store, then the download through the API.
 *
 * For each it prints the RSS before (baseline, after a full GC), the peak during, the growth
 * over the baseline, what V8 and buffers held at the peak, time, ZIP size and items/s.
 * Target: peak RSS < 200 MB. PGlite keeps the whole database in this process, so the
 * baseline is large on it; `DATABASE_URL` runs the same against PostgreSQL.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { loadConfig } from '../config.js';
import { startHub } from '../hub.js';
import { canonicalSha256 } from '../lib/canonical-json.js';
import { newId } from '../lib/ids.js';
import { createLogger } from '../lib/logger.js';
import { ApiKeyStore } from '../store/api-keys.js';
import { BlobStore } from '../store/blobs.js';
import { openDb, type Db } from '../store/db.js';
import { EvidencePackageStore } from '../store/evidence-packages.js';
import { migrate } from '../store/migrate.js';
import { findOrBuildTemporalCli } from '../temporal/cli-binary.js';
import { freePort, startDevServer } from '../temporal/dev-server.js';
import { table } from './util.js';
import { measure, type Measured } from './memory.js';

const ITEMS = Number(process.env.BENCH_PACKAGE_ITEMS ?? 50_000);
const SNAPSHOT_RECORDS = 10_000;
const INSERT_BATCH = 1_000;
const TARGET_PEAK_MB = 200;
const WORKSPACE = 'ws_bench_packages';
const PERIOD = { from: '2026-01-01', to: '2026-12-31' };

const mb = (bytes: number) => Math.round(bytes / 1048576);

function row(phase: string, m: Measured<unknown>) {
  return {
    phase, ms: Math.round(m.ms), 'RSS before MB': mb(m.baseline.rss), 'peak RSS MB': mb(m.peak.rss), 'growth MB': mb(m.peak.rss - m.baseline.rss),
    'heap at peak MB': mb(m.peak.heapUsed), 'buffers at peak MB': mb(m.peak.arrayBuffers),
  };
}

/** About 1 KB of JSON, as a rule over a directory would produce. */
function payload(i: number) {
  return {
    users: { count: 250 + (i % 50), matched: 240 + (i % 10) },
    without_mfa: Array.from({ length: 8 }, (_, k) => ({ login: `user${i}-${k}@example.com`, last_login: `2026-0${1 + (k % 9)}-1${k}T08:00:00Z`, status: 'ACTIVE', is_admin: k === 0 })),
    checked_at: '2026-03-31T23:00:00Z',
  };
}

/** The ledger rows, written as multi-row INSERTs of 1 000 rows. */
async function insertEvidence(db: Db, workspaceId: string, runId: string, jobId: string, periodStart: Date): Promise<void> {
  const columns = ['id', 'workspace_id', 'run_id', 'job_id', 'rule_id', 'dataset', 'control_ref', 'question_match', 'title', 'source', 'result', 'payload', 'payload_sha256', 'collected_at', 'status', 'identity'];
  for (let start = 0; start < ITEMS; start += INSERT_BATCH) {
    const values: unknown[] = [];
    const rows: string[] = [];
    for (let i = start; i < Math.min(ITEMS, start + INSERT_BATCH); i++) {
      const p = payload(i);
      const row = [newId('ev'), workspaceId, runId, jobId, `rule-${i % 40}`, 'okta.users', `Control ${i % 25}`, 'MFA admin', `Check ${i}`, 'evidence-hub', i % 7 === 0 ? 'fail' : 'pass',
        JSON.stringify(p), canonicalSha256(p), new Date(periodStart.getTime() + i * 1000).toISOString(), 'delivered', `bench:${runId}:${i}`];
      rows.push(`(${row.map((_, k) => `$${values.length + k + 1}`).join(', ')})`);
      values.push(...row);
    }
    await db.query(`INSERT INTO evidence (${columns.join(', ')}) VALUES ${rows.join(', ')}`, values);
  }
}

/** A workspace with one snapshot (10 000 users as the collector stores them), one run that read it, and the items. */
async function seed(db: Db, blobs: BlobStore): Promise<void> {
  const periodStart = new Date(`${PERIOD.from}T00:00:00Z`);
  await db.query('INSERT INTO workspaces (id, name) VALUES ($1, $2)', [WORKSPACE, 'bench']);
  const records = async function* () {
    for (let i = 0; i < SNAPSHOT_RECORDS; i++) yield JSON.stringify({ id: `00u${i}`, login: `user${i}@example.com`, status: 'ACTIVE', mfa_enrolled: i % 9 !== 0, is_admin: i % 100 === 0 }) + '\n';
  };
  const blob = await blobs.putStream(records());
  const snapshotId = newId('snap');
  await db.query(
    `INSERT INTO snapshots (id, workspace_id, connection_id, dataset, sha256, bytes, record_count, collected_at, collection_key) VALUES ($1, $2, 'conn_bench', 'okta.users', $3, $4, $5, $6, $7)`,
    [snapshotId, WORKSPACE, blob.sha256, blob.bytes, SNAPSHOT_RECORDS, periodStart.toISOString(), `bench:${snapshotId}`],
  );
  const runId = newId('run');
  await db.query(
    `INSERT INTO runs (id, workspace_id, job_id, trigger, status, workflow_id, snapshot_ids, counts, started_at, ended_at) VALUES ($1, $2, 'job_bench', 'api', 'succeeded', $3, $4, '{}', now(), now())`,
    [runId, WORKSPACE, `run-${runId}`, [snapshotId]],
  );
  await insertEvidence(db, WORKSPACE, runId, 'job_bench', periodStart);
}

interface ActivityFigures {
  measured: Measured<null>;
  pkg: { items: number; files: number; bytes: number };
}

/** Runs the build in a fresh, lean process (bench/evidence-package-child.ts): only the database, stores and writer loaded. */
async function buildInLeanProcess(dataDir: string): Promise<ActivityFigures> {
  const db = await openDb({ databaseUrl: process.env.DATABASE_URL || null, dataDir });
  const id = newId('pkg');
  await new EvidencePackageStore(db).create({ id, workspaceId: WORKSPACE, from: new Date(`${PERIOD.from}T00:00:00.000Z`), to: new Date(`${PERIOD.to}T23:59:59.999Z`), filters: {}, workflowId: `bench-${id}`, requestedBy: null });
  await db.close();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./evidence-package-child.ts', import.meta.url)), dataDir, id], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.once('error', reject);
    child.once('exit', (code) => {
      const last = output.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`the package process exited with ${code}: ${output}`));
      resolve(JSON.parse(last) as ActivityFigures);
    });
  });
}

/** The whole hub: API, Temporal workflow, worker, blob store, download. */
async function buildThroughHub(dataDir: string, key: string) {
  const binary = await findOrBuildTemporalCli({ configuredPath: process.env.TEMPORAL_CLI_PATH || null });
  const temporal = await startDevServer({ binary, dbFile: null, port: await freePort(), uiPort: null, namespace: 'default' });
  const config = loadConfig({ PORT: '0', HUB_HOST: '127.0.0.1', HUB_DATA_DIR: dataDir, TEMPORAL_ADDRESS: temporal.address, LOG_LEVEL: 'warn', DATABASE_URL: process.env.DATABASE_URL ?? '' });
  const hub = await startHub(config, 'all', { logger: createLogger('warn') });
  const headers = { 'x-api-key': key, 'content-type': 'application/json' };
  try {
    // The hub settles (worker polling, first queries) before its baseline.
    await new Promise((r) => setTimeout(r, 2_000));
    const build = await measure(async () => {
      const res = await request(`${hub.url}/api/v1/evidence-packages`, { method: 'POST', headers, body: JSON.stringify(PERIOD) });
      const created = (await res.body.json()) as { id: string };
      if (res.statusCode !== 202) throw new Error(`POST answered ${res.statusCode}: ${JSON.stringify(created)}`);
      for (;;) {
        await new Promise((r) => setTimeout(r, 200));
        const status = await request(`${hub.url}/api/v1/evidence-packages/${created.id}`, { headers });
        const pkg = (await status.body.json()) as { id: string; status: string; item_count: number; file_count: number; bytes: number; sha256: string; error: string | null };
        if (pkg.status === 'failed') throw new Error(`the package failed: ${pkg.error}`);
        if (pkg.status === 'ready') return pkg;
      }
    });
    const pkg = build.result;
    const download = await measure(async () => {
      const res = await request(`${hub.url}/api/v1/evidence-packages/${pkg.id}/download`, { headers: { 'x-api-key': key } });
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of res.body) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
      return { bytes, sha256: hash.digest('hex') };
    });
    if (download.result.sha256 !== pkg.sha256 || download.result.bytes !== pkg.bytes) throw new Error('the download differs from the package');
    return { build, download, pkg: { items: pkg.item_count, files: pkg.file_count, bytes: pkg.bytes } };
  } finally {
    await hub.stop();
    await temporal.stop();
  }
}

export async function runEvidencePackageBench(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hub-bench-package-'));
  try {
    // Seeded and built once without the hub, with this process's own database handle.
    const db = await openDb({ databaseUrl: process.env.DATABASE_URL || null, dataDir });
    const blobs = await BlobStore.open(path.join(dataDir, 'blobs'));
    await migrate(db);
    const seedStarted = performance.now();
    await seed(db, blobs);
    const seedMs = performance.now() - seedStarted;
    const { key } = await new ApiKeyStore(db).create({ workspaceId: WORKSPACE, name: 'bench', scopes: ['admin'] });
    const kind = db.kind;
    // PGlite allows one handle per data dir: the child and then the hub open their own.
    await db.close();
    const alone = await buildInLeanProcess(dataDir);

    const whole = await buildThroughHub(dataDir, key);

    console.log(`\n## Evidence package: ${ITEMS.toLocaleString('en')} items (~1 KB payloads), 1 run, 1 snapshot of ${SNAPSHOT_RECORDS.toLocaleString('en')} records, on ${kind} (seeded in ${Math.round(seedMs)} ms)`);
    table([
      row('package writer alone, lean process (database + stores + writer)', alone.measured),
      row('whole hub: POST → ready', whole.build),
      row('whole hub: download (streamed)', whole.download),
    ]);
    const line = (what: string, m: Measured<unknown>, p: { items: number; files: number; bytes: number }) =>
      `evidence-package (${what}): ${p.items} items, ${p.files} files, ZIP ${(p.bytes / 1048576).toFixed(1)} MB in ${(m.ms / 1000).toFixed(1)} s ` +
      `(${Math.round(p.items / (m.ms / 1000))} items/s); peak RSS ${mb(m.peak.rss)} MB (target < ${TARGET_PEAK_MB} MB: ${mb(m.peak.rss) < TARGET_PEAK_MB ? 'met' : 'not met'}), ` +
      `${mb(m.peak.rss - m.baseline.rss)} MB over the ${mb(m.baseline.rss)} MB before the build`;
    console.log(line('writer alone, lean process', alone.measured, alone.pkg));
    console.log(line('whole hub', whole.build, whole.pkg));
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
