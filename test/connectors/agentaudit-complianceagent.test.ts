import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentauditConnector, agentauditDestination, AGENTAUDIT_MAX_BATCH, planBatches, runTraceEntries, sendRunTrace, spanIdOf, type AgentAuditClient, type RunTrace } from '../../connectors/agentaudit/index.js';
import { ConnectorError } from '../../connectors/errors.js';
import { OutboundHttp } from '../../connectors/http-client.js';
import type { ConnectorContext, DeliveryItem, JsonValue } from '../../connectors/types.js';
import { createLogger } from '../../lib/logger.js';
import { compileRules, evaluate } from '../../mappings/engine.js';
import { getPack } from '../../mappings/packs.js';
import { startAgentAuditSimulator, type AgentAuditLog, type AgentAuditSimulator } from '../simulators/agentaudit.js';
import { startComplianceAgentSimulator, type ComplianceAgentSimulator } from '../simulators/complianceagent.js';
import { eventually, startTestHub, type TestHub } from '../helpers/hub.js';
import { postJson } from '../simulators/test-http.js';
import { collect, createConnection, runToEnd, snapshotRecords } from '../helpers/collect.js';

type IntegrityRecord = { id: string; verified: boolean | null; chain_valid: boolean | null; logs_checked: number | null; hash_mismatches: number | null; gaps_detected: number | null };
type AlertRecord = { id: string; severity: string | null; resolved: boolean; rule_name: string | null };

/** The pack's results for these datasets, as the hub's engine computes them. */
function packResults(pack: string, data: Record<string, unknown[]>) {
  const { evidence, errors } = evaluate(compileRules(getPack(pack)!.rules), data, { now: new Date() });
  expect(errors).toEqual([]);
  return Object.fromEntries(evidence.map((item) => [item.rule_id, item]));
}

async function resolveAlert(sim: AgentAuditSimulator, id: string): Promise<void> {
  const response = await request(`${sim.apiBaseUrl}/alerts/${id}/resolve`, { method: 'PATCH', headers: { 'x-api-key': sim.apiKey } });
  expect(response.statusCode).toBe(200);
  await response.body.dump();
}

