import { afterEach, describe, expect, it } from 'vitest';
import { startAuditComplySimulator, type AuditComplySimulator, type AuditComplySimulatorOptions } from './auditcomply.js';
import { http, manualClock, postJson } from './test-http.js';

type Page<T = Record<string, unknown>> = { count: number; next: string | null; previous: string | null; results: T[] };

const running: AuditComplySimulator[] = [];
async function start(options: AuditComplySimulatorOptions = {}): Promise<AuditComplySimulator> {
  const sim = await startAuditComplySimulator(options);
  running.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

async function login(sim: AuditComplySimulator): Promise<string> {
  const response = await postJson<{ token: string }>(`${sim.apiBaseUrl}/api-token-auth/`, { username: sim.username, password: sim.password });
  expect(response.status).toBe(200);
  return response.body.token;
}

function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

async function walk<T>(url: string, token: string): Promise<T[]> {
  const results: T[] = [];
  let next: string | null = url;
  while (next) {
    const page: Awaited<ReturnType<typeof http<Page<T>>>> = await http<Page<T>>(next, { headers: { authorization: `JWT ${token}` } });
    expect(page.status).toBe(200);
    results.push(...page.body.results);
    next = page.body.next;
  }
  return results;
}

describe('AuditComply JWT authentication', () => {
  it('exchanges username and password for a drf-jwt token', async () => {
    const sim = await start();
    const token = await login(sim);
    expect(payloadOf(token)).toMatchObject({ user_id: 1, username: sim.username, exp: expect.any(Number), orig_iat: expect.any(Number) });
    const bad = await postJson(`${sim.apiBaseUrl}/api-token-auth/`, { username: sim.username, password: 'wrong' });
    expect(bad).toMatchObject({ status: 400, body: { non_field_errors: ['Unable to log in with provided credentials.'] } });
    const missing = await postJson(`${sim.apiBaseUrl}/api-token-auth/`, { username: '' });
    expect(missing.body).toEqual({ username: ['This field may not be blank.'], password: ['This field is required.'] });
    expect(sim.tokensIssued).toBe(1);
  });

  it('requires the JWT prefix', async () => {
    const sim = await start();
    const token = await login(sim);
    for (const authorization of [undefined, `Bearer ${token}`]) {
      const response = await http(`${sim.apiBaseUrl}/audits/`, { headers: authorization ? { authorization } : {} });
      expect(response).toMatchObject({ status: 401, body: { detail: 'Authentication credentials were not provided.' } });
      expect(response.headers['www-authenticate']).toBe('JWT realm="api"');
    }
    const tampered = `${token.slice(0, -4)}AAAA`;
    expect((await http(`${sim.apiBaseUrl}/audits/`, { headers: { authorization: `JWT ${tampered}` } })).body).toEqual({ detail: 'Error decoding signature.' });
  });

  it('expires tokens, refreshes valid ones within the orig_iat window, and refuses the rest', async () => {
    const clock = manualClock();
    const sim = await start({ clock: clock.now, tokenTtlSeconds: 60, refreshWindowSeconds: 150 });
    const first = await login(sim);
    clock.advance(50_000);
    const refreshed = await postJson<{ token: string }>(`${sim.apiBaseUrl}/api-token-refresh/`, { token: first });
    expect(refreshed.status).toBe(200);
    expect(payloadOf(refreshed.body.token)['orig_iat']).toBe(payloadOf(first)['orig_iat']);
    expect(payloadOf(refreshed.body.token)['exp']).toBe((payloadOf(first)['exp'] as number) + 50);

    clock.advance(15_000); // the first token has expired, the refreshed one has not
    const expired = await http(`${sim.apiBaseUrl}/audits/`, { headers: { authorization: `JWT ${first}` } });
    expect(expired).toMatchObject({ status: 401, body: { detail: 'Signature has expired.' } });
    expect((await http(`${sim.apiBaseUrl}/audits/`, { headers: { authorization: `JWT ${refreshed.body.token}` } })).status).toBe(200);
    expect((await postJson(`${sim.apiBaseUrl}/api-token-refresh/`, { token: first })).body).toEqual({ non_field_errors: ['Signature has expired.'] });

    clock.advance(40_000); // 105 s after orig_iat: still refreshable
    const again = await postJson<{ token: string }>(`${sim.apiBaseUrl}/api-token-refresh/`, { token: refreshed.body.token });
    expect(again.status).toBe(200);
    clock.advance(50_000); // 155 s after orig_iat: beyond the refresh window
    expect((await postJson(`${sim.apiBaseUrl}/api-token-refresh/`, { token: again.body.token })).body).toEqual({ non_field_errors: ['Refresh has expired.'] });
    expect(sim.tokensIssued).toBe(3);
  });
});

describe('AuditComply lists', () => {
  it('walks audits, nonconformances and tasks exactly once with DRF pagination', async () => {
    const sim = await start({ counts: { audits: 53, nonconformances: 71, tasks: 12 } });
    const token = await login(sim);
    const audits = await walk<{ id: number }>(`${sim.apiBaseUrl}/audits/?page_size=10`, token);
    const ncs = await walk<{ nonconformance_id: number }>(`${sim.apiBaseUrl}/nonconformances/?page_size=20`, token);
    const tasks = await walk<{ task_id: number }>(`${sim.apiBaseUrl}/tasks/`, token);
    expect(new Set(audits.map((a) => a.id)).size).toBe(53);
    expect(new Set(ncs.map((n) => n.nonconformance_id)).size).toBe(71);
    expect(new Set(tasks.map((t) => t.task_id)).size).toBe(12);
    expect(audits).toHaveLength(53);
    expect(ncs).toHaveLength(71);
  });

  it('links pages like DRF and 404s an invalid page', async () => {
    const sim = await start({ counts: { audits: 30 }, maxPageSize: 20 });
    const headers = { authorization: `JWT ${await login(sim)}` };
    const second = await http<Page>(`${sim.apiBaseUrl}/audits/?state=CLOSED&page=2&page_size=5`, { headers });
    expect(second.body.previous).toBe(`${sim.url}/audits/?page_size=5&state=CLOSED`);
    if (second.body.count > 10) expect(second.body.next).toBe(`${sim.url}/audits/?page=3&page_size=5&state=CLOSED`);
    const capped = await http<Page>(`${sim.apiBaseUrl}/audits/?page_size=500`, { headers });
    expect(capped.body.results).toHaveLength(20);
    expect(await http(`${sim.apiBaseUrl}/audits/?page=99`, { headers })).toMatchObject({ status: 404, body: { detail: 'Invalid page.' } });
  });

  it('renders the seed’s fields and filters by the seed’s parameters, agreeing with truth()', async () => {
    const sim = await start();
    const token = await login(sim);
    const truth = sim.truth();
    const closed = await walk<Record<string, unknown>>(`${sim.apiBaseUrl}/audits/?state=CLOSED`, token);
    expect(closed).toHaveLength(truth.audits.byState.CLOSED);
    expect(Object.keys(closed[0] ?? {})).toEqual(expect.arrayContaining(['name', 'id', 'status', 'state', 'compliant', 'completed_at', 'asset_id', 'asset_name', 'auditor', 'nc_count', 'audit_result', 'observations']));
    const open = await walk<Record<string, unknown>>(`${sim.apiBaseUrl}/nonconformances/?status__in=DRAFT,OPEN,INPROGRESS,INREVIEW,OVERDUE,REOPENED`, token);
    expect(open).toHaveLength(truth.nonconformances.open);
    expect(Object.keys(open[0] ?? {})).toEqual(expect.arrayContaining(['nonconformance_id', 'status', 'overdue', 'non_conformance', 'complete_by', 'audit_id', 'updated_at']));
    expect(open.filter((nc) => nc['overdue'] === true)).toHaveLength(truth.nonconformances.overdue);
    const all = await walk<{ updated_at: string }>(`${sim.apiBaseUrl}/tasks/`, token);
    const since = [...all].map((t) => t.updated_at).sort()[20] as string;
    const recent = await walk(`${sim.apiBaseUrl}/tasks/?last_updated_gte=${encodeURIComponent(since)}`, token);
    expect(recent).toHaveLength(all.filter((t) => t.updated_at >= since).length);
    expect(await http(`${sim.apiBaseUrl}/tasks/?last_updated_gte=yesterday`, { headers: { authorization: `JWT ${token}` } })).toMatchObject({ status: 400, body: { last_updated_gte: ['Enter a valid date/time.'] } });
  });

  it('retrieves one record, redirects a missing trailing slash and honours basePath', async () => {
    const sim = await start({ basePath: '/api/v1' });
    expect(sim.apiBaseUrl).toBe(`${sim.url}/api/v1`);
    const headers = { authorization: `JWT ${await login(sim)}` };
    const audit = sim.state.data.audits[3];
    expect((await http(`${sim.apiBaseUrl}/audits/${audit?.id}/`, { headers })).body).toEqual(audit);
    expect((await http(`${sim.apiBaseUrl}/tasks/1/`, { headers })).status).toBe(404);
    const redirect = await http(`${sim.apiBaseUrl}/audits?page=2`, { headers });
    expect(redirect.status).toBe(301);
    expect(redirect.headers['location']).toBe(`${sim.apiBaseUrl}/audits/?page=2`);
    const outside = await http<string>(`${sim.url}/audits/`, { headers });
    expect(outside.status).toBe(404);
    expect(outside.body).toContain('<h1>Not Found</h1>');
  });
});

describe('AuditComply throttling and faults', () => {
  it('throttles like DRF and records requests that ignore Retry-After', async () => {
    const clock = manualClock();
    const sim = await start({ clock: clock.now, rateLimit: { limit: 2, windowMs: 2000 } });
    const headers = { authorization: `JWT ${await login(sim)}` }; // the login is the window's first request
    await http(`${sim.apiBaseUrl}/audits/`, { headers });
    const throttled = await http(`${sim.apiBaseUrl}/audits/`, { headers });
    expect(throttled).toMatchObject({ status: 429, body: { detail: 'Request was throttled. Expected available in 2 seconds.' } });
    expect(throttled.headers['retry-after']).toBe('2');
    clock.advance(1000);
    expect((await http(`${sim.apiBaseUrl}/audits/`, { headers })).status).toBe(429); // too early
    clock.advance(1000);
    expect((await http(`${sim.apiBaseUrl}/audits/`, { headers })).status).toBe(200);
    expect(sim.throttling.events.map((event) => event.requestsBeforeReset)).toEqual([1, 0]);
    expect(sim.throttling.requestsBeforeReset).toBe(1);
  });

  it('answers an injected 500 with Django’s HTML page and a 401 in DRF’s shape', async () => {
    const sim = await start();
    const headers = { authorization: `JWT ${await login(sim)}` };
    sim.faults.inject({ kind: 'status', status: 500 });
    sim.faults.inject({ kind: 'status', status: 401 });
    const crash = await http<string>(`${sim.apiBaseUrl}/audits/`, { headers });
    expect(crash.status).toBe(500);
    expect(crash.headers['content-type']).toBe('text/html');
    expect(crash.body).toContain('Server Error (500)');
    expect(await http(`${sim.apiBaseUrl}/audits/`, { headers })).toMatchObject({ status: 401, body: { detail: 'Signature has expired.' } });
  });
});
