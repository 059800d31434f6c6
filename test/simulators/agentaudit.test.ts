import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { AGENTAUDIT_MAX_BATCH, startAgentAuditSimulator, type AgentAuditAlert, type AgentAuditLog, type AgentAuditSimulator, type AgentAuditSimulatorOptions } from './agentaudit.js';
import { http, manualClock, postJson } from './test-http.js';

const running: AgentAuditSimulator[] = [];
async function start(options: AgentAuditSimulatorOptions = {}): Promise<AgentAuditSimulator> {
  const sim = await startAgentAuditSimulator(options);
  running.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

const key = (sim: AgentAuditSimulator) => ({ 'x-api-key': sim.apiKey });

async function login(sim: AgentAuditSimulator): Promise<string> {
  const response = await postJson<{ accessToken: string; organization: { plan: string } }>(`${sim.apiBaseUrl}/auth/login`, { email: sim.email, password: sim.password });
  expect(response.status).toBe(200);
  expect(response.body.organization.plan).toBe('free');
  return response.body.accessToken;
}

describe('AgentAudit audit-log ingest', () => {
  it('logs a single event with the seed’s fields and answers the created log', async () => {
    const sim = await start();
    const sent = { action: 'guardrail_check', agentId: 'writer-agent-1', traceId: 'run-1749300000000', parentSpanId: 'log_abc123', prompt: 'Draft email', response: 'OK', metadata: { rule: 'pii_detection', latency_ms: 42 }, spanId: 'not-a-seed-field' };
    const created = await postJson<AgentAuditLog>(`${sim.apiBaseUrl}/audit-logs`, sent, key(sim));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: expect.stringMatching(/^log_/), action: 'guardrail_check', traceId: 'run-1749300000000', parentSpanId: 'log_abc123', metadata: { rule: 'pii_detection' } });
    expect(created.body).not.toHaveProperty('spanId');
    expect(sim.received).toEqual([{ id: created.body.id, via: 'single', request: 1, body: sent }]);
  });

  it('refuses what the seed calls a validation error, and missing or dashboard-only credentials', async () => {
    const sim = await start();
    const url = `${sim.apiBaseUrl}/audit-logs`;
    expect(await postJson(url, { prompt: 'no action' }, key(sim))).toMatchObject({ status: 400, body: { error: expect.stringMatching(/action is required/), status: 400 } });
    expect(await postJson(url, { action: 'x', metadata: 'text' }, key(sim))).toMatchObject({ status: 400, body: { status: 400 } });
    expect(await postJson(url, { action: 'x' })).toMatchObject({ status: 401, body: { error: expect.stringMatching(/X-API-Key/), status: 401 } });
    expect((await postJson(url, { action: 'x' }, { 'x-api-key': 'aa_wrong' })).status).toBe(401);
    // "POST /api/v1/audit-logs Auth: API Key": a dashboard JWT does not log.
    expect((await postJson(url, { action: 'x' }, { authorization: `Bearer ${await login(sim)}` })).status).toBe(401);
    expect(sim.received).toHaveLength(0);
  });

  it('takes batches of up to 50, answering the created ids in input order, and refuses 51', async () => {
    const sim = await start();
    const entries = Array.from({ length: AGENTAUDIT_MAX_BATCH }, (_, i) => ({ action: 'tool_use', traceId: 'run-batch', metadata: { step: i } }));
    const ok = await postJson<string[]>(`${sim.apiBaseUrl}/audit-logs/batch`, entries, key(sim));
    expect(ok.status).toBe(201);
    expect(ok.body).toHaveLength(50);
    expect(ok.body.map((id) => sim.state.logs.get(id)?.metadata?.step)).toEqual(entries.map((_, i) => i));

    const tooMany = await postJson<{ error: string; status: number }>(`${sim.apiBaseUrl}/audit-logs/batch`, [...entries, { action: 'one_more' }], key(sim));
    expect(tooMany).toMatchObject({ status: 400, body: { status: 400, error: expect.stringMatching(/at most 50/) } });
    const oneBad = await postJson(`${sim.apiBaseUrl}/audit-logs/batch`, [{ action: 'ok' }, { prompt: 'no action' }], key(sim));
    expect(oneBad).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^Entry 1: action is required/) } });
    expect((await postJson(`${sim.apiBaseUrl}/audit-logs/batch`, { action: 'not an array' }, key(sim))).status).toBe(400);
    expect(sim.state.batches.map((b) => [b.size, b.status])).toEqual([[50, 201], [51, 400], [2, 400], [0, 400]]);
    expect(sim.received).toHaveLength(50);
  });

  it('uses the returned ids as parentSpanId to build a trace, readable by trace and by chain', async () => {
    const sim = await start();
    const [root] = (await postJson<string[]>(`${sim.apiBaseUrl}/audit-logs/batch`, [{ action: 'llm_start', traceId: 'run-1' }], key(sim))).body;
    const [tool] = (await postJson<string[]>(`${sim.apiBaseUrl}/audit-logs/batch`, [{ action: 'tool_use', traceId: 'run-1', parentSpanId: root }], key(sim))).body;
    const leaf = (await postJson<AgentAuditLog>(`${sim.apiBaseUrl}/audit-logs`, { action: 'llm_end', traceId: 'run-1', parentSpanId: tool }, key(sim))).body;
    const trace = await http<{ traceId: string; logs: AgentAuditLog[] }>(`${sim.apiBaseUrl}/audit-logs/trace/run-1`, { headers: key(sim) });
    expect(trace.body.logs.map((l) => l.action)).toEqual(['llm_start', 'tool_use', 'llm_end']);
    const chain = await http<{ chain: AgentAuditLog[] }>(`${sim.apiBaseUrl}/audit-logs/${leaf.id}/chain`, { headers: key(sim) });
    expect(chain.body.chain.map((l) => l.id)).toEqual([leaf.id, tool, root]);
  });
});

