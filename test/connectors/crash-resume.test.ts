import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuditComplySimulator, startJamfSimulator, startOktaSimulator } from '../simulators/index.js';
import type { SimulatorServer } from '../simulators/common/server.js';
import { spawnWorker, startTestHub, type TestHub } from '../helpers/hub.js';
import { createConnection, snapshotRecords, collectAcrossWorkerKill } from '../helpers/collect.js';

interface Case {
  name: string;
  start(): Promise<SimulatorServer & Record<string, unknown>>;
  connection(sim: SimulatorServer & Record<string, unknown>): { type: string; config: object; secrets: object };
  dataset: string;
  total: number;
  /** The list endpoint whose pages are slowed down and counted. */
  listPath: RegExp;
  /** The request for the first page of the walk. */
  isFirstPage(query: URLSearchParams): boolean;
  idOf(record: Record<string, unknown>): unknown;
}

const cases: Case[] = [
  {
    name: 'okta.users',
    start: () => startOktaSimulator({ population: { total: 5_000, deprovisioned: 100 }, rateLimit: false }) as never,
    connection: (sim) => ({ type: 'okta', config: { base_url: sim.url, auth_method: 'api_token', enrich_concurrency: 4 }, secrets: { api_token: sim.apiToken } }),
    dataset: 'okta.users', total: 5_000, listPath: /^\/api\/v1\/users$/,
    isFirstPage: (q) => !q.has('after') && !q.has('filter'), idOf: (r) => r.id,
  },
  {
    name: 'jamf.computers',
    start: () => startJamfSimulator({ fleet: { total: 5_000 } }) as never,
    connection: (sim) => ({ type: 'jamf', config: { base_url: sim.url, client_id: sim.clientId, page_size: 100 }, secrets: { client_secret: sim.clientSecret } }),
    dataset: 'jamf.computers', total: 5_000, listPath: /^\/api\/v1\/computers-inventory$/,
    isFirstPage: (q) => q.get('page') === '0', idOf: (r) => r.id,
  },
  {
    name: 'auditcomply.nonconformances',
    start: () => startAuditComplySimulator({ counts: { audits: 10, nonconformances: 5_000, tasks: 10 } }) as never,
    connection: (sim) => ({ type: 'auditcomply', config: { base_url: sim.apiBaseUrl, username: sim.username, page_size: 100 }, secrets: { password: sim.password } }),
    dataset: 'auditcomply.nonconformances', total: 5_000, listPath: /\/nonconformances\/$/,
    isFirstPage: (q) => q.get('page') === '1', idOf: (r) => r.nonconformance_id,
  },
  {
    name: 'http (generic, Link header)',
    start: () => startOktaSimulator({ population: { total: 4_000, deprovisioned: 0 }, rateLimit: false }) as never,
    connection: (sim) => ({ type: 'http', config: { base_url: sim.url, auth: { type: 'api_key_header', header_name: 'Authorization' }, datasets: [{ name: 'users', path: '/api/v1/users', query: { limit: '200' }, pagination: { type: 'link_header' } }] }, secrets: { api_key: `SSWS ${sim.apiToken}` } }),
    dataset: 'http.users', total: 4_000, listPath: /^\/api\/v1\/users$/,
    isFirstPage: (q) => !q.has('after'), idOf: (r) => r.id,
  },
];

describe('a worker killed mid-pagination (SIGKILL of a real worker process) resumes without loss or duplicates', () => {
  let t: TestHub;
  let worker: Awaited<ReturnType<typeof spawnWorker>>;
  beforeAll(async () => {
    // API in this process; workers are separate OS processes sharing PostgreSQL and the blob dir.
    t = await startTestHub({ backend: 'postgres', role: 'api' });
    worker = await spawnWorker(t);
  });
  afterAll(async () => { await worker?.kill(); await t?.stop(); });

  it.each(cases)('$name', async (c) => {
    const sim = await c.start();
    try {
      const id = await createConnection(t.call, c.connection(sim));
      // Slow pages, so that the kill lands in the middle of the walk.
      sim.faults.inject({ kind: 'delay', ms: 120 }, 10_000, { path: c.listPath });
      const pages = () => sim.requests.filter((r) => c.listPath.test(r.path) && r.status === 200).length;
      let result;
      ({ result, worker } = await collectAcrossWorkerKill(t, worker, id, c.dataset, pages));
      expect(result.status, result.error ?? '').toBe('succeeded');
      const records = await snapshotRecords<Record<string, unknown>>(t.call, result.snapshots[0].id);
      expect(records).toHaveLength(c.total);
      expect(new Set(records.map(c.idOf)).size).toBe(c.total);
      // Resumed, not restarted: the first page was fetched once.
      expect(sim.requests.filter((r) => c.listPath.test(r.path) && c.isFirstPage(r.query))).toHaveLength(1);
      expect(worker.output()).toContain('collection resumes after the last stored page');
      expect((await t.call('GET', `/api/v1/snapshots/${result.snapshots[0].id}?limit=0`)).body.metadata.attempts).toBe(2);
    } finally {
      await sim.close();
    }
  }, 300_000);
});
