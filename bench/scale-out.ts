/**
 * Scale-out on one machine (`npm run bench -- scale-out`, not part of `npm test`): one
 * PostgreSQL (scripts/postgres.sh, as the tests start it), one Temporal dev server, two worker
 * processes and two API processes of the built hub (`node dist/main.js worker|api`), the
 * AUDIGYD simulator in a process of its own. Runs are started through both APIs; one worker is
 * SIGKILLed mid-delivery; then one key hammers both APIs. Prints: every run completed once
 * (runs table, ledger, AUDIGYD's receipts), the activities the killed worker had and where
 * they were retried, and the combined accepted request rate against the configured limit.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { Agent, request } from 'undici';
import { openPostgres } from '../store/db.js';
import { findOrBuildTemporalCli } from '../temporal/cli-binary.js';
import { freePort, startDevServer } from '../temporal/dev-server.js';
import { startJamfSimulator } from '../test/simulators/index.js';
import { benchQuestions } from './audigyd-process.js';
import { startChildService, table } from './util.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const RUNS = 8;
const ITEMS_PER_RUN = 100;
const PUSH_DELAY_MS = 300;
const RATE_LIMIT = 600;
const HAMMER_SECONDS = 12;
const HAMMER_CONNECTIONS = 16;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface HubProcess { name: string; child: ChildProcess; output: () => string; url?: string }

function startProcess(name: string, role: 'api' | 'worker', env: Record<string, string>, entry: string[]): Promise<HubProcess> {
  const child = spawn(process.execPath, [...entry, role], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (c: Buffer) => { output = (output + c.toString()).slice(-200_000); };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 120_000;
    const check = setInterval(() => {
      const ready = role === 'worker' ? output.includes('worker polling') : output.includes('API listening');
      if (ready) { clearInterval(check); resolve({ name, child, output: () => output, url: env.PORT ? `http://127.0.0.1:${env.PORT}` : undefined }); }
      else if (child.exitCode !== null || Date.now() > deadline) { clearInterval(check); reject(new Error(`${name} did not start: ${output.slice(-2000)}`)); }
    }, 100);
  });
}

function kill(p: HubProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => p.child.once('exit', () => resolve()));
  p.child.kill(signal);
  return exited;
}

export async function runScaleOutBench(): Promise<void> {
  // The built hub (npm run build skips what is up to date).
  let entry = ['dist/main.js'];
  try {
    await run(process.execPath, [path.join(root, 'scripts/build.mjs')], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    if (!existsSync(path.join(root, 'dist/main.js'))) throw err;
    console.warn(`npm run build failed; using the last build in dist/: ${(err as { stderr?: string }).stderr?.slice(-500) ?? ''}`);
  }
  if (!existsSync(path.join(root, 'dist/main.js'))) entry = ['--import', 'tsx', 'main.ts'];

  const scratch = await mkdtemp(path.join(os.tmpdir(), 'hub-bench-scale-'));
  await chmod(scratch, 0o777); // the server runs as 'postgres' when this runs as root
  const pgData = path.join(scratch, 'pg');
  const { stdout } = await run('bash', [path.join(root, 'scripts/postgres.sh'), 'start', pgData, String(await freePort())]);
  const databaseUrl = stdout.trim();
  const binary = await findOrBuildTemporalCli({ configuredPath: process.env.TEMPORAL_CLI_PATH || null });
  const temporal = await startDevServer({ binary, dbFile: null, port: await freePort(), uiPort: null, namespace: 'default' });
  const { info: audigyd, stop: stopAudigyd } = await startChildService<{ url: string; apiKey: string; receiptsUrl: string }>('scale-out-audigyd.ts', [String(ITEMS_PER_RUN), String(PUSH_DELAY_MS)]);
  const jamf = await startJamfSimulator({ fleet: { total: 200, unencrypted: 5 } });
  const adminKey = `ehk_${randomBytes(24).toString('hex')}`;
  const common = {
    DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporal.address, HUB_MASTER_KEY: randomBytes(32).toString('base64'), HUB_ADMIN_KEY: adminKey,
    HUB_ALLOW_PRIVATE_NETWORKS: 'true', HUB_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT), LOG_LEVEL: 'info', HUB_HOST: '127.0.0.1',
  };
  const processes: HubProcess[] = [];
  const dispatcher = new Agent({ connections: HAMMER_CONNECTIONS * 2 });
  try {
    // The first process applies the migrations; the others start together.
    processes.push(await startProcess('worker 1', 'worker', { ...common, HUB_DATA_DIR: path.join(scratch, 'w1') }, entry));
    processes.push(...await Promise.all([
      startProcess('worker 2', 'worker', { ...common, HUB_DATA_DIR: path.join(scratch, 'w2') }, entry),
      startProcess('api 1', 'api', { ...common, HUB_DATA_DIR: path.join(scratch, 'a1'), PORT: String(await freePort()) }, entry),
      startProcess('api 2', 'api', { ...common, HUB_DATA_DIR: path.join(scratch, 'a2'), PORT: String(await freePort()) }, entry),
    ]));
    const [worker1, worker2, api1, api2] = processes as [HubProcess, HubProcess, HubProcess, HubProcess];
    const call = async (api: HubProcess, method: string, url: string, body?: unknown, key = adminKey): Promise<Json> => {
      const res = await request(api.url + url, { method: method as 'GET', dispatcher, headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const json = (await res.body.json().catch(() => null)) as Json;
      if (res.statusCode >= 400) throw new Error(`${method} ${url}: ${res.statusCode} ${JSON.stringify(json)}`);
      return json;
    };

    // One job whose runs each deliver ITEMS_PER_RUN items; runs started through both APIs.
    const destination = await call(api1, 'POST', '/api/v1/destinations', { name: 'AUDIGYD', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } });
    const connection = await call(api2, 'POST', '/api/v1/connections', { name: 'jamf', type: 'jamf', config: { base_url: jamf.url, client_id: jamf.clientId, page_size: 200 }, secrets: { client_secret: jamf.clientSecret } });
    const rules = benchQuestions(ITEMS_PER_RUN).map((_, i) => ({ id: `scale-${i}`, dataset: 'jamf.computers', control_ref: 'Bench', question_match: `c${String(i).padStart(4, '0')}`, title: `Scale item ${i}`, mode: 'info', payload: { computers: { count: '$' } } }));
    const mapping = await call(api1, 'POST', '/api/v1/mappings', { name: 'scale-out', rules });
    const job = await call(api2, 'POST', '/api/v1/jobs', { name: 'scale-out', connection_id: connection.id, datasets: ['jamf.computers'], mapping_id: mapping.id, destination_id: destination.id, target: { assessment_id: 'asm_bench' } });
    const started = performance.now();
    const runs = await Promise.all(Array.from({ length: RUNS }, (_, i) => call(i % 2 ? api2 : api1, 'POST', `/api/v1/jobs/${job.id}/runs`)));

    // SIGKILL worker 1 once every run is delivering (its deliver step started) and items are
    // on their way: the delivery activities heartbeat, so theirs are retried within 10 s.
    const db = await openPostgres(databaseUrl);
    let killedAfter = 0;
    try {
      for (;;) {
        const [{ delivering, delivered }] = (await db.query<{ delivering: number; delivered: number }>(
          `SELECT (SELECT count(*)::int FROM run_steps s JOIN runs r ON r.id = s.run_id WHERE r.job_id = $1 AND s.name = 'deliver') AS delivering,
                  (SELECT count(*)::int FROM evidence WHERE job_id = $1 AND status = 'delivered') AS delivered`, [job.id])) as [{ delivering: number; delivered: number }];
        if (delivering === RUNS && delivered > 0) { killedAfter = delivered; break; }
        if (performance.now() - started > 120_000) throw new Error('the runs did not all start delivering within 2 minutes');
        await new Promise((r) => setTimeout(r, 20));
      }
      await kill(worker1, 'SIGKILL');
      const killedAt = performance.now();

      // Every run to its end, polled through both APIs.
      const ended: Json[] = [];
      for (const [i, r] of runs.entries()) {
        for (;;) {
          const current = await call(i % 2 ? api1 : api2, 'GET', `/api/v1/runs/${r.id}`);
          if (!['queued', 'running'].includes(current.status)) { ended.push(current); break; }
          if (performance.now() - started > 180_000) throw new Error(`run ${r.id} did not end within 3 minutes: ${JSON.stringify({ status: current.status, counts: current.counts, steps: current.steps })}`);
          await new Promise((res) => setTimeout(res, 250));
        }
      }
      const allEndedMs = performance.now() - started;

      // Exactly once: the runs table, the ledger, AUDIGYD's receipts.
      const runRows = await db.query<{ id: string; status: string; workflow_id: string }>('SELECT id, status, workflow_id FROM runs WHERE job_id = $1', [job.id]);
      const ledger = await db.query<{ run_id: string; status: string; n: number; retried: number }>(
        `SELECT run_id, status, count(*)::int AS n, count(*) FILTER (WHERE attempts > 1)::int AS retried FROM evidence WHERE job_id = $1 GROUP BY run_id, status`, [job.id]);
      const { body } = await request(`${audigyd.receiptsUrl}/`);
      const receipts = (await body.json()) as { pushes: number; evidence: { id: string; title: string; source: string; collected_at: string }[] };
      const identities = new Map<string, number>();
      for (const e of receipts.evidence) identities.set(`${e.title}|${e.source}|${e.collected_at}`, (identities.get(`${e.title}|${e.source}|${e.collected_at}`) ?? 0) + 1);
      const duplicates = [...identities.values()].filter((n) => n > 1).length;

      // Where each activity ran: worker identities in the Temporal histories (pid@host).
      const connectionT = await Connection.connect({ address: temporal.address });
      const client = new Client({ connection: connectionT, namespace: 'default' });
      const pid2 = `${worker2.child.pid}@`;
      const retriedOnOther: { run: string; activity: string; attempt: number; failure: string }[] = [];
      let executions = 0;
      try {
        for (const r of runRows) {
          const list = client.workflow.list({ query: `WorkflowId = '${r.workflow_id}'` });
          for await (const _ of list) executions++;
          const history = await client.workflow.getHandle(r.workflow_id).fetchHistory();
          const scheduled = new Map<string, string>();
          for (const e of history.events ?? []) {
            if (e.activityTaskScheduledEventAttributes) scheduled.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
            const s = e.activityTaskStartedEventAttributes;
            if (s && (s.attempt ?? 1) > 1 && s.identity?.startsWith(pid2)) {
              retriedOnOther.push({ run: r.id, activity: scheduled.get(String(s.scheduledEventId)) ?? '?', attempt: s.attempt ?? 1, failure: s.lastFailure?.message ?? '' });
            }
          }
        }
      } finally {
        await connectionT.close();
      }

      console.log(`\n## Scale-out: 2 API + 2 worker processes (${entry.join(' ')}), one PostgreSQL, one Temporal dev server`);
      console.log(`${RUNS} runs × ${ITEMS_PER_RUN} items started through both APIs; worker 1 (pid ${worker1.child.pid}) SIGKILLed with every run delivering, after ${killedAfter} of ${RUNS * ITEMS_PER_RUN} items were delivered, ${Math.round(killedAt - started)} ms in; all runs ended ${Math.round(allEndedMs)} ms after the first start`);
      table(ended.map((r) => ({ run: r.id, status: r.status, evidence: r.counts.evidence, delivered: r.counts.delivered, failed: r.counts.failed, 'begun more than once (attempts > 1)': r.items.filter((i: Json) => i.attempts > 1).length })));
      const byStatus = Object.fromEntries(['succeeded', 'partial', 'failed', 'cancelled'].map((s) => [s, runRows.filter((r) => r.status === s).length]));
      const delivered = ledger.filter((l) => l.status === 'delivered').reduce((n, l) => n + l.n, 0);
      console.log(`runs table: ${runRows.length} rows for ${RUNS} runs started (${JSON.stringify(byStatus)}); Temporal executions of their workflow ids: ${executions}`);
      console.log(`ledger: ${delivered} of ${RUNS * ITEMS_PER_RUN} items delivered, ${ledger.reduce((n, l) => n + l.retried, 0)} begun more than once (a retried batch counts an attempt for each item still pending, sent or not)`);
      console.log(`AUDIGYD: ${receipts.evidence.length} items stored from ${receipts.pushes} pushes (${receipts.pushes - receipts.evidence.length} re-sent pushes reconciled by title + source + collected_at), identities stored more than once: ${duplicates}`);
      console.log(`activities of the killed worker retried on worker 2 (pid ${worker2.child.pid}): ${retriedOnOther.length}`);
      if (retriedOnOther.length) table(retriedOnOther.map((r) => ({ run: r.run, activity: r.activity, attempt: r.attempt, 'previous attempt': r.failure.slice(0, 60) })));
      const once = runRows.length === RUNS && byStatus.succeeded === RUNS && executions === RUNS && delivered === RUNS * ITEMS_PER_RUN && receipts.evidence.length === RUNS * ITEMS_PER_RUN && duplicates === 0;
      console.log(`scale-out: every run completed exactly once: ${once ? 'yes' : 'NO'}; killed worker's activities retried on the other: ${retriedOnOther.length > 0 ? 'yes' : 'NO'}`);
    } finally {
      await db.close();
    }

    // One key hammers both APIs: accepted (non-429) answers per fixed window, both APIs together.
    const key = (await call(api1, 'POST', '/api/v1/api-keys', { name: 'hammer', scopes: ['runs:read'] })).key as string;
    const perWindow = new Map<number, { accepted: number; refused: number; byApi: number[] }>();
    const hammerEnd = Date.now() + HAMMER_SECONDS * 1000;
    let sent = 0;
    await Promise.all(Array.from({ length: HAMMER_CONNECTIONS * 2 }, async (_, c) => {
      const apiIndex = c % 2;
      const api = apiIndex ? api2 : api1;
      while (Date.now() < hammerEnd) {
        const res = await request(`${api.url}/api/v1/runs?limit=1`, { dispatcher, headers: { 'x-api-key': key } });
        await res.body.dump();
        sent++;
        const window = Math.floor(Date.now() / 60_000) * 60_000;
        const w = perWindow.get(window) ?? { accepted: 0, refused: 0, byApi: [0, 0] };
        if (res.statusCode === 429) w.refused++;
        else { w.accepted++; w.byApi[apiIndex]!++; }
        perWindow.set(window, w);
      }
    }));
    console.log(`\nrate limit ${RATE_LIMIT}/min per key, one key on both APIs for ${HAMMER_SECONDS} s (${HAMMER_CONNECTIONS} connections each, ${sent} requests):`);
    table([...perWindow.entries()].map(([start, w]) => ({
      window: new Date(start).toISOString().slice(11, 16), accepted: w.accepted, 'by api 1': w.byApi[0]!, 'by api 2': w.byApi[1]!, refused: w.refused, limit: RATE_LIMIT,
    })));
    const worst = Math.max(...[...perWindow.values()].map((w) => w.accepted));
    console.log(`scale-out: combined accepted ${worst} per window at most, limit ${RATE_LIMIT} (${worst <= RATE_LIMIT ? 'capped' : 'OVER the limit'}); one process alone would have allowed ${RATE_LIMIT} on each API`);
  } catch (err) {
    for (const p of processes) console.error(`--- ${p.name} (last output)\n${p.output().slice(-3000)}`);
    throw err;
  } finally {
    await Promise.all(processes.map((p) => kill(p)));
    await dispatcher.close();
    stopAudigyd();
    await jamf.close();
    await temporal.stop();
    await run('bash', [path.join(root, 'scripts/postgres.sh'), 'stop', pgData]).catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
  }
}
