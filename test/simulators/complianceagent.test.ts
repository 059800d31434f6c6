import { afterEach, describe, expect, it } from 'vitest';
import { EVENT_TYPES, startComplianceAgentSimulator, type ComplianceAgentSimulator, type ComplianceAgentSimulatorOptions } from './complianceagent.js';
import { http, manualClock, postJson } from './test-http.js';

type Envelope<T> = { success: boolean; data: T; pagination?: { page: number; limit: number; total: number }; error?: { code: string; message: string } };
type ListEntry = { id: string; event_type: string; actor: { type: string; id: string; email: string | null }; repository: { id: string; name: string }; timestamp: string; ip_address: string | null };
type Verification = { verified: boolean; logs_checked: number; chain_valid: boolean; hash_mismatches: number; gaps_detected: number; verification_hash: string; verified_at: string };

const running: ComplianceAgentSimulator[] = [];
async function start(options: ComplianceAgentSimulatorOptions = {}): Promise<ComplianceAgentSimulator> {
  const sim = await startComplianceAgentSimulator(options);
  running.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

const auth = (sim: ComplianceAgentSimulator) => ({ authorization: `Bearer ${sim.apiKey}` });

async function all(sim: ComplianceAgentSimulator, query = ''): Promise<ListEntry[]> {
  const entries: ListEntry[] = [];
  for (let page = 1; ; page++) {
    const response = await http<Envelope<ListEntry[]>>(`${sim.url}/api/v1/audit/logs?page=${page}&limit=40${query}`, { headers: auth(sim) });
    expect(response.status).toBe(200);
    entries.push(...response.body.data);
    if (page * 40 >= (response.body.pagination?.total ?? 0)) return entries;
  }
}

const verify = (sim: ComplianceAgentSimulator, body: object = {}) => postJson<Envelope<Verification>>(`${sim.url}/api/v1/audit/verify`, body, auth(sim));

describe('ComplianceAgent audit logs', () => {
  it('asks for a bearer API key and answers errors in the seed’s envelope', async () => {
    const sim = await start();
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { 'x-api-key': sim.apiKey }] as Record<string, string>[]) {
      const response = await http<Envelope<null>>(`${sim.url}/api/v1/audit/logs`, { headers });
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ success: false, error: { code: 'unauthorized' } });
    }
    expect((await http(`${sim.url}/api/v1/audit/nope`, { headers: auth(sim) })).status).toBe(404);
  });

  it('pages with page/limit and the seed’s pagination block, in time order, with the seed’s list fields', async () => {
    const sim = await start({ logs: 95 });
    const first = await http<Envelope<ListEntry[]>>(`${sim.url}/api/v1/audit/logs`, { headers: auth(sim) });
    expect(first.body).toMatchObject({ success: true, pagination: { page: 1, limit: 50, total: 95 } });
    expect(Object.keys(first.body.data[0] ?? {})).toEqual(['id', 'event_type', 'actor', 'resource', 'repository', 'details', 'ip_address', 'user_agent', 'timestamp']);
    const entries = await all(sim);
    expect(entries).toHaveLength(95);
    expect(new Set(entries.map((e) => e.id)).size).toBe(95);
    expect([...entries].map((e) => e.timestamp)).toEqual(entries.map((e) => e.timestamp).sort());
    expect(entries.every((e) => (EVENT_TYPES as readonly string[]).includes(e.event_type))).toBe(true);
    const capped = await http<Envelope<ListEntry[]>>(`${sim.url}/api/v1/audit/logs?limit=500`, { headers: auth(sim) });
    expect(capped.body.pagination).toMatchObject({ limit: 100, total: 95 });
    expect((await http(`${sim.url}/api/v1/audit/logs?page=0`, { headers: auth(sim) })).status).toBe(400);
  });

  it('filters by from/to, event_type, actor and repository_id', async () => {
    const sim = await start({ logs: 80 });
    const entries = await all(sim);
    const from = entries[20]!.timestamp;
    const to = entries[59]!.timestamp;
    const window = await all(sim, `&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    expect(window.map((e) => e.id)).toEqual(entries.slice(20, 60).map((e) => e.id));
    const system = await all(sim, '&actor=system');
    expect(system).toHaveLength(sim.truth().byActorType.system!);
    expect(system.every((e) => e.actor.type === 'system' && e.ip_address === null)).toBe(true);
    const resolved = await all(sim, '&event_type=issue.resolved&repository_id=repo_789');
    expect(resolved.every((e) => e.event_type === 'issue.resolved' && e.repository.name === 'acme/web-app')).toBe(true);
    expect((await http(`${sim.url}/api/v1/audit/logs?from=yesterday`, { headers: auth(sim) })).body).toMatchObject({ success: false, error: { code: 'invalid_parameter' } });
  });

  it('shows one entry with its hash and previous_hash, linked into a chain', async () => {
    const sim = await start({ logs: 5 });
    const [first, second] = sim.state.chain.all;
    const one = await http<Envelope<Record<string, unknown>>>(`${sim.url}/api/v1/audit/logs/${second!.id}`, { headers: auth(sim) });
    expect(one.body.data).toMatchObject({ id: second!.id, previous_hash: first!.hash, hash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), metadata: { request_id: expect.any(String) } });
    expect((await http(`${sim.url}/api/v1/audit/logs/log_missing`, { headers: auth(sim) })).status).toBe(404);
  });

  it('counts events as the statistics sample does', async () => {
    const sim = await start({ logs: 60 });
    const stats = await http<Envelope<{ total_events: number; events_by_type: Record<string, number>; events_by_actor_type: Record<string, number>; events_by_repository: Record<string, number>; top_actors: { actor: string; event_count: number }[] }>>(`${sim.url}/api/v1/audit/statistics`, { headers: auth(sim) });
    const truth = sim.truth();
    expect(stats.body.data).toMatchObject({ total_events: 60, events_by_type: truth.byType, events_by_actor_type: truth.byActorType, events_by_repository: truth.byRepository });
    expect(stats.body.data.top_actors.length).toBeGreaterThan(0);
  });
});

describe('ComplianceAgent chain verification', () => {
  it('verifies an untouched chain, and a window of it', async () => {
    const clock = manualClock();
    const sim = await start({ logs: 40, clock: clock.now });
    const whole = await verify(sim);
    expect(whole.body).toMatchObject({ success: true, data: { verified: true, chain_valid: true, logs_checked: 40, hash_mismatches: 0, gaps_detected: 0, verified_at: new Date(clock.now()).toISOString() } });
    expect(whole.body.data.verification_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const entries = sim.state.chain.all;
    const window = await verify(sim, { from: entries[10]!.timestamp, to: entries[19]!.timestamp });
    expect(window.body.data).toMatchObject({ verified: true, logs_checked: 10 });
    const repo = await verify(sim, { repository_id: 'repo_123' });
    expect(repo.body.data.logs_checked).toBe(entries.filter((e) => e.repository.id === 'repo_123').length);
    expect((await verify(sim, { from: 'not a date' })).status).toBe(400);
  });

  it('reports an edited entry as a hash mismatch, a re-hashed one and a deleted one as gaps', async () => {
    const sim = await start({ logs: 30 });
    const [, , third, , fifth, , seventh] = sim.state.chain.all;
    sim.tamper(third!.id, (entry) => {
      entry.details = { ...entry.details, new_status: 'wont_fix' };
    });
    expect((await verify(sim)).body.data).toMatchObject({ verified: false, chain_valid: false, hash_mismatches: 1, gaps_detected: 0 });
    sim.tamper(fifth!.id, (entry) => {
      entry.actor = { ...entry.actor, email: 'someone-else@acme.com' };
    }, { rehash: true });
    expect((await verify(sim)).body.data).toMatchObject({ hash_mismatches: 1, gaps_detected: 1 });
    sim.remove(seventh!.id);
    expect((await verify(sim)).body.data).toMatchObject({ logs_checked: 29, hash_mismatches: 1, gaps_detected: 2 });
    // A window after the damage verifies; the truth agrees with the endpoint.
    expect((await verify(sim, { from: sim.state.chain.all[10]!.timestamp })).body.data.verified).toBe(true);
    expect(sim.truth().chain).toMatchObject({ verified: false, hash_mismatches: 1, gaps_detected: 2 });
  });

  it('appends new events to the chain with the simulator’s clock', async () => {
    const clock = manualClock(Date.UTC(2030, 0, 1));
    const sim = await start({ logs: 10, clock: clock.now });
    const added = sim.append({ event_type: 'access.revoked' });
    expect(added).toMatchObject({ event_type: 'access.revoked', timestamp: '2030-01-01T00:00:00.000Z', previous_hash: sim.state.chain.all[9]!.hash });
    expect((await verify(sim)).body.data).toMatchObject({ verified: true, logs_checked: 11 });
  });
});

describe('ComplianceAgent throttling', () => {
  it('answers 429 with Retry-After past the limit', async () => {
    const clock = manualClock();
    const sim = await start({ clock: clock.now, rateLimit: { limit: 1, windowMs: 2000 } });
    expect((await http(`${sim.url}/api/v1/audit/logs`, { headers: auth(sim) })).status).toBe(200);
    const limited = await http<Envelope<null>>(`${sim.url}/api/v1/audit/logs`, { headers: auth(sim) });
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect(limited.body).toMatchObject({ success: false, error: { code: 'rate_limited' } });
  });
});
