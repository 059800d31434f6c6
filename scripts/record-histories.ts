/**
 * `npm run record-histories [-- --checkout <dir>] [--old-checkout <dir>] [scenario…]`: records
 * the workflow histories that test/temporal/replay.test.ts replays against the current workflow
 * code, one JSON file per history in test/fixtures/histories/<workflow>-<scenario>.json
 * (`handle.fetchHistory()` as proto3 JSON, the format of `temporal workflow show --output json`;
 * see test/helpers/history-json.ts).
 *
 * It starts a Temporal dev server (the pinned CLI, see temporal/cli-binary.ts), the Okta and
 * AUDIGYD simulators and two webhook receivers, and the real hub (`main.ts all`) as a child
 * process of the checkout whose workflow code is recorded: this tree (or `--checkout <dir>`)
 * on PGlite for the current histories; `--old-checkout <dir>`, on a throwaway PostgreSQL
 * server, for those of the code before the patched() steps of workflows/run.ts (2285478^):
 *
 *   git worktree add /tmp/hist-old 2285478^ && (cd /tmp/hist-old && npm ci)
 *   npm run record-histories -- --old-checkout /tmp/hist-old
 *   git worktree remove /tmp/hist-old
 *
 * Each hub has its own task queue, so a workflow runs only on the code it is recorded from.
 * Scenarios drive the hub through its API, wait for the workflow to close and write its
 * history. Existing files are never overwritten ("kept"): a history is a record of what a
 * released version did, and re-recording it with newer code would defeat the replay test.
 * Delete a file to record it again. test/fixtures/histories/README.md says what each covers.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { findOrBuildTemporalCli } from '../temporal/cli-binary.js';
import { freePort, startDevServer } from '../temporal/dev-server.js';
import { startAudigydSimulator, startOktaSimulator, type AudigydSimulator, type OktaSimulator } from '../test/simulators/index.js';
import { OKTA_ASSESSMENT } from '../test/helpers/fixtures.js';
import { WebhookReceiver } from '../test/helpers/webhook-receiver.js';
import { historyToJSON } from '../test/helpers/history-json.js';
import { createDatabase } from '../test/helpers/database.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const HISTORIES_DIR = path.join(root, 'test/fixtures/histories');
const PUSH = /\/evidence\/push$/;
/** The recording hubs' delivery retries (HUB_DELIVERY_*): few and quick, so that exhausted retries come soon. */
const DELIVERY_RETRY = { initialIntervalMs: 100, maximumIntervalMs: 200, maximumAttempts: 3 };
const DELIVERY_ATTEMPTS = DELIVERY_RETRY.maximumAttempts;
/** The runs' mapping: one item, for the one question of OKTA_ASSESSMENT it matches. */
const RULES = [{ id: 'users', dataset: 'okta.users', control_ref: 'Access Control', question_match: 'MFA admin', title: 'Okta users', mode: 'info', payload: { users: { count: '$' } } }];

type Code = 'current' | 'pre-patch';

interface Hub {
  code: Code;
  url: string;
  call: (method: string, urlPath: string, json?: unknown) => Promise<{ status: number; body: any; text: string }>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API JSON
  taskQueue: string;
  /** Writes with the checkout's own store code, for the pre-patch checkout whose API cannot (see Seeder). */
  seed: Seeder | null;
  /** The end of what the hub process wrote (shown when a scenario fails). */
  output(): string;
  /** The connection, destination and mappings the scenarios share, made once per hub. */
  base?: { okta: string; badOkta: string; destination: string; mapping: string };
  stop(): Promise<void>;
}

interface Ctx {
  hub: Hub;
  client: Client;
  okta: OktaSimulator;
  audigyd: AudigydSimulator;
  receivers: { ok: WebhookReceiver; flaky: WebhookReceiver };
}

interface Scenario {
  /** `<workflow>-<scenario>`: the file name without .json. */
  name: string;
  code: Code;
  /** Starts the workflow through the hub's API and returns its workflow id. */
  start(ctx: Ctx): Promise<string>;
}

function expectStatus(res: { status: number; text: string }, status: number, what: string): void {
  if (res.status !== status) throw new Error(`${what}: ${res.status} ${res.text}`);
}

