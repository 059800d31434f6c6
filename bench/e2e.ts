/**
 * End-to-end benchmark: runs over 10 000 Okta users and 5 000 Jamf computers into the AUDIGYD
 * simulator, each run's wall time split into collect / map / deliver; then delivery
 * throughput of a run with 300 evidence items against a plain HTTP loop posting the same
 * items at the same concurrency, in the same process, in several rounds (the ratio is their
 * median), with the CPU time the hub process and the destination used for each.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { loadConfig } from '../config.js';
import { startHub, type Hub } from '../hub.js';
import { createLogger } from '../lib/logger.js';
import { findOrBuildTemporalCli } from '../temporal/cli-binary.js';
import { freePort, startDevServer } from '../temporal/dev-server.js';
import { startJamfSimulator, startOktaSimulator } from '../test/simulators/index.js';
import { ASSESSMENT, OKTA_ASSESSMENT } from '../test/helpers/fixtures.js';
import { benchQuestions } from './audigyd-process.js';
import { processCpuMs, startChildService, table } from './util.js';

const CONCURRENCY = 8;
const BENCH_ITEMS = 300;
/** Delivery runs, each followed by the plain loop: the ratio printed is their median. */
const ROUNDS = 5;

type Call = (method: string, url: string, body?: unknown) => Promise<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** An AUDIGYD simulator in a child process (bench/audigyd-process.ts). */
async function startAudigydProcess(): Promise<{ url: string; apiKey: string; pid: number; close: () => Promise<void> }> {
  const { info, pid, stop } = await startChildService<{ url: string; apiKey: string }>('audigyd-process.ts', [String(BENCH_ITEMS)]);
  return { ...info, pid, close: async () => stop() };
}

/**
 * CPU time of processes, sampled every 25 ms while `fn` runs, so that the CPU used within a
 * window known only afterwards (the deliver step, from the database's timestamps) can be read.
 */
