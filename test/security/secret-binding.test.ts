import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { startAudigydSimulator, type AudigydSimulator } from '../simulators/audigyd.js';
import { eventually, startTestHub, type TestHub } from '../helpers/hub.js';
import { collect, createConnection } from '../helpers/collect.js';
import { OKTA_ASSESSMENT } from '../helpers/fixtures.js';

/** A listener at the URL an attacker re-points to: it records every request it is sent. */
async function startListener(): Promise<{ url: string; requests: { url: string; headers: IncomingHttpHeaders; body: string }[]; close(): Promise<void> }> {
  const requests: { url: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      requests.push({ url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const seen = (requests: { headers: IncomingHttpHeaders; body: string }[], secret: string) =>
  requests.some((r) => JSON.stringify(r.headers).includes(secret) || r.body.includes(secret));

describe('stored secrets stay bound to the URLs they were entered for', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  let audigyd: AudigydSimulator;
  let listener: Awaited<ReturnType<typeof startListener>>;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_DELIVERY_RETRY_INITIAL_MS: '100', HUB_DELIVERY_RETRY_MAX_MS: '200', HUB_DELIVERY_MAX_ATTEMPTS: '2' } });
    okta = await startOktaSimulator({ population: { total: 20, admins: 2, adminsWithoutMfa: 0, withoutMfa: 1, deprovisioned: 1 }, rateLimit: false });
    audigyd = await startAudigydSimulator({ assessments: [OKTA_ASSESSMENT], rateLimit: false, uploadRateLimit: false });
    listener = await startListener();
  });
  afterAll(async () => { await listener?.close(); await okta?.close(); await audigyd?.close(); await t?.stop(); });

  it('the re-point attack on a connection: a PATCH to another base_url without the token is a 400 naming it, and the token never reaches the new URL', async () => {
    const id = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token' }, secrets: { api_token: okta.apiToken } });
    const writer = await t.call('POST', '/api/v1/api-keys', { json: { name: 'config writer', scopes: ['config:write', 'config:read', 'runs:write', 'runs:read'] } });
    const attacker = (method: string, path: string, json?: unknown) => t.call(method, path, { key: writer.body.key, json });

    for (const patch of [
      { config: { base_url: listener.url } },
      { config: { base_url: listener.url }, name: 'renamed' },
      { config: { base_url: listener.url }, secrets: {} },
    ]) {
      const res = await attacker('PATCH', `/api/v1/connections/${id}`, patch);
      expect(res.status, JSON.stringify(patch)).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.detail).toContain('api_token');
      expect(res.body.errors).toEqual([{ pointer: '/secrets/api_token', message: expect.stringContaining('base_url') }]);
    }
    // Nothing was half-written: the connection still points where it did, and works.
    expect((await attacker('GET', `/api/v1/connections/${id}`)).body.config.base_url).toBe(okta.url);
    expect((await attacker('POST', `/api/v1/connections/${id}/test`)).body).toMatchObject({ ok: true });
    expect((await collect(t.call, id, ['okta.users'])).status).toBe('succeeded');

    // Re-pointed behind the API's back (a restored backup, a hand-edited row): the sealed token
    // is bound to the old URL and is never opened for the new one.
    await t.hub.db.query('UPDATE connections SET config = jsonb_set(config, \'{base_url}\', to_jsonb($2::text)) WHERE id = $1', [id, listener.url]);
    const tested = await attacker('POST', `/api/v1/connections/${id}/test`);
    expect(tested.body).toMatchObject({ ok: false, error: { kind: 'bad_config', message: expect.stringContaining('api_token') } });
    const collection = await collect(t.call, id, ['okta.users']);
    expect(collection.status).toBe('failed');
    expect(collection.error).toContain('enter them again');
    expect(seen(listener.requests, okta.apiToken)).toBe(false);

    // Entering the token again for the new URL is the only way to use it there.
    const reentered = await attacker('PATCH', `/api/v1/connections/${id}`, { config: { base_url: listener.url }, secrets: { api_token: 'entered-for-the-listener' } });
    expect(reentered.status, reentered.text).toBe(200);
    await attacker('POST', `/api/v1/connections/${id}/test`);
    expect(seen(listener.requests, 'entered-for-the-listener')).toBe(true);
    expect(seen(listener.requests, okta.apiToken)).toBe(false);
  });

  it('the same for a destination: its key never reaches a re-pointed base_url, whatever PATCH, test or job run is tried', async () => {
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'AUDIGYD', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } } });
    expect(destination.status, destination.text).toBe(201);
    const destinationId = destination.body.id as string;
    const moved = await t.call('PATCH', `/api/v1/destinations/${destinationId}`, { json: { config: { base_url: listener.url } } });
    expect(moved.status).toBe(400);
    expect(moved.body.errors).toEqual([{ pointer: '/secrets/api_key', message: expect.any(String) }]);

    // A job on it, then the row re-pointed behind the API's back, then a run.
    const connection = await createConnection(t.call, { type: 'push', config: { datasets: [{ name: 'admins' }] } });
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: 'm', rules: [{ id: 'r', dataset: 'push.admins', control_ref: 'Access Control', question_match: 'MFA admin', title: 'Admins', mode: 'info' }] } });
    const job = await t.call('POST', '/api/v1/jobs', { json: { name: 'j', connection_id: connection, datasets: ['push.admins'], mapping_id: mapping.body.id, destination_id: destinationId, target: { assessment_id: 'asm_okta' } } });
    expect(job.status, job.text).toBe(201);
    await t.hub.db.query('UPDATE destinations SET config = jsonb_set(config, \'{base_url}\', to_jsonb($2::text)) WHERE id = $1', [destinationId, listener.url]);
    expect((await t.call('POST', `/api/v1/destinations/${destinationId}/test`)).body).toMatchObject({ ok: false, error: { kind: 'bad_config' } });
    const trigger = await t.call('POST', `/api/v1/jobs/${job.body.id}/runs`, { json: { input: { 'push.admins': [{ login: 'ann' }] } } });
    expect(trigger.status, trigger.text).toBe(202);
    const run = await eventually(async () => {
      const res = await t.call('GET', `/api/v1/runs/${trigger.body.id}`);
      return ['queued', 'running'].includes(res.body.status) ? null : res.body;
    });
    expect(run.counts.delivered).toBe(0);
    expect(run.items[0]).toMatchObject({ status: 'rejected', error: expect.stringContaining('enter them again') });
    expect(seen(listener.requests, audigyd.apiKey)).toBe(false);
  });

  it('webhook endpoints keep their signing secret when their URL changes, and the audit log records both origins', async () => {
    const created = await t.call('POST', '/api/v1/webhooks', { json: { url: 'https://hooks.example.com/a/secret-path', events: ['run.completed'] } });
    expect(created.status, created.text).toBe(201);
    const moved = await t.call('PATCH', `/api/v1/webhooks/${created.body.id}`, { json: { url: 'https://other.example.net/b' } });
    expect(moved.status, moved.text).toBe(200);
    const entries = await t.call('GET', `/api/v1/audit-log?limit=500`);
    const entry = entries.body.data.find((e: { action: string; resource_id: string }) => e.action === 'webhook.updated' && e.resource_id === created.body.id);
    expect(JSON.stringify(entry)).toContain('https://hooks.example.com');
    expect(JSON.stringify(entry)).toContain('https://other.example.net');
    expect(JSON.stringify(entry)).not.toContain('secret-path');
  });
});
