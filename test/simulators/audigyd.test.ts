import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startAudigydSimulator, type AudigydSimulator, type AudigydSimulatorOptions } from './audigyd.js';
import { formWith, generatedFile, postGeneratedUpload, postMultipart } from './audigyd/multipart-client.js';
import { http, manualClock, postJson } from './test-http.js';

type Json = Record<string, unknown>;
type PushAnswer = { data: { matched: number; evidence: Json[] } };

const running: AudigydSimulator[] = [];
async function start(options: AudigydSimulatorOptions = {}): Promise<AudigydSimulator> {
  const sim = await startAudigydSimulator(options);
  running.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

const SOC2 = 'asm_soc2_2025';
const pushUrl = (sim: AudigydSimulator, assessment = SOC2) => `${sim.url}/api/v1/assessments/${assessment}/evidence/push`;
const writeUrl = (sim: AudigydSimulator, question: string, assessment = SOC2) => `${sim.url}/api/v1/assessments/${assessment}/questions/${question}/evidence`;
const key = (sim: AudigydSimulator) => ({ 'x-api-key': sim.apiKey });

/** The seed's Power Automate example. */
const oktaPush = { control_ref: 'Access Control', question_match: 'MFA admin', title: 'Okta 2025-01-15T12:00:00Z', source: 'okta', result: 'pass', payload: { admins: 4, withoutMfa: 0 } };

describe('AUDIGYD push/match', () => {
  it('attaches to the single matching question (201) and records the item', async () => {
    const clock = manualClock();
    const sim = await start({ clock: clock.now });
    const answer = await postJson<PushAnswer>(pushUrl(sim), { ...oktaPush, collected_at: '2025-01-15T12:00:00Z' }, key(sim));
    expect(answer.status).toBe(201);
    expect(answer.body.data).toMatchObject({
      matched: 1,
      evidence: [{ evidence_id: 'ev_000001', question_id: 'q_ac_mfa_admin', control_ref: 'Access Control', source: 'okta', result: 'pass', duplicate: false }],
    });
    expect(sim.state.evidence).toHaveLength(1);
    expect(sim.state.evidence[0]).toMatchObject({
      assessmentId: SOC2,
      questionId: 'q_ac_mfa_admin',
      via: 'push',
      payload: oktaPush.payload,
      body: { ...oktaPush, collected_at: '2025-01-15T12:00:00Z' },
      receivedAtMs: clock.now(),
    });

    // The seed's Python example: "Logging" / "centralized".
    const logging = await postJson<PushAnswer>(pushUrl(sim), { control_ref: 'Logging', question_match: 'centralized', title: 'CloudTrail status', source: 'aws', result: 'pass', payload: { multi_region: true } }, key(sim));
    expect(logging.status).toBe(201);
    expect(logging.body.data.evidence[0]).toMatchObject({ question_id: 'q_log_central', collected_at: new Date(clock.now()).toISOString() });
  });

  it('answers an ambiguous hint with the candidates and stores nothing, unless allow_multiple', async () => {
    const sim = await start();
    const ambiguous = await postJson<{ error: string; candidates: Json[] }>(pushUrl(sim), { ...oktaPush, question_match: 'mfa' }, key(sim));
    expect(ambiguous.status).toBe(422);
    expect(ambiguous.body.error).toMatch(/2 questions/);
    expect(ambiguous.body.candidates).toEqual([
      { question_id: 'q_ac_mfa_admin', control_ref: 'Access Control', text: 'Is MFA enforced for all admin accounts?' },
      { question_id: 'q_ac_mfa_users', control_ref: 'Access Control', text: 'Is MFA enforced for all user accounts?' },
    ]);
    expect(sim.state.evidence).toHaveLength(0);

    const broadcast = await postJson<PushAnswer>(pushUrl(sim), { ...oktaPush, question_match: 'MFA', allow_multiple: true }, key(sim));
    expect(broadcast.status).toBe(201);
    expect(broadcast.body.data.matched).toBe(2);
    expect(sim.state.evidence.map((item) => item.questionId)).toEqual(['q_ac_mfa_admin', 'q_ac_mfa_users']);
  });

  it('caps a broadcast at 25 questions', async () => {
    const questions = Array.from({ length: 30 }, (_, i) => ({ id: `q_${i}`, text: `Is backup job ${i} verified?` }));
    const sim = await start({ assessments: [{ id: 'asm_backups', name: 'Backups', sections: [{ control_ref: 'Backup', questions }] }] });
    const answer = await postJson<PushAnswer>(pushUrl(sim, 'asm_backups'), { ...oktaPush, control_ref: 'backup', question_match: 'backup verified', allow_multiple: true }, key(sim));
    expect(answer.body.data.matched).toBe(30);
    expect(answer.body.data.evidence).toHaveLength(25);
    expect(sim.state.evidence).toHaveLength(25);
  });

  it('answers 422 when nothing matches, by question or by control_ref', async () => {
    const sim = await start();
    const noQuestion = await postJson<Json>(pushUrl(sim), { ...oktaPush, question_match: 'quantum' }, key(sim));
    expect(noQuestion.status).toBe(422);
    expect(noQuestion.body).not.toHaveProperty('candidates');
    const noControl = await postJson<Json>(pushUrl(sim), { ...oktaPush, control_ref: 'Physical Security' }, key(sim));
    expect(noControl.status).toBe(422);
    expect(sim.state.evidence).toHaveLength(0);
  });

  it('reconciles a re-push with the same title + source + collected_at into the same item', async () => {
    const sim = await start();
    const push = { ...oktaPush, collected_at: '2025-01-15T12:00:00Z' };
    const first = await postJson<PushAnswer>(pushUrl(sim), push, key(sim));
    const again = await postJson<PushAnswer>(pushUrl(sim), { ...push, payload: { retried: true } }, key(sim));
    expect(again.status).toBe(200);
    expect(again.body.data.evidence[0]).toMatchObject({ evidence_id: first.body.data.evidence[0]?.['evidence_id'], duplicate: true });
    expect(sim.state.evidence).toHaveLength(1);
    expect(sim.state.evidence[0]).toMatchObject({ payload: oktaPush.payload, repeats: 1 });
    expect(sim.state.received).toEqual({ push: 2, directWrite: 0, duplicates: 1 });

    const later = await postJson<PushAnswer>(pushUrl(sim), { ...push, collected_at: '2025-01-15T13:00:00Z' }, key(sim));
    expect(later.status).toBe(201);
    expect(sim.state.evidence).toHaveLength(2);
  });

  it('never reconciles pushes without collected_at: each was collected when it arrived', async () => {
    const clock = manualClock();
    const sim = await start({ clock: clock.now });
    expect((await postJson(pushUrl(sim), oktaPush, key(sim))).status).toBe(201);
    expect((await postJson(pushUrl(sim), oktaPush, key(sim))).status).toBe(201);
    expect(sim.state.evidence.map((item) => [item.collectedAt, item.collectedAtSent])).toEqual([
      [new Date(clock.now()).toISOString(), false],
      [new Date(clock.now()).toISOString(), false],
    ]);
  });

  it('validates the body: required fields, result badge, collected_at, JSON, media type', async () => {
    const sim = await start();
    const missing = await postJson<{ error: string }>(pushUrl(sim), { control_ref: 'Logging', payload: {} }, key(sim));
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('question_match is required; title is required; source is required');
    const badge = await postJson<{ error: string }>(pushUrl(sim), { ...oktaPush, result: 'warn', collected_at: 'yesterday' }, key(sim));
    expect(badge.body.error).toBe('result must be one of pass, fail, info; collected_at must be an ISO 8601 date-time');
    const notJson = await http(pushUrl(sim), { method: 'POST', headers: { ...key(sim), 'content-type': 'application/json' }, body: '{"title":' });
    expect(notJson.status).toBe(400);
    const text = await http(pushUrl(sim), { method: 'POST', headers: { ...key(sim), 'content-type': 'text/plain' }, body: 'hello' });
    expect(text.status).toBe(415);
  });

  it('refuses a JSON body over 1 MB with 413', async () => {
    const sim = await start();
    const big = { ...oktaPush, payload: { blob: 'x'.repeat(1024 * 1024) } };
    const answer = await postJson<{ error: string }>(pushUrl(sim), big, key(sim));
    expect(answer.status).toBe(413);
    expect(sim.state.evidence).toHaveLength(0);
    const fits = await postJson(pushUrl(sim), { ...oktaPush, payload: { blob: 'x'.repeat(1024 * 1024 - 300) } }, key(sim));
    expect(fits.status).toBe(201);
  });
});

describe('AUDIGYD direct write', () => {
  it('stores a multipart file with the seed’s curl fields, hashed, and answers its metadata', async () => {
    const sim = await start();
    const content = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 256));
    const form = formWith({ source: 'jamf-export', collected_at: '2025-01-15T12:00:00Z', result: 'pass' }, { name: 'jamf.bin', content });
    const answer = await postMultipart<{ data: Json }>(writeUrl(sim, 'q_ep_encryption'), form, key(sim));
    expect(answer.status).toBe(201);
    const sha256 = createHash('sha256').update(content).digest('hex');
    expect(answer.body.data).toMatchObject({ question_id: 'q_ep_encryption', control_ref: 'Endpoint Security', source: 'jamf-export', title: null, file: { filename: 'jamf.bin', size: 5000, sha256 } });
    const item = sim.state.evidence[0];
    expect(item).toMatchObject({ via: 'direct-write', questionId: 'q_ep_encryption', body: { source: 'jamf-export', collected_at: '2025-01-15T12:00:00Z', result: 'pass' } });
    expect(item?.file?.content?.equals(content)).toBe(true);
    expect(sim.state.received.directWrite).toBe(1);
  });

  it('takes a JSON payload too, and reconciles a retry of it', async () => {
    const sim = await start();
    const body = { title: 'FileVault', source: 'jamf', result: 'fail', collected_at: '2025-01-15T12:00:00Z', payload: { unencrypted: 3 } };
    const first = await postJson<{ data: Json }>(writeUrl(sim, 'q_ep_encryption'), body, key(sim));
    expect(first.status).toBe(201);
    const retry = await postJson<{ data: Json }>(writeUrl(sim, 'q_ep_encryption'), body, { ...key(sim), 'idempotency-key': 'k-1' });
    expect(retry).toMatchObject({ status: 200, body: { data: { evidence_id: first.body.data['evidence_id'], duplicate: true } } });
    const noPayload = await postJson(writeUrl(sim, 'q_ep_encryption'), { source: 'jamf' }, key(sim));
    expect(noPayload.status).toBe(400);
  });

  it('streams a 100 MB upload: accepts one at the limit without keeping it, refuses one over it with 413', async () => {
    const sim = await start();
    const limit = 100 * 1024 * 1024;
    const atLimit = await postGeneratedUpload<{ data: { file: Json } }>(writeUrl(sim, 'q_log_retention'), { source: 'siem-export' }, limit, key(sim));
    const hash = createHash('sha256');
    for (const chunk of generatedFile(limit)) hash.update(chunk);
    expect(answerOf(atLimit)).toMatchObject({ status: 201, file: { size: limit, sha256: hash.digest('hex') } });
    expect(sim.state.evidence[0]?.file?.content).toBeUndefined();

    const over = await postGeneratedUpload<{ error: string }>(writeUrl(sim, 'q_log_retention'), { source: 'siem-export' }, limit + 1, key(sim));
    expect(over.status).toBe(413);
    expect(sim.state.evidence).toHaveLength(1);
  }, 120_000);

  it('answers 400 for a form without a file and 415 for other media types', async () => {
    const sim = await start();
    expect((await postMultipart(writeUrl(sim, 'q_ep_os'), formWith({ source: 'jamf' }), key(sim))).status).toBe(400);
    const text = await http(writeUrl(sim, 'q_ep_os'), { method: 'POST', headers: { ...key(sim), 'content-type': 'text/csv' }, body: 'a,b' });
    expect(text.status).toBe(415);
  });
});