describe('AgentAudit and ComplianceAgent through the real Temporal dev server', () => {
  let t: TestHub;
  let aa: AgentAuditSimulator;
  let ca: ComplianceAgentSimulator;
  /** An AgentAudit the hub delivers to (kept apart from the one it collects from). */
  let sink: AgentAuditSimulator;
  let destination: string;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_DELIVERY_RETRY_INITIAL_MS: '200' } });
    aa = await startAgentAuditSimulator({ logs: 230, alerts: { critical: 1, high: 2, medium: 3, low: 2, resolved: 4 } });
    ca = await startComplianceAgentSimulator({ logs: 230 });
    sink = await startAgentAuditSimulator({ logs: 0, alerts: { critical: 0, high: 0, medium: 0, low: 0, resolved: 0 } });
    const created = await t.call('POST', '/api/v1/destinations', { json: { name: 'AgentAudit', type: 'agentaudit', config: { base_url: sink.apiBaseUrl, agent_id: 'evidence-hub' }, secrets: { api_key: sink.apiKey } } });
    expect(created.status, created.text).toBe(201);
    destination = created.body.id;
    expect((await t.call('POST', `/api/v1/destinations/${destination}/test`)).body).toMatchObject({ ok: true });
  });
  afterAll(async () => { await aa?.close(); await ca?.close(); await sink?.close(); await t?.stop(); });

  const caConnection = (sim: ComplianceAgentSimulator, apiKey = sim.apiKey) =>
    createConnection(t.call, { type: 'complianceagent', config: { base_url: sim.url, page_size: 50 }, secrets: { api_key: apiKey } });
  const aaConnection = (sim: AgentAuditSimulator, config: Record<string, unknown> = {}, secrets: Record<string, string> = {}) =>
    createConnection(t.call, { type: 'agentaudit', config: { base_url: sim.url, page_size: 40, ...config }, secrets: { api_key: sim.apiKey, ...secrets } });

  async function packJob(pack: string, connection: string, datasets: string[]): Promise<string> {
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: pack, pack } });
    expect(mapping.status, mapping.text).toBe(201);
    const job = await t.call('POST', '/api/v1/jobs', { json: { name: pack, connection_id: connection, datasets, mapping_id: mapping.body.id, destination_id: destination, target: { agent_id: `hub-${pack}` } } });
    expect(job.status, job.text).toBe(201);
    return job.body.id as string;
  }

  /** What the hub logged to the sink for one rule, newest last. */
  const delivered = (ruleId: string) => sink.state.logs.logs.filter((log) => log.action === 'compliance_evidence' && log.metadata?.ruleId === ruleId);

  it('ComplianceAgent: collects the audit log page by page within from/to, then incrementally, and the integrity record', async () => {
    const id = await caConnection(ca);
    expect((await t.call('POST', `/api/v1/connections/${id}/test`)).body).toMatchObject({ ok: true });
    const result = await collect(t.call, id, ['complianceagent.audit_logs', 'complianceagent.integrity']);
    expect(result.status, result.error ?? '').toBe('succeeded');
    const byDataset = Object.fromEntries(result.snapshots.map((s) => [s.dataset, s]));
    const truth = ca.truth();
    expect(byDataset['complianceagent.audit_logs']!.record_count).toBe(truth.total);
    const logs = await snapshotRecords<{ id: string; event_type: string; actor_type: string; repository_name: string; timestamp: string }>(t.call, byDataset['complianceagent.audit_logs']!.id);
    expect(new Set(logs.map((l) => l.id)).size).toBe(truth.total);
    expect(logs.filter((l) => l.actor_type === 'system')).toHaveLength(truth.byActorType.system!);
    const pages = ca.requests.filter((r) => r.path === '/api/v1/audit/logs' && r.query.has('from'));
    expect(pages.length).toBeGreaterThanOrEqual(5);
    expect(pages.every((r) => r.authScheme === 'Bearer' && r.query.get('limit') === '50' && r.query.has('from') && r.query.has('to'))).toBe(true);
    expect(new Set(pages.map((r) => `${r.query.get('from')}|${r.query.get('to')}`)).size).toBe(1);

    const [integrity] = await snapshotRecords<IntegrityRecord>(t.call, byDataset['complianceagent.integrity']!.id);
    expect(integrity).toMatchObject({ id: 'audit-log', verified: true, chain_valid: true, logs_checked: truth.total, hash_mismatches: 0, gaps_detected: 0 });
    expect(packResults('complianceagent', { 'complianceagent.integrity': [integrity!], 'complianceagent.audit_logs': logs })).toMatchObject({
      'complianceagent-audit-log-integrity': { result: 'pass' },
      'complianceagent-audit-event-overview': { result: 'info', payload: { events: truth.total } },
    });

    // The next collection reads only what happened since the previous one started.
    const added = [ca.append({ event_type: 'access.granted' }), ca.append({ event_type: 'access.revoked' }), ca.append()];
    const again = await collect(t.call, id, ['complianceagent.audit_logs']);
    expect(again.status, again.error ?? '').toBe('succeeded');
    const fresh = await snapshotRecords<{ id: string }>(t.call, again.snapshots[0]!.id);
    expect(fresh.map((l) => l.id).sort()).toEqual(added.map((e) => e.id).sort());
  });

  it('ComplianceAgent: a 429 is waited out and a wrong key fails readably', async () => {
    const id = await caConnection(ca);
    const before = ca.throttling.events.length;
    ca.faults.inject({ kind: 'rateLimit', retryAfterSeconds: 1 }, 1, { path: '/api/v1/audit/verify' });
    const ok = await collect(t.call, id, ['complianceagent.integrity']);
    expect(ok.status, ok.error ?? '').toBe('succeeded');
    expect(ca.throttling.events[before]!.requestsBeforeReset).toBe(0);

    const bad = await caConnection(ca, 'not-the-key');
    expect((await t.call('POST', `/api/v1/connections/${bad}/test`)).body).toMatchObject({ ok: false, error: { kind: 'auth' } });
    const failed = await collect(t.call, bad, ['complianceagent.audit_logs']);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/ComplianceAgent rejected the credentials/);
  });

  it('ComplianceAgent → complianceagent pack → AgentAudit: the chain passes, then fails once an entry is tampered with', async () => {
    const tampered = await startComplianceAgentSimulator({ logs: 60, seed: 7 });
    try {
      const job = await packJob('complianceagent', await caConnection(tampered), ['complianceagent.audit_logs', 'complianceagent.integrity']);
      const first = await runToEnd(t.call, job);
      expect(first.status, JSON.stringify(first.items)).toBe('succeeded');
      expect(Object.fromEntries(first.items.map((i: { rule_id: string; result: string }) => [i.rule_id, i.result]))).toEqual({
        'complianceagent-audit-log-integrity': 'pass',
        'complianceagent-audit-event-overview': 'info',
      });
      expect(delivered('complianceagent-audit-log-integrity').at(-1)).toMatchObject({ response: 'pass', agentId: 'hub-complianceagent' });
      // The destination keeps an activity stream: the finished run arrives as a linked trace
      // (run → 2 collects + evaluate → 2 items, + finish), sent in batches of at most 50.
      await eventually(async () => sink.state.logs.trace(first.id).length === 7);
      checkTrace(sink, first.id, 7);
      expect(sink.state.logs.trace(first.id).find((log) => log.action === 'evidence_run_finish')?.response).toMatch(/^succeeded/);

      // Someone edits an entry in the database: ComplianceAgent's verification sees it, and so does the evidence.
      const victim = tampered.state.chain.all[20]!;
      tampered.tamper(victim.id, (entry) => {
        entry.details = { ...entry.details, new_status: 'wont_fix' };
      });
      const second = await runToEnd(t.call, job);
      expect(second.status, JSON.stringify(second.items)).toBe('succeeded');
      const integrityItem = second.items.find((i: { rule_id: string }) => i.rule_id === 'complianceagent-audit-log-integrity');
      expect(integrityItem).toMatchObject({ result: 'fail', status: 'delivered' });
      const logged = delivered('complianceagent-audit-log-integrity').at(-1)!;
      expect(logged.response).toBe('fail');
      const payload = logged.metadata?.payload as { verification: { items: IntegrityRecord[] } };
      expect(payload.verification.items[0]).toMatchObject({ verified: false, chain_valid: false, hash_mismatches: 1, gaps_detected: 0 });
      expect(tampered.truth().chain.hash_mismatches).toBe(1);
    } finally {
      await tampered.close();
    }
  });

  it('AgentAudit: collects unresolved alerts and recent audit logs; the pack fails on open critical/high alerts and passes once they are resolved', async () => {
    const id = await aaConnection(aa);
    expect((await t.call('POST', `/api/v1/connections/${id}/test`)).body).toMatchObject({ ok: true });
    const result = await collect(t.call, id, ['agentaudit.alerts', 'agentaudit.audit_logs']);
    expect(result.status, result.error ?? '').toBe('succeeded');
    const byDataset = Object.fromEntries(result.snapshots.map((s) => [s.dataset, s]));
    const truth = aa.truth();
    const alerts = await snapshotRecords<AlertRecord>(t.call, byDataset['agentaudit.alerts']!.id);
    expect(alerts).toHaveLength(truth.alerts.unresolved);
    expect(alerts.every((a) => a.resolved === false && a.rule_name !== null)).toBe(true);
    const logs = await snapshotRecords<{ id: string; trace_id: string | null; prompt: string | null }>(t.call, byDataset['agentaudit.audit_logs']!.id);
    expect(logs).toHaveLength(truth.logs.total);
    expect(new Set(logs.map((l) => l.id)).size).toBe(truth.logs.total);
    expect(logs.every((l) => l.prompt === null)).toBe(true); // include_content is off
    const pages = aa.requests.filter((r) => r.path === '/api/v1/audit-logs');
    expect(pages.length).toBeGreaterThanOrEqual(6);
    expect(pages.every((r) => r.query.get('limit') === '40')).toBe(true);

    const results = packResults('agentaudit', { 'agentaudit.alerts': alerts, 'agentaudit.audit_logs': logs });
    expect(results['agentaudit-unresolved-severe-alerts']!.result).toBe('fail');
    const blocking = results['agentaudit-unresolved-severe-alerts']!.payload.blocking_alerts as { items: { id: string }[] };
    expect(blocking.items.map((a) => a.id).sort()).toEqual([...truth.alerts.unresolvedCriticalOrHighIds].sort());

    // Through a job: the same verdict reaches the destination; resolving the alerts turns it into a pass.
    const job = await packJob('agentaudit', id, ['agentaudit.alerts', 'agentaudit.audit_logs']);
    const failing = await runToEnd(t.call, job);
    expect(failing.items.find((i: { rule_id: string }) => i.rule_id === 'agentaudit-unresolved-severe-alerts')).toMatchObject({ result: 'fail', status: 'delivered' });
    for (const alertId of truth.alerts.unresolvedCriticalOrHighIds) await resolveAlert(aa, alertId);
    const passing = await runToEnd(t.call, job);
    expect(passing.items.find((i: { rule_id: string }) => i.rule_id === 'agentaudit-unresolved-severe-alerts')).toMatchObject({ result: 'pass', status: 'delivered' });
    expect(delivered('agentaudit-unresolved-severe-alerts').map((log) => log.response)).toEqual(['fail', 'pass']);
  });

  it('AgentAudit: reads alerts with a dashboard JWT where they are kept for the dashboard', async () => {
    const dashboardOnly = await startAgentAuditSimulator({ alertsAuth: 'jwt', alerts: { critical: 0, high: 1, medium: 0, low: 0, resolved: 0 } });
    try {
      const keyOnly = await aaConnection(dashboardOnly);
      expect((await t.call('POST', `/api/v1/connections/${keyOnly}/test`)).body).toMatchObject({ ok: false, error: { kind: 'auth' } });
      const withAccount = await aaConnection(dashboardOnly, { email: dashboardOnly.email }, { password: dashboardOnly.password });
      const result = await collect(t.call, withAccount, ['agentaudit.alerts']);
      expect(result.status, result.error ?? '').toBe('succeeded');
      expect(result.snapshots[0]!.record_count).toBe(1);
      expect(dashboardOnly.tokensIssued).toBeGreaterThanOrEqual(1);
      expect(dashboardOnly.requests.filter((r) => r.path === '/api/v1/alerts').at(-1)).toMatchObject({ authScheme: 'Bearer', status: 200 });
    } finally {
      await dashboardOnly.close();
    }
  });
});