async function withCpuSamples<T>(pids: number[], fn: () => Promise<T>): Promise<{ result: T; cpuBetween: (fromMs: number, toMs: number) => (number | null)[] }> {
  const samples: { at: number; cpu: (number | null)[] }[] = [];
  const sample = () => samples.push({ at: Date.now(), cpu: pids.map(processCpuMs) });
  sample();
  const timer = setInterval(sample, 25);
  try {
    const result = await fn();
    sample();
    return {
      result,
      cpuBetween: (fromMs, toMs) => {
        const at = (t: number) => samples.find((s) => s.at >= t) ?? samples[samples.length - 1]!;
        const [a, b] = [at(fromMs), at(toMs)];
        return pids.map((_, i) => (a.cpu[i] === null || b.cpu[i] === null ? null : b.cpu[i]! - a.cpu[i]!));
      },
    };
  } finally {
    clearInterval(timer);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const perItem = (ms: number | null, items: number) => (ms === null ? 'n/a' : (ms / items).toFixed(2));

async function runJob(call: Call, hub: Hub, jobId: string) {
  const started = performance.now();
  const run = await call('POST', `/api/v1/jobs/${jobId}/runs`);
  let current = run;
  while (['queued', 'running'].includes(current.status)) {
    await new Promise((r) => setTimeout(r, 100));
    current = await call('GET', `/api/v1/runs/${run.id}`);
  }
  const wallMs = performance.now() - started;
  // The run's own timeline: collection until the evaluate step starts, evaluation (rules and
  // the ledger write of every item as pending) until the deliver step starts, delivery from
  // then until the last item's outcome was recorded (or the run ended).
  const steps = await hub.db.query<{ name: string; started_at: Date; ended_at: Date | null }>('SELECT name, started_at, ended_at FROM run_steps WHERE run_id = $1', [run.id]);
  const step = (name: string) => steps.find((s) => s.name === name);
  const [t] = await hub.db.query<{ first: Date | null; delivered: Date | null }>('SELECT min(delivered_at) AS first, max(delivered_at) AS delivered FROM evidence WHERE run_id = $1', [run.id]);
  const at = (d: Date | string | null | undefined) => (d ? new Date(d).getTime() : NaN);
  const startedAt = at(current.started_at);
  const evaluateAt = at(step('evaluate')?.started_at);
  const deliverAt = at(step('deliver')?.started_at) || at(step('evaluate')?.ended_at);
  const collectMs = evaluateAt - startedAt;
  const mapMs = deliverAt - evaluateAt;
  const deliverMs = (t!.delivered ? at(t!.delivered) : at(current.ended_at)) - deliverAt;
  // Of the deliver step, the time until the first outcome committed (Temporal scheduling the
  // delivery activity, the first claim, the destination opened, the first request and settle).
  const firstOutcomeMs = t!.first ? at(t!.first) - deliverAt : NaN;
  return { run: current, wallMs, collectMs, mapMs, deliverMs, deliverFrom: deliverAt, firstOutcomeMs };
}

export async function runEndToEndBench(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hub-bench-e2e-'));
  const binary = await findOrBuildTemporalCli({ configuredPath: process.env.TEMPORAL_CLI_PATH || null });
  const temporal = await startDevServer({ binary, dbFile: null, port: await freePort(), uiPort: null, namespace: 'default' });
  const questions = benchQuestions(BENCH_ITEMS);
  // Both AUDIGYDs (the hub's destination and the plain loop's) run in processes of their own.
  const [okta, jamf, audigyd, baselineAudigyd] = await Promise.all([
    startOktaSimulator({ population: { total: 10_000, admins: 40, adminsWithoutMfa: 3 }, rateLimit: false }),
    startJamfSimulator({ fleet: { total: 5_000, unencrypted: 50 } }),
    startAudigydProcess(),
    startAudigydProcess(),
  ]);
  const config = loadConfig({ PORT: '0', HUB_HOST: '127.0.0.1', HUB_DATA_DIR: dataDir, TEMPORAL_ADDRESS: temporal.address, HUB_ALLOW_PRIVATE_NETWORKS: 'true', LOG_LEVEL: 'warn', DATABASE_URL: process.env.DATABASE_URL ?? '' });
  const hub = await startHub(config, 'all', { logger: createLogger('warn') });
  const key = hub.bootstrap!.generatedKey!;
  const call: Call = async (method, url, body) => {
    const res = await request(hub.url + url, { method: method as 'GET', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = (await res.body.json().catch(() => null)) as Record<string, unknown>;
    if (res.statusCode >= 400) throw new Error(`${method} ${url}: ${res.statusCode} ${JSON.stringify(json)}`);
    return json;
  };
  try {
    const destination = await call('POST', '/api/v1/destinations', { name: 'AUDIGYD', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } });
    const oktaConnection = await call('POST', '/api/v1/connections', { name: 'okta', type: 'okta', config: { base_url: okta.url, auth_method: 'api_token', enrich_concurrency: 16 }, secrets: { api_token: okta.apiToken } });
    const jamfConnection = await call('POST', '/api/v1/connections', { name: 'jamf', type: 'jamf', config: { base_url: jamf.url, client_id: jamf.clientId, page_size: 500 }, secrets: { client_secret: jamf.clientSecret } });
    const job = async (name: string, connection: string, datasets: string[], mapping: Record<string, unknown>, assessment: string) => {
      const m = await call('POST', '/api/v1/mappings', { name, ...mapping });
      return (await call('POST', '/api/v1/jobs', { name, connection_id: connection, datasets, mapping_id: m.id, destination_id: destination.id, target: { assessment_id: assessment } })).id as string;
    };
    // E2E_ONLY=delivery skips the two pack runs: the delivery rounds alone, for profiling them.
    const packRuns = process.env.E2E_ONLY !== 'delivery';
    const oktaRun = packRuns ? await runJob(call, hub, await job('okta', oktaConnection.id, ['okta.users', 'okta.password_policies'], { pack: 'okta' }, OKTA_ASSESSMENT.id)) : null;
    const jamfRun = packRuns ? await runJob(call, hub, await job('jamf', jamfConnection.id, ['jamf.computers'], { pack: 'jamf' }, ASSESSMENT.id)) : null;

    // Delivery throughput: 300 items from one run, against a loop posting the same bodies, in
    // rounds. CPU: the hub process (API, worker, database thread) and each destination process.
    const rules = questions.map((_, i) => ({ id: `bench-${i}`, dataset: 'jamf.computers', control_ref: 'Bench', question_match: `c${String(i).padStart(4, '0')}`, title: `Bench item ${i}`, mode: 'info', payload: { computers: { count: '$' } } }));
    const benchJob = await job('bench', jamfConnection.id, ['jamf.computers'], { rules }, 'asm_bench');
    const rounds: { hubRate: number; loopRate: number; firstOutcomeMs: number; hubCpu: number | null; destCpu: number | null; loopCpu: number | null; loopDestCpu: number | null }[] = [];
    let deliveryRun!: Awaited<ReturnType<typeof runJob>>;
    for (let round = 0; round < ROUNDS; round++) {
      const measured = await withCpuSamples([process.pid, audigyd.pid], () => runJob(call, hub, benchJob));
      deliveryRun = measured.result;
      const [hubCpu, destCpu] = measured.cpuBetween(deliveryRun.deliverFrom, deliveryRun.deliverFrom + deliveryRun.deliverMs);
      const items = await hub.db.query<{ control_ref: string; question_match: string; title: string; source: string; result: string; payload: unknown; collected_at: Date }>(
        'SELECT control_ref, question_match, title, source, result, payload, collected_at FROM evidence WHERE run_id = $1', [deliveryRun.run.id]);
      let next = 0;
      const loopCpuBefore = [processCpuMs(process.pid), processCpuMs(baselineAudigyd.pid)];
      const loopStarted = performance.now();
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < items.length) {
          const item = items[next++]!;
          const res = await request(`${baselineAudigyd.url}/api/v1/assessments/asm_bench/evidence/push`, {
            method: 'POST', headers: { 'x-api-key': baselineAudigyd.apiKey, 'content-type': 'application/json' },
            body: JSON.stringify({ ...item, collected_at: new Date(item.collected_at).toISOString(), allow_multiple: false }),
          });
          await res.body.dump();
          if (res.statusCode >= 300) throw new Error(`baseline push answered ${res.statusCode}`);
        }
      }));
      const loopMs = performance.now() - loopStarted;
      const [loopCpu, loopDestCpu] = [processCpuMs(process.pid), processCpuMs(baselineAudigyd.pid)].map((v, i) => (v === null || loopCpuBefore[i] === null ? null : v - loopCpuBefore[i]!));
      rounds.push({ hubRate: (items.length / deliveryRun.deliverMs) * 1000, loopRate: (items.length / loopMs) * 1000, firstOutcomeMs: deliveryRun.firstOutcomeMs,
        hubCpu: hubCpu ?? null, destCpu: destCpu ?? null, loopCpu: loopCpu ?? null, loopDestCpu: loopDestCpu ?? null });
    }

    if (oktaRun && jamfRun) {
      console.log('\n## End to end: runs into the AUDIGYD simulator');
      table([oktaRun, jamfRun, deliveryRun].map((r, i) => ({
        run: ['okta pack, 10 000 users (+ factors and roles)', 'jamf pack, 5 000 computers', `${BENCH_ITEMS} items (delivery, last round)`][i]!,
        status: r.run.status, records: r.run.counts.collected, items: r.run.counts.evidence, delivered: r.run.counts.delivered,
        'wall ms': Math.round(r.wallMs), 'collect ms': r.collectMs, 'evaluate + ledger ms': r.mapMs, 'deliver ms': r.deliverMs,
      })));
    }
    console.log(`\n## Delivery of ${BENCH_ITEMS} items at concurrency ${CONCURRENCY}: the hub against a plain loop`);
    table(rounds.map((r, i) => ({
      round: i + 1, 'hub items/s': Math.round(r.hubRate), 'loop items/s': Math.round(r.loopRate), ratio: Number((r.hubRate / r.loopRate).toFixed(2)), 'first outcome ms': Math.round(r.firstOutcomeMs),
      'hub CPU ms/item': perItem(r.hubCpu, BENCH_ITEMS), 'destination CPU ms/item': perItem(r.destCpu, BENCH_ITEMS),
      'loop CPU ms/item': perItem(r.loopCpu, BENCH_ITEMS), 'loop destination CPU ms/item': perItem(r.loopDestCpu, BENCH_ITEMS),
    })));
    const ratio = median(rounds.map((r) => r.hubRate / r.loopRate));
    console.log(`e2e: delivery ${Math.round(median(rounds.map((r) => r.hubRate)))} items/s through the hub vs ${Math.round(median(rounds.map((r) => r.loopRate)))} items/s for a plain loop at concurrency ${CONCURRENCY} (medians of ${ROUNDS} rounds): ratio ${ratio.toFixed(2)}× (target ≥ 0.5×), on ${os.cpus().length} CPUs`);
  } finally {
    await hub.stop();
    await temporal.stop();
    await Promise.all([okta.close(), jamf.close(), audigyd.close(), baselineAudigyd.close()]);
    await rm(dataDir, { recursive: true, force: true });
  }
}
