/**
 * One part of the hub alone in a process of its own, for the footprint benchmark's breakdown
 * of idle RSS (bench/footprint.ts): plain Node.js against the built dist/ (no tsx loader, so
 * that nothing but the part is measured). Prints one JSON line once the part is idle, then
 * waits to be killed.
 *
 *   node bench/footprint-part.mjs node                       Node.js itself (the baseline)
 *   node bench/footprint-part.mjs pglite DIR [SETTINGS_JSON] PGlite opened on DIR and migrated (settings over PGLITE_SETTINGS, null: PGlite's default)
 *   node bench/footprint-part.mjs worker ADDRESS [OPTIONS_JSON]  a Temporal worker polling, prebuilt bundle
 *   node bench/footprint-part.mjs worker-modules             only the modules of @temporalio/worker
 *   node bench/footprint-part.mjs aws                        the AWS SDK clients the connector uses
 *   node bench/footprint-part.mjs modules                    every module the hub loads at start (hub.js)
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const dist = new URL('../dist/', import.meta.url);
const [part, arg, json] = process.argv.slice(2);

function vmRssKb() {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]);
}

/** Waits until RSS moved less than 1 MB over the last 3 s (at most 30 s). */
async function idle() {
  const samples = [];
  const deadline = Date.now() + 30_000;
  for (;;) {
    samples.push(vmRssKb());
    const last = samples.slice(-7);
    if ((last.length === 7 && Math.max(...last) - Math.min(...last) < 1024) || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

let extra = {};
if (part === 'pglite') {
  const { openDb, PGLITE_SETTINGS } = await import(new URL('store/db.js', dist));
  const { migrate } = await import(new URL('store/migrate.js', dist));
  const started = performance.now();
  const db = await openDb({ databaseUrl: null, dataDir: arg, pglite: { ...PGLITE_SETTINGS, ...(json ? JSON.parse(json) : {}) } });
  process.once('SIGTERM', () => void db.close().then(() => process.exit(0)));
  extra.openMs = Math.round(performance.now() - started);
  await migrate(db);
  // A little of what the API does at idle: a read on a few tables.
  for (let i = 0; i < 50; i++) await db.query('SELECT count(*) FROM audit_log');
  const settings = await db.query("SELECT name, current_setting(name) AS value FROM unnest(ARRAY['shared_buffers', 'work_mem', 'temp_buffers', 'wal_buffers', 'maintenance_work_mem']) AS name");
  extra.settings = Object.fromEntries(settings.map((s) => [s.name, s.value]));
} else if (part === 'worker') {
  const { NativeConnection, Worker } = await import('@temporalio/worker');
  const connection = await NativeConnection.connect({ address: arg });
  const options = json ? JSON.parse(json) : {};
  const worker = await Worker.create({
    connection, namespace: 'default', taskQueue: `footprint-${process.pid}`, activities: {},
    workflowBundle: { codePath: new URL('workflow-bundle.js', dist).pathname }, ...options,
  });
  // The SDK stops the worker on SIGTERM; the process ends when it has.
  void worker.run().then(() => process.exit(0), () => process.exit(1));
} else if (part === 'worker-modules') {
  await import('@temporalio/worker');
} else if (part === 'aws') {
  await Promise.all(['@aws-sdk/client-cloudtrail', '@aws-sdk/client-iam', '@aws-sdk/client-s3-control', '@aws-sdk/client-sts', '@aws-sdk/credential-providers'].map((m) => import(m)));
} else if (part === 'modules') {
  await import(new URL('hub.js', dist));
} else if (part !== 'node') {
  console.error(`unknown part ${part}`);
  process.exit(2);
}
await idle();
const { heapUsed, heapTotal, external } = process.memoryUsage();
process.stdout.write(JSON.stringify({ part, rssKb: vmRssKb(), heapUsed, heapTotal, external, ...extra }) + '\n');
if (part !== 'pglite' && part !== 'worker') process.once('SIGTERM', () => process.exit(0));
setInterval(() => undefined, 60_000);