function answerOf(result: { status: number; body: { data: { file: Json } } }) {
  return { status: result.status, file: result.body.data.file };
}

describe('AUDIGYD errors', () => {
  it('answers 401 without a valid X-API-Key and 403 without the assessments:write scope', async () => {
    const sim = await start({ apiKeys: [{ key: 'read-only', scopes: ['assessments:read'] }] });
    expect(await postJson(pushUrl(sim), oktaPush)).toMatchObject({ status: 401, body: { error: expect.stringMatching(/X-API-Key/) } });
    expect((await postJson(pushUrl(sim), oktaPush, { 'x-api-key': 'nope' })).status).toBe(401);
    expect(await postJson(pushUrl(sim), oktaPush, { 'x-api-key': 'read-only' })).toMatchObject({ status: 403, body: { error: expect.stringMatching(/assessments:write/) } });
    expect((await http(`${sim.url}/api/v1/overview`, { headers: { 'x-api-key': 'read-only' } })).status).toBe(200);
  });

  it('answers 404 for unknown and cross-tenant assessments and unknown questions', async () => {
    const sim = await start();
    expect((await postJson(pushUrl(sim, 'asm_nope'), oktaPush, key(sim))).status).toBe(404);
    expect((await postJson(pushUrl(sim, 'asm_other_tenant'), oktaPush, key(sim))).status).toBe(404);
    expect((await http(`${sim.url}/api/v1/assessments/asm_other_tenant/questions`, { headers: key(sim) })).status).toBe(404);
    expect((await postJson(writeUrl(sim, 'q_nope'), { source: 'x', payload: {} }, key(sim))).status).toBe(404);
    expect((await postJson(writeUrl(sim, 'q_other_mfa'), { source: 'x', payload: {} }, key(sim))).status).toBe(404);
    expect(sim.state.evidence).toHaveLength(0);
  });

  it('answers 409 for finalized and archived assessments', async () => {
    const sim = await start({ finalizedAssessments: [SOC2] });
    expect(await postJson(pushUrl(sim), oktaPush, key(sim))).toMatchObject({ status: 409, body: { error: expect.stringMatching(/finalized/) } });
    sim.setAssessmentStatus(SOC2, 'archived');
    const upload = await postMultipart(writeUrl(sim, 'q_ep_os'), formWith({ source: 'jamf' }, { name: 'a.txt', content: 'a' }), key(sim));
    expect(upload).toMatchObject({ status: 409, body: { error: expect.stringMatching(/archived/) } });
    sim.setAssessmentStatus(SOC2, 'open');
    expect((await postJson(pushUrl(sim), oktaPush, key(sim))).status).toBe(201);
  });

  it('answers the seed’s 429 past the global limit, with RateLimit-* on every response', async () => {
    const clock = manualClock();
    const sim = await start({ clock: clock.now, rateLimit: { limit: 2, windowMs: 1000 } });
    const ok = await http(`${sim.url}/api/v1/overview`, { headers: key(sim) });
    expect(ok.headers).toMatchObject({ 'ratelimit-limit': '2', 'ratelimit-remaining': '1', 'ratelimit-reset': '1' });
    await http(`${sim.url}/api/v1/overview`, { headers: key(sim) });
    const limited = await postJson(pushUrl(sim), oktaPush, key(sim));
    expect(limited).toMatchObject({ status: 429, body: { error: 'Too many requests. Please try again later.', retryAfter: '1' } });
    expect(limited.headers).toMatchObject({ 'retry-after': '1', 'ratelimit-limit': '2', 'ratelimit-remaining': '0', 'ratelimit-reset': '1' });
    clock.advance(1000);
    expect((await postJson(pushUrl(sim), oktaPush, key(sim))).status).toBe(201);
    expect(sim.throttling.events).toMatchObject([{ bucket: 'ip', cause: 'limit', requestsBeforeReset: 0 }]);
  });

  it('limits file uploads per user, apart from the global limit', async () => {
    const clock = manualClock();
    const sim = await start({ clock: clock.now, uploadRateLimit: { limit: 1, windowMs: 60_000 }, apiKeys: [{ key: 'second-user', user: 'someone-else' }] });
    const upload = (apiKey: string) => postMultipart(writeUrl(sim, 'q_ep_os'), formWith({ source: 'jamf' }, { name: 'a.txt', content: 'a' }), { 'x-api-key': apiKey });
    expect((await upload(sim.apiKey)).status).toBe(201);
    const limited = await upload(sim.apiKey);
    expect(limited).toMatchObject({ status: 429, body: { retryAfter: '60' } });
    expect(limited.headers['retry-after']).toBe('60');
    expect((await upload('second-user')).status).toBe(201);
    expect((await postJson(pushUrl(sim), oktaPush, key(sim))).status).toBe(201);
    expect(sim.throttling.events).toMatchObject([{ bucket: 'upload:api-user', cause: 'limit' }]);
  });

  it('renders injected faults as { error }', async () => {
    const sim = await start();
    sim.faults.inject({ kind: 'status', status: 503 }, 1, { path: '/api/v1/assessments', method: 'POST' });
    expect(await postJson(pushUrl(sim), oktaPush, key(sim))).toMatchObject({ status: 503, body: { error: 'Service Unavailable.' } });
    expect((await postJson(pushUrl(sim), oktaPush, key(sim))).status).toBe(201);
  });
});

describe('AUDIGYD reads', () => {
  it('serves the overview the seed’s example reads and the question list', async () => {
    const sim = await start({ finalizedAssessments: [SOC2] });
    const overview = await http<{ data: { assessments: Json; findings: { by_status: Json; by_severity: Json } } }>(`${sim.url}/api/v1/overview`, { headers: key(sim) });
    expect(overview.body.data.assessments).toEqual({ total: 1, by_status: { open: 0, finalized: 1, archived: 0 } });
    expect(overview.body.data.findings.by_status['open']).toBe(0);
    expect(overview.body.data.findings.by_severity['critical']).toBe(0);
    const questions = await http<{ data: Json[] }>(`${sim.url}/api/v1/assessments/${SOC2}/questions`, { headers: key(sim) });
    expect(questions.body.data).toHaveLength(10);
    expect(questions.body.data[0]).toEqual({ id: 'q_ac_mfa_admin', control_ref: 'Access Control', text: 'Is MFA enforced for all admin accounts?' });
  });
});
