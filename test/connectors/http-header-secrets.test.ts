import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { startTestHub, type ApiCaller, type TestHub } from '../helpers/hub.js';
import { collect, createConnection } from '../helpers/collect.js';

// The generic HTTP connector's custom headers often carry tokens: they are secrets named
// header:<Header-Name>, sealed at rest, never returned, audited by name only.

const TENANT = 'tenant-3f9c1e7a5b';

/** The Okta simulator as a plain JSON API; `auth: none`, so only a custom header can authenticate. */
const usersDataset = { name: 'users', path: '/api/v1/users', query: { limit: '200' }, pagination: { type: 'link_header' } };

async function auditEntriesOf(call: ApiCaller, resourceId: string): Promise<{ action: string; changes: Record<string, unknown> }[]> {
  const list = await call('GET', `/api/v1/audit-log?resource_id=${resourceId}`);
  expect(list.status, list.text).toBe(200);
  return Promise.all(list.body.data.map(async (e: { id: string }) => (await call('GET', `/api/v1/audit-log/${e.id}`)).body));
}

describe('generic HTTP connector: custom headers are secrets', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  beforeAll(async () => {
    t = await startTestHub();
    okta = await startOktaSimulator({ population: { total: 250, deprovisioned: 0 }, rateLimit: false });
  });
  afterAll(async () => { await okta?.close(); await t?.stop(); });

  it('a header secret is sent to the source on test and collect, and is never returned or audited in clear', async () => {
    const authorization = `SSWS ${okta.apiToken}`;
    const created = await t.call('POST', '/api/v1/connections', {
      json: { name: 'okta as json', type: 'http', config: { base_url: okta.url, auth: { type: 'none' }, datasets: [usersDataset] }, secrets: { 'header:Authorization': authorization, 'header:X-Okta-Tenant': TENANT } },
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id as string;
    expect(created.body.secret_fields).toEqual(['header:Authorization', 'header:X-Okta-Tenant']);

    // Never returned: not by the create, the GET or the list.
    const fetched = await t.call('GET', `/api/v1/connections/${id}`);
    const listed = await t.call('GET', '/api/v1/connections?type=http');
    for (const text of [created.text, fetched.text, listed.text]) {
      expect(text).not.toContain(okta.apiToken);
      expect(text).not.toContain(TENANT);
    }
    expect(fetched.body.config).not.toHaveProperty('headers');
    expect(fetched.body.secret_fields).toEqual(['header:Authorization', 'header:X-Okta-Tenant']);

    // The audit log names them, and nothing else.
    const entries = await auditEntriesOf(t.call, id);
    const entry = entries.find((e) => e.action === 'connection.created')!;
    expect(entry.changes.secrets).toEqual({ 'header:Authorization': '[REDACTED]', 'header:X-Okta-Tenant': '[REDACTED]' });
    expect(JSON.stringify(entries)).not.toContain(okta.apiToken);
    expect(JSON.stringify(entries)).not.toContain(TENANT);

    // The simulator gets the header: it authenticates the test and every page of the collection.
    const mark = okta.requests.length;
    expect((await t.call('POST', `/api/v1/connections/${id}/test`)).body).toMatchObject({ ok: true });
    const result = await collect(t.call, id, ['http.users']);
    expect(result.status, result.error ?? '').toBe('succeeded');
    expect(result.snapshots[0]!.record_count).toBe(okta.truth().users.listedByDefault);
    const sent = okta.requests.slice(mark);
    expect(sent.length).toBeGreaterThanOrEqual(3);
    expect(sent.every((r) => r.authScheme === 'SSWS' && r.status === 200)).toBe(true);
    expect(t.logs.join('\n')).not.toContain(TENANT);

    // Replaced through PATCH, audited by name again.
    const patched = await t.call('PATCH', `/api/v1/connections/${id}`, { json: { secrets: { 'header:X-Okta-Tenant': `${TENANT}-2` } } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.text).not.toContain(TENANT);
    const updated = (await auditEntriesOf(t.call, id)).find((e) => e.action === 'connection.updated')!;
    expect(updated.changes.secrets).toEqual({ 'header:X-Okta-Tenant': '[REDACTED]' });
  });

  it('custom headers in config are refused with a 400 that points to secrets, on create and on PATCH', async () => {
    const refused = await t.call('POST', '/api/v1/connections', {
      json: { name: 'old style', type: 'http', config: { base_url: okta.url, auth: { type: 'none' }, headers: { 'X-Okta-Tenant': TENANT }, datasets: [usersDataset] } },
    });
    expect(refused.status, refused.text).toBe(400);
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const error = refused.body.errors.find((e: { pointer: string }) => e.pointer === '/config/headers');
    expect(error.message).toMatch(/secrets.*header:<Header-Name>/);
    expect(refused.text).not.toContain(TENANT);

    const id = await createConnection(t.call, { type: 'http', config: { base_url: okta.url, auth: { type: 'none' }, datasets: [usersDataset] }, secrets: { 'header:Authorization': `SSWS ${okta.apiToken}` } });
    const patch = await t.call('PATCH', `/api/v1/connections/${id}`, { json: { config: { headers: { 'X-Okta-Tenant': TENANT } } } });
    expect(patch.status, patch.text).toBe(400);
    expect(patch.body.errors.map((e: { pointer: string }) => e.pointer)).toContain('/config/headers');

    // A header secret's name must be a header name, and its value one line.
    const badName = await t.call('PATCH', `/api/v1/connections/${id}`, { json: { secrets: { 'header:Bad Name': 'x' } } });
    expect(badName.status, badName.text).toBe(400);
    const badValue = await t.call('PATCH', `/api/v1/connections/${id}`, { json: { secrets: { 'header:X-Okta-Tenant': 'a\r\nX-Injected: 1' } } });
    expect(badValue.status, badValue.text).toBe(400);
  });
});