async function base(ctx: Ctx): Promise<NonNullable<Hub['base']>> {
  const { hub, okta, audigyd } = ctx;
  if (hub.base) return hub.base;
  const connection = async (name: string, token: string) => {
    const res = await hub.call('POST', '/api/v1/connections', { name, type: 'okta', config: { base_url: okta.url, auth_method: 'api_token', enrich: false }, secrets: { api_token: token } });
    expectStatus(res, 201, 'connection');
    return res.body.id as string;
  };
  const destination = await hub.call('POST', '/api/v1/destinations', { name: 'AUDIGYD', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } });
  expectStatus(destination, 201, 'destination');
  let mapping: string;
  if (hub.seed) {
    mapping = await hub.seed.mapping('histories', RULES);
  } else {
    const res = await hub.call('POST', '/api/v1/mappings', { name: 'histories', rules: RULES });
    expectStatus(res, 201, 'mapping');
    mapping = res.body.id;
  }
  // The second connection's token is wrong: Okta answers 401, which is not retried.
  hub.base = { okta: await connection('okta', okta.apiToken), badOkta: await connection('okta (wrong token)', 'not-the-token'), destination: destination.body.id, mapping };
  return hub.base;
}

/** A job over one of the base connections, run now; its run's workflow id. */
async function triggerRun(ctx: Ctx, connection: 'okta' | 'badOkta'): Promise<string> {
  const b = await base(ctx);
  const fields = { name: `histories ${connection} ${Date.now()}`, connection_id: b[connection], datasets: ['okta.users'], mapping_id: b.mapping, destination_id: b.destination, target: { assessment_id: OKTA_ASSESSMENT.id } };
  if (ctx.hub.seed) {
    // The pre-patch API cannot create jobs nor runs (see Seeder): the job is written with the
    // checkout's store code and its run started as the job's Temporal Schedule starts it.
    const jobId = await ctx.hub.seed.job(fields);
    const workflowId = `run-scheduled-${jobId}`;
    await ctx.client.workflow.start('runJobWorkflow', {
      taskQueue: ctx.hub.taskQueue, workflowId,
      args: [{ workspaceId: ctx.hub.seed.workspaceId, jobId, trigger: 'schedule', deliveryRetry: DELIVERY_RETRY }],
    });
    return workflowId;
  }
  const job = await ctx.hub.call('POST', '/api/v1/jobs', fields);
  expectStatus(job, 201, 'job');
  const run = await ctx.hub.call('POST', `/api/v1/jobs/${job.body.id}/runs`);
  expectStatus(run, 202, 'run');
  return `run-${run.body.id}`;
}

async function push(ctx: Ctx, title: string): Promise<string> {
  const b = await base(ctx);
  const res = await ctx.hub.call('POST', '/api/v1/evidence/push', {
    destination_id: b.destination, target: { assessment_id: OKTA_ASSESSMENT.id }, control_ref: 'Access Control', question_match: 'MFA admin',
    title, source: 'record-histories', result: 'pass', payload: { admins: 4 }, collected_at: new Date().toISOString(),
  });
  expectStatus(res, 202, 'push');
  return `deliver-${res.body.id}`;
}

