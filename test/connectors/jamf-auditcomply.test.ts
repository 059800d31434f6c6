import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuditComplySimulator, startJamfSimulator, type AuditComplySimulator, type JamfSimulator } from '../simulators/index.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { collect, createConnection, snapshotRecords } from '../helpers/collect.js';

describe('Jamf Pro and AuditComply connectors through the real Temporal dev server', () => {
  let t: TestHub;
  let jamf: JamfSimulator;
  let ac: AuditComplySimulator;
  beforeAll(async () => {
    t = await startTestHub();
    // Tokens that expire during the collection, so reuse and renewal both happen.
    jamf = await startJamfSimulator({ fleet: { total: 730, unencrypted: 40, firewallDisabled: 25, staleCheckIn: 12, unmanaged: 9 }, tokenTtlSeconds: 2 });
    ac = await startAuditComplySimulator({ counts: { audits: 130, nonconformances: 260, tasks: 120 }, tokenTtlSeconds: 3 });
  });
  afterAll(async () => { await jamf?.close(); await ac?.close(); await t?.stop(); });

  const jamfConnection = (secret = jamf.clientSecret) =>
    createConnection(t.call, { type: 'jamf', config: { base_url: jamf.url, client_id: jamf.clientId, page_size: 100 }, secrets: { client_secret: secret } });
  const acConnection = (password = ac.password) =>
    createConnection(t.call, { type: 'auditcomply', config: { base_url: ac.apiBaseUrl, username: ac.username, page_size: 50 }, secrets: { password } });

  it('Jamf: collects every computer over several pages, normalised, with the token reused', async () => {
    const id = await jamfConnection();
    expect((await t.call('POST', `/api/v1/connections/${id}/test`)).body).toMatchObject({ ok: true });
    const issuedBefore = jamf.tokensIssued;
    const result = await collect(t.call, id, ['jamf.computers']);
    expect(result.status, result.error ?? '').toBe('succeeded');
    const truth = jamf.truth();
    const records = await snapshotRecords<{ id: string; managed: boolean; filevault_enabled: boolean; firewall_enabled: boolean; os_version: string; last_contact: string }>(t.call, result.snapshots[0]!.id);
    expect(records).toHaveLength(truth.computers);
    expect(new Set(records.map((r) => r.id)).size).toBe(truth.computers);
    expect(records.filter((r) => r.managed)).toHaveLength(truth.managed);
    expect(records.filter((r) => r.filevault_enabled)).toHaveLength(truth.fileVaultEncrypted);
    expect(records.filter((r) => !r.firewall_enabled)).toHaveLength(truth.firewallDisabled);
    expect(records.every((r) => /^\d+\.\d+/.test(r.os_version) && !Number.isNaN(Date.parse(r.last_contact)))).toBe(true);

    const pages = jamf.requests.filter((r) => r.path === '/api/v1/computers-inventory');
    expect(pages.length).toBeGreaterThanOrEqual(8);
    const sections = pages[0]!.query.getAll('section');
    expect(sections).toEqual(expect.arrayContaining(['GENERAL', 'DISK_ENCRYPTION', 'OPERATING_SYSTEM', 'SECURITY']));
    // One token per ~1.6 s of a 2 s lifetime, not one per request.
    const issued = jamf.tokensIssued - issuedBefore;
    expect(issued).toBeGreaterThanOrEqual(1);
    expect(issued).toBeLessThan(pages.length);
    expect(pages.every((r) => r.status === 200)).toBe(true);
  });

  it('Jamf: a 429 with Retry-After is waited out', async () => {
    const id = await jamfConnection();
    const before = jamf.throttling.events.length;
    jamf.faults.inject({ kind: 'rateLimit', retryAfterSeconds: 1 }, 1, { path: '/api/v1/computers-inventory' });
    const result = await collect(t.call, id, ['jamf.computers']);
    expect(result.status).toBe('succeeded');
    const event = jamf.throttling.events[before]!;
    expect(event.requestsBeforeReset).toBe(0);
    expect(result.snapshots[0]!.record_count).toBe(730);
  });

  it('Jamf: a wrong client secret is a readable, non-retryable failure', async () => {
    const id = await jamfConnection('wrong');
    const test = await t.call('POST', `/api/v1/connections/${id}/test`);
    expect(test.body).toMatchObject({ ok: false, error: { kind: 'auth' } });
    expect(test.body.error.message).toMatch(/Jamf Pro rejected the credentials/);
    const before = jamf.requests.filter((r) => r.path === '/api/oauth/token').length;
    const result = await collect(t.call, id, ['jamf.computers']);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/Jamf Pro rejected the credentials/);
    expect(jamf.requests.filter((r) => r.path === '/api/oauth/token').length - before).toBe(1);
  });

  it('AuditComply: collects audits, nonconformances and tasks through count/results pagination with JWT renewal', async () => {
    const id = await acConnection();
    expect((await t.call('POST', `/api/v1/connections/${id}/test`)).body).toMatchObject({ ok: true });
    const result = await collect(t.call, id, ['auditcomply.audits', 'auditcomply.nonconformances', 'auditcomply.tasks']);
    expect(result.status, result.error ?? '').toBe('succeeded');
    const truth = ac.truth();
    const byDataset = Object.fromEntries(result.snapshots.map((s) => [s.dataset, s]));
    expect(byDataset['auditcomply.audits']!.record_count).toBe(truth.audits.total);
    expect(byDataset['auditcomply.nonconformances']!.record_count).toBe(truth.nonconformances.total);
    expect(byDataset['auditcomply.tasks']!.record_count).toBe(truth.tasks.total);
    const ncs = await snapshotRecords<{ nonconformance_id: number; overdue: boolean; status: string }>(t.call, byDataset['auditcomply.nonconformances']!.id);
    expect(new Set(ncs.map((n) => n.nonconformance_id)).size).toBe(truth.nonconformances.total);
    expect(ncs.filter((n) => n.overdue)).toHaveLength(truth.nonconformances.overdue);
    const lists = ac.requests.filter((r) => /\/(audits|nonconformances|tasks)\/$/.test(r.path));
    expect(lists.length).toBeGreaterThanOrEqual(3 + 6 + 3);
    expect(lists.every((r) => r.authScheme === 'JWT')).toBe(true);
  });

  it('AuditComply: a 429 is waited out and bad credentials fail readably', async () => {
    const id = await acConnection();
    const before = ac.throttling.events.length;
    ac.faults.inject({ kind: 'rateLimit', retryAfterSeconds: 1 }, 1, { path: '/audits/' });
    const ok = await collect(t.call, id, ['auditcomply.audits']);
    expect(ok.status).toBe('succeeded');
    expect(ac.throttling.events[before]!.requestsBeforeReset).toBe(0);

    const bad = await acConnection('not-the-password');
    expect((await t.call('POST', `/api/v1/connections/${bad}/test`)).body).toMatchObject({ ok: false, error: { kind: 'auth' } });
    const failed = await collect(t.call, bad, ['auditcomply.tasks']);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/AuditComply rejected the credentials/);
  });
});
