import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { startAuditdexSimulator, type AuditdexSimulator } from '../simulators/auditdex.js';
import { eventually, startTestHub, type TestHub } from '../helpers/hub.js';
import { collect, createConnection, runToEnd } from '../helpers/collect.js';

// The System Log's `since` cursor belongs to whoever collects: a job's runs read and advance
// the job's own; a collection on its own (POST /connections/:id/collect) reads and advances the
// connection's ad-hoc cursor (the initial window the first time) and never moves a job's.

const HOUR_MS = 3_600_000;
const INITIAL_DAYS = 7;

describe('okta.system_log: the incremental cursor belongs to the job', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  let auditdex: AuditdexSimulator;
  beforeAll(async () => {
    t = await startTestHub();
    // One event a second, from half an hour ago to half an hour ahead: new events keep being
    // published while the test runs.
    okta = await startOktaSimulator({ population: { total: 20 }, rateLimit: false, now: Date.now() + HOUR_MS / 2, logSpanDays: 1 / 24, logEvents: 3600 });
    auditdex = await startAuditdexSimulator({ rateLimit: false });
  });
  afterAll(async () => { await okta?.close(); await auditdex?.close(); await t?.stop(); });

  /** The window of the System Log the requests from `from` on asked for (the first page's since/until). */
  function logWindow(from: number): { since: number; until: number } {
    const first = okta.requests.slice(from).find((r) => r.path === '/api/v1/logs' && !r.query.has('after'));
    expect(first, 'a System Log request').toBeDefined();
    return { since: Date.parse(first!.query.get('since')!), until: Date.parse(first!.query.get('until')!) };
  }

  /** Events the simulator holds in [since, until). */
  function eventsIn(window: { since: number; until: number }): number {
    const log = okta.state.systemLog;
    return log.firstAtOrAfter(window.until) - log.firstAtOrAfter(window.since);
  }

  it('job A’s next run reads every event since its own previous run, although a collection on its own ran in between', async () => {
    const connection = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token', enrich: false, system_log_initial_days: INITIAL_DAYS }, secrets: { api_token: okta.apiToken } });
    const destination = await t.call('POST', '/api/v1/destinations', {
      json: { name: 'AUDITDEX', type: 'auditdex', config: { base_url: auditdex.apiBaseUrl, token_url: auditdex.tokenUrl, client_id: auditdex.clientId }, secrets: { client_secret: auditdex.clientSecret } },
    });
    const mapping = await t.call('POST', '/api/v1/mappings', {
      json: { name: 'log', rules: [{ id: 'okta-log', dataset: 'okta.system_log', control_ref: 'Logging', question_match: 'security logging', title: 'Okta System Log', mode: 'info', payload: { events: { count: '$' } } }] },
    });
    expect(mapping.status, mapping.text).toBe(201);
    const job = await t.call('POST', '/api/v1/jobs', {
      json: { name: 'job A', connection_id: connection, datasets: ['okta.system_log'], mapping_id: mapping.body.id, destination_id: destination.body.id, target: { engagement_id: 'eng_xyz789', control_map: { Logging: 'ctrl_log456' } } },
    });
    expect(job.status, job.text).toBe(201);
    const eventsDelivered = async (run: { items: { id: string }[] }) => (await t.call('GET', `/api/v1/evidence/${run.items[0]!.id}`)).body.payload.events as number;

    // Run 1 of job A: its first, so the initial window.
    let mark = okta.requests.length;
    const first = await runToEnd(t.call, job.body.id);
    expect(first.status, JSON.stringify(first)).toBe('succeeded');
    const firstWindow = logWindow(mark);
    expect(firstWindow.until - firstWindow.since).toBe(INITIAL_DAYS * 24 * HOUR_MS);
    expect(await eventsDelivered(first)).toBe(eventsIn(firstWindow));

    // Events are published after run 1 started; then a collection on its own reads them.
    const log = okta.state.systemLog;
    await eventually(async () => Date.now() > log.publishedMs(log.firstAtOrAfter(firstWindow.until)) + 50, { timeoutMs: 10_000, intervalMs: 50 });
    mark = okta.requests.length;
    const adHoc = await collect(t.call, connection, ['okta.system_log']);
    expect(adHoc.status, adHoc.error ?? '').toBe('succeeded');
    const adHocWindow = logWindow(mark);
    // Not the job's cursor: this connection's first collection on its own reads the initial window.
    expect(adHocWindow.until - adHocWindow.since).toBe(INITIAL_DAYS * 24 * HOUR_MS);
    const sinceRunOne = { since: firstWindow.until, until: adHocWindow.until };
    expect(eventsIn(sinceRunOne)).toBeGreaterThan(0);

    // Run 2 of job A: from the start of run 1, so the events the ad-hoc collection also saw are in it.
    mark = okta.requests.length;
    const second = await runToEnd(t.call, job.body.id);
    expect(second.status, JSON.stringify(second)).toBe('succeeded');
    const secondWindow = logWindow(mark);
    expect(new Date(secondWindow.since).toISOString()).toBe(new Date(firstWindow.until).toISOString());
    expect(await eventsDelivered(second)).toBe(eventsIn(secondWindow));
    expect(eventsIn(secondWindow)).toBeGreaterThanOrEqual(eventsIn(sinceRunOne));

    // The next collection on its own goes on from the previous one, not from run 2.
    mark = okta.requests.length;
    const again = await collect(t.call, connection, ['okta.system_log']);
    expect(again.status, again.error ?? '').toBe('succeeded');
    expect(new Date(logWindow(mark).since).toISOString()).toBe(new Date(adHocWindow.until).toISOString());
  });

  it('another job on the same connection starts from its own initial window, not from job A’s cursor', async () => {
    const connection = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token', enrich: false, system_log_initial_days: INITIAL_DAYS }, secrets: { api_token: okta.apiToken } });
    const destination = await t.call('POST', '/api/v1/destinations', {
      json: { name: 'AUDITDEX', type: 'auditdex', config: { base_url: auditdex.apiBaseUrl, token_url: auditdex.tokenUrl, client_id: auditdex.clientId }, secrets: { client_secret: auditdex.clientSecret } },
    });
    const mapping = await t.call('POST', '/api/v1/mappings', {
      json: { name: 'log-b', rules: [{ id: 'okta-log', dataset: 'okta.system_log', control_ref: 'Logging', question_match: 'security logging', title: 'Okta System Log', mode: 'info', payload: { events: { count: '$' } } }] },
    });
    const newJob = async (name: string) => {
      const job = await t.call('POST', '/api/v1/jobs', {
        json: { name, connection_id: connection, datasets: ['okta.system_log'], mapping_id: mapping.body.id, destination_id: destination.body.id, target: { engagement_id: 'eng_xyz789', control_map: { Logging: 'ctrl_log456' } } },
      });
      expect(job.status, job.text).toBe(201);
      return job.body.id as string;
    };
    const jobA = await newJob('job A');
    const jobB = await newJob('job B');
    let mark = okta.requests.length;
    expect((await runToEnd(t.call, jobA)).status).toBe('succeeded');
    const aWindow = logWindow(mark);
    mark = okta.requests.length;
    expect((await runToEnd(t.call, jobB)).status).toBe('succeeded');
    const bWindow = logWindow(mark);
    expect(bWindow.until - bWindow.since).toBe(INITIAL_DAYS * 24 * HOUR_MS);
    mark = okta.requests.length;
    expect((await runToEnd(t.call, jobA)).status).toBe('succeeded');
    expect(new Date(logWindow(mark).since).toISOString()).toBe(new Date(aWindow.until).toISOString());
  });
});