/** A connector context as the hub's activities build one. */
function contextFor(sim: AgentAuditSimulator, http: OutboundHttp, config: Record<string, unknown>): ConnectorContext {
  return {
    config: { base_url: sim.url, ...config },
    secrets: { api_key: sim.apiKey },
    http,
    log: createLogger('silent'),
    heartbeat: () => undefined,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

/** A destination session opened the way the hub's activities open one. */
function openDestination(sim: AgentAuditSimulator, http: OutboundHttp): AgentAuditClient {
  return agentauditDestination.open(contextFor(sim, http, { agent_id: 'evidence-hub' }));
}

function runTrace(runId: string, items: number): RunTrace {
  return {
    run_id: runId,
    job_id: 'job_nightly',
    status: 'partial',
    started_at: new Date('2025-06-01T02:00:00Z'),
    ended_at: '2025-06-01T02:03:10Z',
    datasets: [{ dataset: 'okta.users', record_count: 320 }, { dataset: 'okta.password_policies', record_count: 1 }, { dataset: 'jamf.computers', record_count: 730, snapshot_id: 'snap_1' }],
    evidence: Array.from({ length: items }, (_, n) => ({
      evidence_id: `ev_${String(n).padStart(4, '0')}`,
      rule_id: `rule-${n % 7}`,
      control_ref: n % 2 ? 'Access Control' : 'Endpoint Security',
      result: n % 5 === 0 ? 'fail' : 'pass',
      delivery_status: n % 11 === 0 ? 'rejected' : 'delivered',
      ...(n % 11 === 0 ? { error: 'AUDIGYD answered 422' } : {}),
    })),
  };
}

/** The logs AgentAudit holds for one trace, and the checks every well-formed trace passes. */
function checkTrace(sim: AgentAuditSimulator, runId: string, spans: number): AgentAuditLog[] {
  const logs = sim.state.logs.trace(runId);
  expect(logs).toHaveLength(spans);
  const byLogId = new Map(logs.map((log) => [log.id, log]));
  const spanIds = logs.map((log) => log.metadata?.spanId as string);
  expect(new Set(spanIds).size).toBe(spans);
  const roots = logs.filter((log) => log.parentSpanId === null);
  expect(roots).toHaveLength(1);
  expect(roots[0]).toMatchObject({ action: 'evidence_run', metadata: { spanId: spanIdOf(runId, 'run'), parentSpanId: null } });
  for (const log of logs) {
    expect(log.traceId).toBe(runId);
    expect(log.agentId).toBe('evidence-hub');
    if (log === roots[0]) continue;
    // parentSpanId is the parent's AgentAudit log id, in the same trace, whose span id the metadata names.
    const parent = byLogId.get(log.parentSpanId!);
    expect(parent, `${log.metadata?.step} has a parent in the trace`).toBeDefined();
    expect(parent!.metadata?.spanId).toBe(log.metadata?.parentSpanId);
  }
  return logs;
}

describe('AgentAudit destination and run traces (against the simulator, without the hub)', () => {
  let sim: AgentAuditSimulator;
  let http: OutboundHttp;
  beforeAll(async () => {
    sim = await startAgentAuditSimulator({ logs: 0 });
    http = new OutboundHttp({ allowPrivateNetworks: true });
  });
  afterAll(async () => { await sim?.close(); await http?.close(); });

  it('builds the same span tree for the same run, and a different one for another run', () => {
    const spans = runTraceEntries(runTrace('run_a', 3));
    expect(spans.map((s) => s.step)).toEqual(['run', 'collect:okta.users', 'collect:okta.password_policies', 'collect:jamf.computers', 'evaluate', 'evidence:ev_0000', 'evidence:ev_0001', 'evidence:ev_0002', 'finish']);
    expect(runTraceEntries(runTrace('run_a', 3))).toEqual(spans);
    const parentOf = Object.fromEntries(spans.map((s) => [s.step, spans.find((p) => p.span_id === s.parent_span_id)?.step ?? null]));
    expect(parentOf).toMatchObject({ run: null, 'collect:okta.users': 'run', evaluate: 'run', 'evidence:ev_0001': 'evaluate', finish: 'run' });
    expect(spans.every((s) => /^[0-9a-f]{16}$/.test(s.span_id) && s.entry.traceId === 'run_a')).toBe(true);
    const other = runTraceEntries(runTrace('run_b', 3));
    expect(other.map((s) => s.span_id).filter((id) => spans.some((s) => s.span_id === id))).toEqual([]);
  });

  it('plans batches of at most 50 that never hold a span together with its parent', () => {
    const spans = runTraceEntries(runTrace('run_plan', 120));
    const batches = planBatches(spans, AGENTAUDIT_MAX_BATCH);
    expect(batches.map((b) => b.length)).toEqual([1, 4, 50, 50, 21]);
    for (const batch of batches) {
      const ids = new Set(batch.map((s) => s.span_id));
      expect(batch.some((s) => s.parent_span_id !== null && ids.has(s.parent_span_id))).toBe(false);
    }
    expect(batches.flat()).toEqual(spans);
  });

  it('sends a run of 120 evidence items in batches of ≤ 50 as one linked trace, and a second send adds nothing', async () => {
    const session = openDestination(sim, http);
    const trace = runTrace('run_120', 120);
    const requestsBefore = sim.state.batches.length;
    const receipt = await sendRunTrace(session, trace);
    expect(receipt).toMatchObject({ trace_id: 'run_120', spans: 126, sent: 126, already_logged: 0, requests: 5 });
    const batches = sim.state.batches.slice(requestsBefore);
    expect(batches.map((b) => [b.size, b.status])).toEqual([[1, 201], [4, 201], [50, 201], [50, 201], [21, 201]]);
    expect(batches.every((b) => b.size <= AGENTAUDIT_MAX_BATCH)).toBe(true);

    const logs = checkTrace(sim, 'run_120', 126);
    const item = logs.find((log) => log.metadata?.evidenceId === 'ev_0055')!;
    expect(item).toMatchObject({ action: 'evidence_item', response: 'fail; delivery rejected', metadata: { ruleId: 'rule-6', controlRef: 'Access Control', result: 'fail', deliveryStatus: 'rejected', error: 'AUDIGYD answered 422' } });
    // AgentAudit's own chain walk goes item → evaluate → run.
    const chain = await request(`${sim.apiBaseUrl}/audit-logs/${item.id}/chain`, { headers: { 'x-api-key': sim.apiKey } });
    expect(((await chain.body.json()) as { chain: AgentAuditLog[] }).chain.map((log) => log.action)).toEqual(['evidence_item', 'evidence_evaluate', 'evidence_run']);
    expect(logs.find((log) => log.action === 'evidence_run_finish')).toMatchObject({ response: 'partial; deliveries: 109 delivered, 11 rejected' });

    // A retry of a run that was fully logged: the same span ids, nothing sent twice.
    const received = sim.received.length;
    const again = await sendRunTrace(session, trace);
    expect(again).toMatchObject({ spans: 126, sent: 0, already_logged: 126, requests: 0 });
    expect(again.log_ids).toEqual(receipt.log_ids);
    expect(sim.received.length).toBe(received);
  });

  it('resumes a trace whose send failed half-way: a 503 is retryable, and the retry sends only what is missing', async () => {
    const session = openDestination(sim, http);
    const trace = runTrace('run_resume', 120);
    // The first two batches pass, the third answers 503.
    sim.faults.inject({ kind: 'delay', ms: 0 }, 2, { path: '/api/v1/audit-logs/batch' });
    sim.faults.inject({ kind: 'status', status: 503 }, 1, { path: '/api/v1/audit-logs/batch' });
    const failure = await sendRunTrace(session, trace).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ConnectorError);
    expect(failure).toMatchObject({ kind: 'unavailable', retryable: true });
    expect(sim.state.logs.trace('run_resume')).toHaveLength(5);

    const retried = await sendRunTrace(session, trace);
    expect(retried).toMatchObject({ spans: 126, sent: 121, already_logged: 5, requests: 3 });
    checkTrace(sim, 'run_resume', 126);
    expect(Object.keys(retried.log_ids).sort()).toEqual(runTraceEntries(trace).map((s) => s.span_id).sort());
  });

  it('waits out a 429 in place while sending a trace', async () => {
    const session = openDestination(sim, http);
    const before = sim.throttling.events.length;
    sim.faults.inject({ kind: 'rateLimit', retryAfterSeconds: 1 }, 1, { path: '/api/v1/audit-logs/batch' });
    const receipt = await sendRunTrace(session, runTrace('run_throttled', 10));
    expect(receipt.sent).toBe(16);
    expect(sim.throttling.events[before]!.requestsBeforeReset).toBe(0);
    checkTrace(sim, 'run_throttled', 16);
  });

  it('walks audit logs newest first without repeating those pushed down by logs arriving mid-walk, up to max_audit_logs', async () => {
    const source = await startAgentAuditSimulator({ logs: 95 });
    try {
      const dataset = agentauditConnector.datasets['agentaudit.audit_logs']!;
      const walk = async (config: Record<string, unknown>, between?: () => Promise<void>) => {
        const client = agentauditConnector.open(contextFor(source, http, config));
        const ids: string[] = [];
        const cursors: JsonValue[] = [];
        for await (const page of dataset.pages(client, null, { since: null, now: new Date() })) {
          ids.push(...page.records.map((r) => (r as { id: string }).id));
          if (page.next) cursors.push(page.next);
          if (between && cursors.length === 1) await between();
        }
        return { ids, cursors };
      };
      const original = source.state.logs.logs.map((log) => log.id);
      // Seven new logs after the first page: the next page starts seven entries lower than planned.
      const { ids, cursors } = await walk({ page_size: 30 }, async () => {
        for (let n = 0; n < 7; n++) await postJson(`${source.apiBaseUrl}/audit-logs`, { action: 'late_arrival' }, { 'x-api-key': source.apiKey });
      });
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(expect.arrayContaining(original));
      expect(cursors[0]).toMatchObject({ offset: 30, collected: 30 });

      const capped = await walk({ page_size: 20, max_audit_logs: 50 });
      expect(capped.ids).toHaveLength(50);
      expect(capped.cursors.at(-1)).toMatchObject({ collected: 40 });
    } finally {
      await source.close();
    }
  });

  it('delivers one evidence item as an audit log, throws retryable errors for 429/5xx and rejects a refused one', async () => {
    const session = openDestination(sim, http);
    const item: DeliveryItem = {
      evidence_id: 'ev_1', rule_id: 'okta-admin-mfa', control_ref: 'Access Control', question_match: 'MFA admin', question_id: null,
      title: 'Okta: MFA for administrators (3 of 4)', source: 'Evidence Hub: okta.users', result: 'fail', payload: { administrators: { total: 4 } },
      payload_sha256: 'a'.repeat(64), collected_at: '2025-06-01T02:00:00.000Z', allow_multiple: false, idempotency_key: 'evidence-hub:run_1:okta-admin-mfa',
    };
    const outcome = await agentauditDestination.deliver(session, item, { agent_id: 'hub-okta' });
    expect(outcome.status).toBe('delivered');
    const id = outcome.status === 'delivered' ? outcome.destination_ids[0]! : '';
    expect(sim.state.logs.get(id)).toMatchObject({
      action: 'compliance_evidence', agentId: 'hub-okta', prompt: item.title, response: 'fail',
      metadata: { evidenceId: 'ev_1', ruleId: 'okta-admin-mfa', controlRef: 'Access Control', idempotencyKey: item.idempotency_key, payload: { administrators: { total: 4 } } },
    });

    for (const fault of [{ kind: 'rateLimit', retryAfterSeconds: 1 }, { kind: 'status', status: 502 }] as const) {
      sim.faults.inject(fault, 1, { path: '/api/v1/audit-logs' });
      const error = await agentauditDestination.deliver(session, item, {}).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(ConnectorError);
      expect((error as ConnectorError).retryable).toBe(true);
    }
    sim.faults.inject({ kind: 'status', status: 400 }, 1, { path: '/api/v1/audit-logs' });
    expect(await agentauditDestination.deliver(session, item, {})).toMatchObject({ status: 'rejected', http_status: 400, error: expect.stringMatching(/Validation error/) });
  });
});