describe('AgentAudit reads', () => {
  it('lists logs newest first with limit, offset and the seed’s filters, with a key or a JWT', async () => {
    const sim = await start({ logs: 30 });
    const first = await http<{ logs: AgentAuditLog[]; total: number; limit: number; offset: number }>(`${sim.apiBaseUrl}/audit-logs?limit=10`, { headers: key(sim) });
    expect(first.body).toMatchObject({ total: 30, limit: 10, offset: 0 });
    const ids: string[] = [];
    for (let offset = 0; offset < 30; offset += 10) {
      const page = await http<{ logs: AgentAuditLog[] }>(`${sim.apiBaseUrl}/audit-logs?limit=10&offset=${offset}`, { headers: { authorization: `Bearer ${await login(sim)}` } });
      ids.push(...page.body.logs.map((l) => l.id));
    }
    expect(new Set(ids).size).toBe(30);
    const created = first.body.logs.map((l) => l.createdAt);
    expect(created).toEqual([...created].sort().reverse());
    const tools = await http<{ logs: AgentAuditLog[]; total: number }>(`${sim.apiBaseUrl}/audit-logs?action=tool_use&agentId=support-bot`, { headers: key(sim) });
    expect(tools.body.total).toBeGreaterThan(0);
    expect(tools.body.logs.every((l) => l.action === 'tool_use' && l.agentId === 'support-bot')).toBe(true);
    expect((await http(`${sim.apiBaseUrl}/audit-logs?limit=ten`, { headers: key(sim) })).status).toBe(400);
  });

  it('lists alerts, filters unresolved ones and resolves one', async () => {
    const sim = await start({ alerts: { critical: 1, high: 2, medium: 0, low: 1, resolved: 3 } });
    const unresolved = await http<{ alerts: AgentAuditAlert[] }>(`${sim.apiBaseUrl}/alerts?resolved=false`, { headers: key(sim) });
    expect(unresolved.body.alerts.map((a) => a.severity).sort()).toEqual(['critical', 'high', 'high', 'low']);
    expect(unresolved.body.alerts.every((a) => !a.resolved && a.auditLogId !== null)).toBe(true);
    expect((await http<{ alerts: AgentAuditAlert[] }>(`${sim.apiBaseUrl}/alerts?resolved=true`, { headers: key(sim) })).body.alerts).toHaveLength(3);
    expect((await http<{ alerts: AgentAuditAlert[] }>(`${sim.apiBaseUrl}/alerts`, { headers: key(sim) })).body.alerts).toHaveLength(7);

    const critical = unresolved.body.alerts.find((a) => a.severity === 'critical')!;
    const patched = await request(`${sim.apiBaseUrl}/alerts/${critical.id}/resolve`, { method: 'PATCH', headers: key(sim) });
    expect(patched.statusCode).toBe(200);
    expect(await patched.body.json()).toMatchObject({ id: critical.id, resolved: true, resolvedAt: expect.any(String) });
    expect(sim.truth().alerts).toMatchObject({ unresolved: 3, unresolvedBySeverity: { critical: 0, high: 2, medium: 0, low: 1 } });
  });

  it('raises alerts from incoming logs as the seed’s pii_detection example', async () => {
    const sim = await start({ alerts: { critical: 0, high: 0, medium: 0, low: 0, resolved: 0 } });
    const log = (await postJson<AgentAuditLog>(`${sim.apiBaseUrl}/audit-logs`, { action: 'guardrail_check', prompt: 'Draft email containing SSN: 123-45-6789', response: 'BLOCKED: PII detected' }, key(sim))).body;
    const alerts = (await http<{ alerts: AgentAuditAlert[] }>(`${sim.apiBaseUrl}/alerts?resolved=false`, { headers: key(sim) })).body.alerts;
    expect(alerts).toEqual([expect.objectContaining({ ruleName: 'pii_detection', severity: 'high', auditLogId: log.id, resolved: false })]);
  });

  it('can keep alerts for dashboard JWTs only, and expires JWTs', async () => {
    const clock = manualClock();
    const sim = await start({ alertsAuth: 'jwt', jwtTtlSeconds: 60, clock: clock.now });
    expect((await http(`${sim.apiBaseUrl}/alerts`, { headers: key(sim) })).status).toBe(401);
    const token = await login(sim);
    expect((await http(`${sim.apiBaseUrl}/alerts`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    clock.advance(61_000);
    expect(await http(`${sim.apiBaseUrl}/alerts`, { headers: { authorization: `Bearer ${token}` } })).toMatchObject({ status: 401, body: { error: 'Invalid or expired token' } });
    expect((await postJson(`${sim.apiBaseUrl}/auth/login`, { email: sim.email, password: 'wrong' })).status).toBe(401);
  });
});

describe('AgentAudit throttling and faults', () => {
  it('answers the seed’s 429 without headers past the limit, and injected faults in the error shape', async () => {
    const clock = manualClock();
    const sim = await start({ clock: clock.now, rateLimit: { limit: 2, windowMs: 1000 } });
    expect((await http(`${sim.apiBaseUrl}/alerts`, { headers: key(sim) })).status).toBe(200);
    expect((await http(`${sim.apiBaseUrl}/alerts`, { headers: key(sim) })).status).toBe(200);
    const limited = await http(`${sim.apiBaseUrl}/alerts`, { headers: key(sim) });
    expect(limited).toMatchObject({ status: 429, body: { error: 'Rate limit exceeded — back off and retry', status: 429 } });
    expect(limited.headers['retry-after']).toBeUndefined();
    expect(sim.throttling.events).toHaveLength(1);
    clock.advance(1000);
    sim.faults.inject({ kind: 'status', status: 503 }, 1, { path: '/api/v1/audit-logs/batch' });
    expect(await postJson(`${sim.apiBaseUrl}/audit-logs/batch`, [{ action: 'x' }], key(sim))).toMatchObject({ status: 503, body: { status: 503 } });
    expect(sim.received).toHaveLength(0);
  });
});
