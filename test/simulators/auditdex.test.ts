import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startAuditdexSimulator, type AuditdexSimulator, type AuditdexSimulatorOptions } from './auditdex.js';
import { formWith, postMultipart } from './audigyd/multipart-client.js';
import { http, manualClock, postForm, type HttpResult } from './test-http.js';

type Json = Record<string, unknown>;
type Problem = { type: string; title: string; status: number; detail: string; instance: string; error?: string; 'invalid-params'?: { name: string; reason: string }[] };

const running: AuditdexSimulator[] = [];
async function start(options: AuditdexSimulatorOptions = {}): Promise<AuditdexSimulator> {
  const sim = await startAuditdexSimulator(options);
  running.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

async function bearer(sim: AuditdexSimulator, scope = 'evidence:write controls:read reports:read'): Promise<Record<string, string>> {
  const issued = await postForm<{ access_token: string }>(sim.tokenUrl, { grant_type: 'client_credentials', client_id: sim.clientId, client_secret: sim.clientSecret, scope });
  expect(issued.status).toBe(200);
  return { authorization: `Bearer ${issued.body.access_token}` };
}

/** The seed's example submission: control_id, description, file. */
function submit(sim: AuditdexSimulator, auth: Record<string, string>, content: string | Uint8Array = '{"reviewed": 42}', engagement = 'eng_xyz789', fields: Record<string, string> = { control_id: 'ctrl_abc123', description: 'Q1 access review results' }) {
  return postMultipart<Json>(`${sim.apiBaseUrl}/engagements/${engagement}/evidence`, formWith(fields, { name: 'access-review.json', type: 'application/json', content }), auth);
}

function expectProblem(result: HttpResult<unknown>, status: number, type: string): Problem {
  expect(result.status).toBe(status);
  expect(result.headers['content-type']).toBe('application/problem+json');
  const body = result.body as Problem;
  expect(body).toMatchObject({ type: `https://api.augixsys.com/errors/${type}`, status, title: expect.any(String), detail: expect.any(String), instance: expect.any(String) });
  return body;
}

describe('AUDITDEX OAuth 2.0 client credentials', () => {
  it('issues 60-minute Bearer tokens shaped as the seed shows, and counts them', async () => {
    const sim = await start();
    const issued = await postForm<Json>(sim.tokenUrl, { grant_type: 'client_credentials', client_id: sim.clientId, client_secret: sim.clientSecret, scope: 'evidence:write controls:read reports:read' });
    expect(issued.body).toEqual({ access_token: expect.stringMatching(/^eyJhbGciOiJSUzI1NiIs/), token_type: 'Bearer', expires_in: 3600, scope: 'evidence:write controls:read reports:read' });
    expect(issued.headers['cache-control']).toBe('no-store');
    const defaultScope = await postForm<Json>(sim.tokenUrl, { grant_type: 'client_credentials', client_id: sim.clientId, client_secret: sim.clientSecret });
    expect(defaultScope.body['scope']).toBe('evidence:write controls:read reports:read');
    expect(sim.tokensIssued).toBe(2);
  });

  it('refuses bad clients, grants and scopes as RFC 7807 problems carrying the OAuth error', async () => {
    const sim = await start({ clients: [{ clientId: 'reader', clientSecret: 's', scopes: ['controls:read'] }] });
    const wrongSecret = await postForm(sim.tokenUrl, { grant_type: 'client_credentials', client_id: 'reader', client_secret: 'nope' });
    expect(expectProblem(wrongSecret, 401, 'invalid-client')).toMatchObject({ error: 'invalid_client', title: 'Invalid Client', instance: '/oauth/token' });
    const grant = await postForm(sim.tokenUrl, { grant_type: 'password', client_id: 'reader', client_secret: 's' });
    expect(expectProblem(grant, 400, 'unsupported-grant-type').error).toBe('unsupported_grant_type');
    const scope = await postForm(sim.tokenUrl, { grant_type: 'client_credentials', client_id: 'reader', client_secret: 's', scope: 'evidence:write' });
    expect(expectProblem(scope, 400, 'invalid-scope').error).toBe('invalid_scope');
    expect(sim.tokensIssued).toBe(0);
  });

  it('answers 401 once a token expired, until the client fetches a new one', async () => {
    const clock = manualClock();
    const sim = await start({ clock: clock.now, tokenTtlSeconds: 60 });
    const auth = await bearer(sim);
    expect((await http(`${sim.apiBaseUrl}/engagements`, { headers: auth })).status).toBe(200);
    clock.advance(59_999);
    expect((await submit(sim, auth)).status).toBe(201);
    clock.advance(1);
    const expired = await submit(sim, auth);
    expect(expectProblem(expired, 401, 'invalid-token').detail).toMatch(/expired/);
    expect(expired.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    expect((await submit(sim, await bearer(sim))).status).toBe(201);
    expect(sim.tokensIssued).toBe(2);
    expect(sim.state.evidence).toHaveLength(2);
  });

  it('answers 401 without a token and 403 without the scope an endpoint needs', async () => {
    const sim = await start();
    expectProblem(await http(`${sim.apiBaseUrl}/engagements`), 401, 'invalid-token');
    expectProblem(await http(`${sim.apiBaseUrl}/engagements`, { headers: { authorization: 'Bearer made-up' } }), 401, 'invalid-token');
    const readOnly = await bearer(sim, 'controls:read');
    const forbidden = await submit(sim, readOnly);
    expect(expectProblem(forbidden, 403, 'insufficient-scope').detail).toMatch(/evidence:write/);
    expect((await http(`${sim.apiBaseUrl}/engagements/eng_xyz789/controls/ctrl_abc123`, { headers: readOnly })).status).toBe(200);
  });
});

describe('AUDITDEX evidence submission', () => {
  it('stores the file and answers its SHA-256, for binary content too', async () => {
    const clock = manualClock();
    const sim = await start({ clock: clock.now });
    const auth = await bearer(sim);
    const content = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));
    const answer = await submit(sim, auth, content);
    const sha256 = createHash('sha256').update(content).digest('hex');
    expect(answer).toMatchObject({ status: 201, body: { evidence_id: 'evd_000001', engagement_id: 'eng_xyz789', control_id: 'ctrl_abc123', description: 'Q1 access review results', file_name: 'access-review.json', size_bytes: 70_000, sha256, submitted_at: new Date(clock.now()).toISOString() } });
    const item = sim.state.evidence[0];
    expect(item).toMatchObject({ engagementId: 'eng_xyz789', controlId: 'ctrl_abc123', reportedSha256: sha256, fields: { control_id: 'ctrl_abc123', description: 'Q1 access review results' }, file: { size: 70_000, sha256, contentType: 'application/json' } });
    expect(item?.file.content?.equals(content)).toBe(true);

    const control = await http<{ testing_status: string; evidence: Json[] }>(`${sim.apiBaseUrl}/engagements/eng_xyz789/controls/ctrl_abc123`, { headers: auth });
    expect(control.body.testing_status).toBe('not_tested');
    expect(control.body.evidence).toEqual([answer.body]);
  });

  it('answers a wrong hash when told to, once', async () => {
    const sim = await start();
    const auth = await bearer(sim);
    sim.reportWrongHash();
    const wrong = await submit(sim, auth, 'abc');
    const right = createHash('sha256').update('abc').digest('hex');
    expect(wrong.body['sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(wrong.body['sha256']).not.toBe(right);
    expect(sim.state.evidence[0]).toMatchObject({ reportedSha256: wrong.body['sha256'], file: { sha256: right } });
    expect((await submit(sim, auth, 'abc')).body['sha256']).toBe(right);
  });

  it('answers the seed’s 404 for unknown or inaccessible engagements', async () => {
    const sim = await start({ engagements: [{ id: 'eng_private', name: 'Private', controls: [{ id: 'ctrl_abc123', name: 'x' }], clientIds: ['someone-else'] }] });
    const auth = await bearer(sim);
    const missing = await submit(sim, auth, 'a', 'eng_xyz789');
    expect(expectProblem(missing, 404, 'not-found')).toEqual({
      type: 'https://api.augixsys.com/errors/not-found',
      title: 'Resource Not Found',
      status: 404,
      detail: 'Engagement eng_xyz789 not found or access denied',
      instance: '/engagements/eng_xyz789/evidence',
    });
    expectProblem(await submit(sim, auth, 'a', 'eng_private'), 404, 'not-found');
    expect((await http<{ total: number }>(`${sim.apiBaseUrl}/engagements`, { headers: auth })).body.total).toBe(0);
    expectProblem(await http(`${sim.apiBaseUrl}/engagements/eng_private/controls/ctrl_abc123`, { headers: auth }), 404, 'not-found');
  });

  it('answers 400 with invalid-params for a missing or foreign control_id and a missing file', async () => {
    const sim = await start();
    const auth = await bearer(sim);
    const noControl = await submit(sim, auth, 'a', 'eng_xyz789', { description: 'x' });
    expect(expectProblem(noControl, 400, 'validation-error')['invalid-params']).toEqual([{ name: 'control_id', reason: 'is required' }]);
    const foreign = await submit(sim, auth, 'a', 'eng_xyz789', { control_id: 'ctrl_nope' });
    expect(expectProblem(foreign, 400, 'validation-error')['invalid-params']?.[0]?.name).toBe('control_id');
    const noFile = await postMultipart(`${sim.apiBaseUrl}/engagements/eng_xyz789/evidence`, formWith({ control_id: 'ctrl_abc123' }), auth);
    expect(expectProblem(noFile, 400, 'validation-error')['invalid-params']).toEqual([{ name: 'file', reason: 'is required' }]);
    const json = await http(`${sim.apiBaseUrl}/engagements/eng_xyz789/evidence`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
    expectProblem(json, 400, 'validation-error');
    expect(sim.state.evidence).toHaveLength(0);
  });

  it('refuses evidence for a completed engagement with 409', async () => {
    const sim = await start();
    const auth = await bearer(sim);
    expect(expectProblem(await submit(sim, auth, 'a', 'eng_done001'), 409, 'engagement-completed').detail).toMatch(/completed/);
    sim.setEngagementStatus('eng_xyz789', 'completed');
    expectProblem(await submit(sim, auth), 409, 'engagement-completed');
    expect(sim.state.evidence).toHaveLength(0);
  });

  it('lists engagements with pagination', async () => {
    const sim = await start();
    const auth = await bearer(sim);
    const page = await http<Json>(`${sim.apiBaseUrl}/engagements?per_page=1&page=2`, { headers: auth });
    expect(page.body).toEqual({ data: [{ id: 'eng_done001', name: 'FY2024 SOC 2 Type II', status: 'completed' }], page: 2, per_page: 1, total: 2 });
    expectProblem(await http(`${sim.apiBaseUrl}/engagements?per_page=1000`, { headers: auth }), 400, 'validation-error');
  });
});

describe('AUDITDEX rate limits and faults', () => {
  it('sends X-RateLimit-* on every response and a 429 problem past the limit', async () => {
    const clock = manualClock();
    const sim = await start({ clock: clock.now, rateLimit: { limit: 2, windowMs: 60_000 } });
    const auth = await bearer(sim);
    const resetEpoch = String(Math.ceil((clock.now() - (clock.now() % 60_000) + 60_000) / 1000));
    const first = await http(`${sim.apiBaseUrl}/engagements`, { headers: auth });
    expect(first.headers).toMatchObject({ 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': resetEpoch });
    const unauthenticated = await http(`${sim.apiBaseUrl}/engagements`);
    expect(unauthenticated).toMatchObject({ status: 401, headers: { 'x-ratelimit-remaining': '0' } });
    const limited = await submit(sim, auth);
    expectProblem(limited, 429, 'rate-limited');
    expect(limited.headers).toMatchObject({ 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': resetEpoch });
    expect(limited.headers['retry-after']).toBeUndefined();
    clock.advance(60_000);
    expect((await submit(sim, auth)).status).toBe(201);
    expect(sim.throttling.requestsBeforeReset).toBe(0);
  });

  it('defaults to the Standard plan, and has no limit or headers on Unlimited', async () => {
    const standard = await start();
    expect((await http(`${standard.apiBaseUrl}/engagements`, { headers: await bearer(standard) })).headers['x-ratelimit-limit']).toBe('60');
    const unlimited = await start({ rateLimit: false });
    expect((await http(`${unlimited.apiBaseUrl}/engagements`, { headers: await bearer(unlimited) })).headers['x-ratelimit-limit']).toBeUndefined();
  });

  it('renders injected faults as problems', async () => {
    const sim = await start();
    const auth = await bearer(sim);
    sim.faults.inject({ kind: 'status', status: 503 }, 1, { path: '/v1/engagements', method: 'POST' });
    const failed = await submit(sim, auth);
    expect(expectProblem(failed, 503, 'server-error').instance).toBe('/engagements/eng_xyz789/evidence');
    expect((await submit(sim, auth)).status).toBe(201);
  });
});