/** Subscribes `receiver` to test events only and sends one; the dispatcher starts the workflow. */
async function webhookTest(ctx: Ctx, receiver: WebhookReceiver): Promise<string> {
  const before = new Set(await webhookWorkflows(ctx));
  const hook = await ctx.hub.call('POST', '/api/v1/webhooks', { url: receiver.url, events: ['webhook.test'] });
  expectStatus(hook, 201, 'webhook');
  expectStatus(await ctx.hub.call('POST', `/api/v1/webhooks/${hook.body.id}/test`), 202, 'webhook test');
  // The dispatcher picks the delivery from the outbox: find the workflow it started.
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const fresh = (await webhookWorkflows(ctx)).filter((id) => !before.has(id));
    if (fresh.length === 1) return fresh[0]!;
    if (fresh.length > 1) throw new Error(`more than one webhook workflow started: ${fresh.join(', ')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('no webhook delivery workflow started within 60 s');
}

async function webhookWorkflows(ctx: Ctx): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of ctx.client.workflow.list({ query: `WorkflowType = 'deliverWebhooksWorkflow'` })) ids.push(wf.workflowId);
  return ids;
}

/** A housekeeping pass: the hub's worker sets up one Temporal Schedule per task, which fires at once. */
async function housekeepingPass(ctx: Ctx, task: string): Promise<string> {
  const prefix = `housekeeping-${ctx.hub.taskQueue}-${task}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    for await (const wf of ctx.client.workflow.list({ query: `WorkflowType = 'housekeepingWorkflow'` })) {
      if (wf.workflowId.startsWith(prefix)) return wf.workflowId;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no housekeeping workflow ${prefix}… started within 60 s`);
}

/** A run of a job, then an exception on one of its checks that expires in seconds (or is revoked at once). */
async function exceptionLife(ctx: Ctx, end: 'expired' | 'revoked'): Promise<string> {
  const runId = (await triggerRun(ctx, 'okta')).slice('run-'.length);
  let jobId: string | null = null;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !jobId) {
    const run = await ctx.hub.call('GET', `/api/v1/runs/${runId}`);
    if (!['queued', 'running'].includes(run.body.status)) jobId = run.body.job_id;
    else await new Promise((r) => setTimeout(r, 250));
  }
  if (!jobId) throw new Error(`run ${runId} did not end within 60 s`);
  const checks = await ctx.hub.call('GET', `/api/v1/checks?job_id=${jobId}`);
  expectStatus(checks, 200, 'checks');
  const expiresAt = new Date(Date.now() + (end === 'expired' ? 3_000 : 86_400_000)).toISOString();
  const created = await ctx.hub.call('POST', '/api/v1/exceptions', { check_id: checks.body.data[0].id, reason: 'recorded history', owner: 'record-histories', expires_at: expiresAt });
  expectStatus(created, 201, 'exception');
  if (end === 'revoked') expectStatus(await ctx.hub.call('DELETE', `/api/v1/exceptions/${created.body.id}`), 204, 'revoke');
  return `exception-${created.body.id}`;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'diagnosticsWorkflow-completed', code: 'current',
    async start({ hub }) {
      const res = await hub.call('POST', '/api/v1/diagnostics');
      expectStatus(res, 202, 'diagnostic');
      return res.body.workflow_id;
    },
  },
  {
    name: 'collectWorkflow-succeeded', code: 'current',
    async start(ctx) {
      const res = await ctx.hub.call('POST', `/api/v1/connections/${(await base(ctx)).okta}/collect`, { datasets: ['okta.users', 'okta.password_policies'] });
      // 200 when it ended within the request's wait, else 202.
      if (res.status !== 200) expectStatus(res, 202, 'collect');
      return `collect-${res.body.id}`;
    },
  },
  {
    name: 'collectWorkflow-failed', code: 'current',
    async start(ctx) {
      const res = await ctx.hub.call('POST', `/api/v1/connections/${(await base(ctx)).badOkta}/collect`, { datasets: ['okta.users'] });
      // 200 when it ended within the request's wait, else 202.
      if (res.status !== 200) expectStatus(res, 202, 'collect');
      return `collect-${res.body.id}`;
    },
  },
  // export-run-trace taken (marker), delivered, finished.
  { name: 'runJobWorkflow-succeeded', code: 'current', start: (ctx) => triggerRun(ctx, 'okta') },
  // connection-failed-event taken (marker) and recordConnectionFailed, then finishRun and export-run-trace.
  { name: 'runJobWorkflow-collection-failed', code: 'current', start: (ctx) => triggerRun(ctx, 'badOkta') },
  // uncollected-datasets-as-errors taken (marker): the failed dataset's rules are evaluated as errors, then finishRun.
  { name: 'runJobWorkflow-uncollected-datasets', code: 'current', start: (ctx) => triggerRun(ctx, 'badOkta') },
  {
    // Every delivery attempt answered 503: the batch's retries run out and its items are marked failed.
    name: 'runJobWorkflow-delivery-failed', code: 'current',
    async start(ctx) {
      ctx.audigyd.faults.inject({ kind: 'status', status: 503 }, DELIVERY_ATTEMPTS, { path: PUSH });
      return triggerRun(ctx, 'okta');
    },
  },
  // delivery-in-large-batches taken (marker): one delivery activity for the run's items.
  { name: 'runJobWorkflow-large-batches-delivered', code: 'current', start: (ctx) => triggerRun(ctx, 'okta') },
  {
    // The same when every attempt answers 503: the batch's items are marked failed in one activity.
    name: 'runJobWorkflow-large-batches-delivery-failed', code: 'current',
    async start(ctx) {
      ctx.audigyd.faults.inject({ kind: 'status', status: 503 }, DELIVERY_ATTEMPTS, { path: PUSH });
      return triggerRun(ctx, 'okta');
    },
  },
  // The same runs on the code before commit 2285478 (no patch markers).
  { name: 'runJobWorkflow-pre-patch-succeeded', code: 'pre-patch', start: (ctx) => triggerRun(ctx, 'okta') },
  { name: 'runJobWorkflow-pre-patch-collection-failed', code: 'pre-patch', start: (ctx) => triggerRun(ctx, 'badOkta') },
  { name: 'deliverEvidenceWorkflow-delivered', code: 'current', start: (ctx) => push(ctx, 'Pushed evidence (delivered)') },
  {
    name: 'deliverEvidenceWorkflow-retries-exhausted', code: 'current',
    async start(ctx) {
      ctx.audigyd.faults.inject({ kind: 'status', status: 503 }, DELIVERY_ATTEMPTS, { path: PUSH });
      return push(ctx, 'Pushed evidence (destination down)');
    },
  },
  { name: 'deliverWebhooksWorkflow-delivered', code: 'current', start: (ctx) => webhookTest(ctx, ctx.receivers.ok) },
  {
    // The receiver answers 503 once: the workflow sleeps (a durable timer) until the retry is due, then delivers.
    name: 'deliverWebhooksWorkflow-retried', code: 'current',
    async start(ctx) {
      let answered = 0;
      ctx.receivers.flaky.respond = () => (answered++ === 0 ? { status: 503, body: 'down for a moment' } : { status: 204 });
      return webhookTest(ctx, ctx.receivers.flaky);
    },
  },
  { name: 'housekeepingWorkflow-audit-retention', code: 'current', start: (ctx) => housekeepingPass(ctx, 'audit-retention') },
  { name: 'housekeepingWorkflow-evidence-package-expiry', code: 'current', start: (ctx) => housekeepingPass(ctx, 'evidence-package-expiry') },
  { name: 'housekeepingWorkflow-stale-checks', code: 'current', start: (ctx) => housekeepingPass(ctx, 'stale-checks') },
  { name: 'exceptionWorkflow-expired', code: 'current', start: (ctx) => exceptionLife(ctx, 'expired') },
  { name: 'exceptionWorkflow-revoked', code: 'current', start: (ctx) => exceptionLife(ctx, 'revoked') },
  {
    name: 'buildEvidencePackageWorkflow-ready', code: 'current',
    async start({ hub }) {
      const res = await hub.call('POST', '/api/v1/evidence-packages', { from: '2000-01-01', to: '2100-12-31' });
      expectStatus(res, 202, 'evidence package');
      return `evidence-package-${res.body.id}`;
    },
  },
];

interface Seeder {
  workspaceId: string;
  mapping(name: string, rules: unknown[]): Promise<string>;
  job(fields: { name: string; connection_id: string; datasets: string[]; mapping_id: string; destination_id: string; target: Record<string, unknown> }): Promise<string>;
  close(): Promise<void>;
}

/**
 * The checkout's own store code over its hub's PostgreSQL database. At 2285478^ the API's
 * mapping, job and run routes answer 500 (they were not given the database for their audit
 * entries; fixed in 2285478), so the pre-patch runs' mapping and jobs are written here and
 * their runs started as a Temporal Schedule starts them (trigger "schedule", no run id).
 */
async function openSeeder(checkout: string, databaseUrl: string): Promise<Seeder> {
  const load = async <T>(file: string) => (await import(pathToFileURL(path.join(checkout, file)).href)) as T;
  const { openDb } = await load<{ openDb(o: { databaseUrl: string | null; dataDir: string }): Promise<{ close(): Promise<void> }> }>('store/db.ts');
  const { DEFAULT_WORKSPACE_ID } = await load<{ DEFAULT_WORKSPACE_ID: string }>('store/workspaces.ts');
  const { MappingStore } = await load<{ MappingStore: new (db: unknown) => { create(m: { id: string; workspaceId: string; name: string; rules: unknown[]; createdBy: string }): Promise<{ set: { id: string } }> } }>('store/mappings.ts');
  const { JobStore } = await load<{ JobStore: new (db: unknown) => { insert(id: string, workspaceId: string, f: Record<string, unknown>): Promise<{ id: string }> } }>('store/jobs.ts');
  const db = await openDb({ databaseUrl, dataDir: os.tmpdir() });
  const id = (prefix: string) => `${prefix}_histories${randomBytes(6).toString('hex')}`;
  return {
    workspaceId: DEFAULT_WORKSPACE_ID,
    async mapping(name, rules) {
      return (await new MappingStore(db).create({ id: id('map'), workspaceId: DEFAULT_WORKSPACE_ID, name, rules, createdBy: 'record-histories' })).set.id;
    },
    async job(fields) {
      return (await new JobStore(db).insert(id('job'), DEFAULT_WORKSPACE_ID, { ...fields, mapping_version: null, schedule: null, enabled: true })).id;
    },
    close: () => db.close(),
  };
}

/** A throwaway PostgreSQL server (scripts/postgres.sh) with a fresh database, for the pre-patch hub. */
async function startPostgres(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'record-histories-pg-'));
  await chmod(dir, 0o777); // the server runs as 'postgres' when this runs as root
  const pgData = path.join(dir, 'data');
  const { stdout } = await run('bash', [path.join(root, 'scripts/postgres.sh'), 'start', pgData, String(await freePort())]);
  const serverUrl = stdout.trim();
  const url = await createDatabase(serverUrl, `histories_${randomBytes(6).toString('hex')}`);
  return {
    url,
    async stop() {
      await run('bash', [path.join(root, 'scripts/postgres.sh'), 'stop', pgData]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The hub of one checkout as a child process (`main.ts all` on PGlite), on its own task queue. */
async function startHubProcess(checkout: string, code: Code, temporalAddress: string, databaseUrl: string | null): Promise<Hub> {
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `record-histories-${code}-`));
  const adminKey = 'ehk_' + randomBytes(32).toString('base64url').slice(0, 43);
  const taskQueue = `record-histories-${code}`;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'main.ts', 'all'], {
    cwd: checkout,
    env: {
      ...process.env,
      PORT: String(port), HUB_HOST: '127.0.0.1', HUB_DATA_DIR: dataDir, DATABASE_URL: databaseUrl ?? '', HUB_MASTER_KEY: '',
      TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_NAMESPACE: 'default', HUB_TASK_QUEUE: taskQueue,
      HUB_ADMIN_KEY: adminKey, HUB_ALLOW_PRIVATE_NETWORKS: 'true', LOG_LEVEL: 'warn',
      HUB_DELIVERY_RETRY_INITIAL_MS: String(DELIVERY_RETRY.initialIntervalMs), HUB_DELIVERY_RETRY_MAX_MS: String(DELIVERY_RETRY.maximumIntervalMs), HUB_DELIVERY_MAX_ATTEMPTS: String(DELIVERY_RETRY.maximumAttempts),
      HUB_WEBHOOK_RETRY_SCHEDULE: '1s,1s,1s', HUB_WEBHOOK_RETRY_JITTER_PERCENT: '0', HUB_WEBHOOK_DISPATCH_INTERVAL: '50ms',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => { output = (output + c.toString()).slice(-20_000); });
  child.stderr!.on('data', (c: Buffer) => { output = (output + c.toString()).slice(-20_000); });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the ${code} hub (${checkout}) exited with ${child.exitCode}:\n${output}`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the ${code} hub (${checkout}) did not answer within 180 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const call: Hub['call'] = async (method, urlPath, json) => {
    const res = await fetch(url + urlPath, {
      method, headers: { 'x-api-key': adminKey, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    const text = await res.text();
    let body: unknown = text;
    try { body = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    return { status: res.status, body, text };
  };
  const seed = databaseUrl ? await openSeeder(checkout, databaseUrl) : null;
  const stopHub = stop;
  return { code, url, call, taskQueue, seed, output: () => output.slice(-4000), async stop() { await seed?.close(); await stopHub(); } };
}

/** Waits for the workflow to close (completed, or failed as the scenario means it to) and returns its history as JSON. */
async function closedHistory(client: Client, workflowId: string): Promise<string> {
  const handle = client.workflow.getHandle(workflowId);
  await Promise.race([
    handle.result().catch(() => undefined),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${workflowId} did not close within 120 s`)), 120_000).unref()),
  ]);
  const { status } = await handle.describe();
  if (status.name === 'RUNNING') throw new Error(`${workflowId} is still running`);
  return historyToJSON(await handle.fetchHistory());
}

function parseArgs(argv: string[]): { checkout: string; oldCheckout: string | null; only: string[] } {
  let checkout = root;
  let oldCheckout: string | null = null;
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--checkout') checkout = path.resolve(argv[++i] ?? '');
    else if (arg.startsWith('--checkout=')) checkout = path.resolve(arg.slice('--checkout='.length));
    else if (arg === '--old-checkout') oldCheckout = path.resolve(argv[++i] ?? '');
    else if (arg.startsWith('--old-checkout=')) oldCheckout = path.resolve(arg.slice('--old-checkout='.length));
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: npm run record-histories -- [--checkout <dir>] [--old-checkout <checkout of 2285478^>] [scenario…]\n' +
        '  --checkout      the checkout whose workflow code records the current histories (default: this one)\n' +
        '  --old-checkout  a checkout of 2285478^ (with npm ci done), for the pre-patch histories\n');
      process.exit(0);
    } else only.push(arg);
  }
  for (const dir of [checkout, oldCheckout]) {
    if (dir && !existsSync(path.join(dir, 'workflows/run.ts'))) throw new Error(`${dir} is not a checkout of this project`);
    if (dir && !existsSync(path.join(dir, 'node_modules/@temporalio/worker'))) throw new Error(`${dir} has no node_modules: run npm ci there first`);
  }
  return { checkout, oldCheckout, only };
}

async function main(): Promise<void> {
  const { checkout: currentCheckout, oldCheckout, only } = parseArgs(process.argv.slice(2));
  await mkdir(HISTORIES_DIR, { recursive: true });
  const unknown = only.filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length) throw new Error(`no such scenario: ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  const wanted = SCENARIOS.filter((s) => !only.length || only.includes(s.name));
  const todo: Scenario[] = [];
  for (const s of wanted) {
    if (existsSync(path.join(HISTORIES_DIR, `${s.name}.json`))) console.log(`kept      ${s.name}.json`);
    else if (s.code === 'pre-patch' && !oldCheckout) console.log(`skipped   ${s.name}.json (the code before 2285478: give --old-checkout <dir>)`);
    else todo.push(s);
  }
  if (!todo.length) return;

  const binary = await findOrBuildTemporalCli({ configuredPath: process.env.TEMPORAL_CLI_PATH || null, progress: (line) => console.log(line) });
  const server = await startDevServer({ binary, dbFile: null, port: await freePort(), uiPort: null, namespace: 'default' });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const okta = await startOktaSimulator({ population: { total: 20 }, rateLimit: false });
  const audigyd = await startAudigydSimulator({ assessments: [OKTA_ASSESSMENT], rateLimit: false, uploadRateLimit: false });
  const receivers = { ok: await WebhookReceiver.start(), flaky: await WebhookReceiver.start() };
  const hubs: Hub[] = [];
  let postgres: Awaited<ReturnType<typeof startPostgres>> | null = null;
  let failed = 0;
  try {
    for (const code of ['current', 'pre-patch'] as const) {
      const scenarios = todo.filter((s) => s.code === code);
      if (!scenarios.length) continue;
      const checkout = code === 'current' ? currentCheckout : oldCheckout!;
      let databaseUrl: string | null = null;
      if (code === 'pre-patch') {
        postgres = await startPostgres();
        databaseUrl = postgres.url;
      }
      console.log(`starting the hub of ${checkout} (${code} workflow code${databaseUrl ? ', PostgreSQL' : ', PGlite'})…`);
      const hub = await startHubProcess(checkout, code, server.address, databaseUrl);
      hubs.push(hub);
      for (const s of scenarios) {
        try {
          const workflowId = await s.start({ hub, client, okta, audigyd, receivers });
          const json = await closedHistory(client, workflowId);
          // `wx`: never overwrites a history, even one written meanwhile.
          await writeFile(path.join(HISTORIES_DIR, `${s.name}.json`), json + '\n', { flag: 'wx' });
          console.log(`recorded  ${s.name}.json (${workflowId})`);
        } catch (err) {
          failed++;
          console.error(`FAILED    ${s.name}: ${(err as Error).message}\n--- the hub's last output ---\n${hub.output()}`);
        } finally {
          audigyd.faults.clear();
        }
      }
      await hub.stop();
      hubs.pop();
    }
  } finally {
    for (const hub of hubs) await hub.stop().catch(() => undefined);
    await postgres?.stop();
    await receivers.ok.down();
    await receivers.flaky.down();
    await okta.close();
    await audigyd.close();
    await connection.close();
    await server.stop();
  }
  if (failed) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : String(err));
  process.exit(1);
});
