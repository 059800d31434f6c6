import { createHash } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caller, eventually, startTestHub, type ApiCaller, type TestHub } from '../helpers/hub.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

const pathHash = (url: string) => createHash('sha256').update(new URL(url).pathname + new URL(url).search).digest('hex');

describe('webhook endpoint URLs', () => {
  let t: TestHub;
  const receivers: WebhookReceiver[] = [];
  const keyWith = async (scopes: string[]): Promise<ApiCaller> => {
    const res = await t.call('POST', '/api/v1/api-keys', { json: { name: scopes.join('+'), scopes } });
    expect(res.status, res.text).toBe(201);
    return caller(t.url, res.body.key as string);
  };
  beforeAll(async () => { t = await startTestHub({ env: { HUB_WEBHOOK_DISPATCH_INTERVAL: '50ms' } }); });
  afterAll(async () => {
    for (const r of receivers) await r.down();
    await t?.stop();
  });

  it('are shown in full to config:write and admin keys, and as their origin only to config:read keys', async () => {
    const url = 'https://hooks.example.com/services/T0001/B0002/XoXoSeCrEt?channel=ops';
    const created = await t.call('POST', '/api/v1/webhooks', { json: { url, events: ['run.completed'] } });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ url, url_redacted: false });
    const id = created.body.id as string;

    const reader = await keyWith(['config:read']);
    for (const res of [await reader('GET', `/api/v1/webhooks/${id}`), await reader('GET', '/api/v1/webhooks')]) {
      expect(res.status, res.text).toBe(200);
      const view = res.body.data ? res.body.data.find((w: { id: string }) => w.id === id) : res.body;
      expect(view).toMatchObject({ id, url: 'https://hooks.example.com', url_redacted: true, events: ['run.completed'] });
      expect(res.text).not.toContain('XoXoSeCrEt');
      expect(res.text).not.toContain('/services/');
    }

    const writer = await keyWith(['config:read', 'config:write']);
    for (const call of [writer, t.call]) {
      const res = await call('GET', `/api/v1/webhooks/${id}`);
      expect(res.body).toMatchObject({ url, url_redacted: false });
      expect((await call('GET', '/api/v1/webhooks')).body.data.find((w: { id: string }) => w.id === id)).toMatchObject({ url, url_redacted: false });
    }
    // A port other than the scheme's default is part of the origin.
    const ported = await t.call('POST', '/api/v1/webhooks', { json: { url: 'http://hooks.example.com:8443/x/y' } });
    expect((await reader('GET', `/api/v1/webhooks/${ported.body.id}`)).body).toMatchObject({ url: 'http://hooks.example.com:8443', url_redacted: true });
  });

  it('a PATCH to another URL keeps the signing secret, and its audit entry records the old and the new origin, not the paths', async () => {
    const first = await WebhookReceiver.start();
    const second = await WebhookReceiver.start();
    receivers.push(first, second);
    const oldUrl = `${first.url}/OLD-PATH-TOKEN`;
    const newUrl = `${second.url}/NEW-PATH-TOKEN?sig=NEW-QUERY-TOKEN`;
    const created = await t.call('POST', '/api/v1/webhooks', { json: { url: oldUrl, events: ['webhook.test'] } });
    expect(created.status, created.text).toBe(201);
    const { id, secret } = created.body as { id: string; secret: string };

    const moved = await t.call('PATCH', `/api/v1/webhooks/${id}`, { json: { url: newUrl, description: 'moved' } });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body).toMatchObject({ url: newUrl, url_redacted: false, description: 'moved' });
    expect(moved.body.secret).toBeUndefined();

    const sent = await t.call('POST', `/api/v1/webhooks/${id}/test`);
    expect(sent.status, sent.text).toBe(202);
    const hook = await eventually(async () => second.received.find((h) => h.id === sent.body.event_id), { timeoutMs: 30_000 });
    expect(first.received).toHaveLength(0);
    // Signed with the secret issued when the endpoint was created.
    expect(() => new Webhook(secret).verify(hook.body, { 'webhook-id': hook.id, 'webhook-timestamp': hook.timestamp, 'webhook-signature': hook.signature })).not.toThrow();

    const log = await t.call('GET', `/api/v1/audit-log?action=webhook.updated&resource_id=${id}`);
    expect(log.status, log.text).toBe(200);
    expect(log.body.data).toHaveLength(1);
    const entry = (await t.call('GET', `/api/v1/audit-log/${log.body.data[0].id}`)).body;
    expect(entry.changes).toEqual({
      url: {
        from: { origin: new URL(oldUrl).origin, path_sha256: pathHash(oldUrl) },
        to: { origin: new URL(newUrl).origin, path_sha256: pathHash(newUrl) },
      },
      description: 'moved',
    });
    for (const token of ['OLD-PATH-TOKEN', 'NEW-PATH-TOKEN', 'NEW-QUERY-TOKEN']) expect(JSON.stringify(log.body) + JSON.stringify(entry)).not.toContain(token);

    // A PATCH that leaves the URL alone records no URL.
    await t.call('PATCH', `/api/v1/webhooks/${id}`, { json: { description: 'again' } });
    const again = await t.call('GET', `/api/v1/audit-log?action=webhook.updated&resource_id=${id}`);
    expect(again.body.data.map((e: { changes: unknown }) => e.changes)).toContainEqual({ description: 'again' });
  });
});
