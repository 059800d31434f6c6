import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, spawnWorker, startTestHub, type TestHub } from '../helpers/hub.js';
import { WebhookReceiver, type ReceivedWebhook } from '../helpers/webhook-receiver.js';
import { newId } from '../../lib/ids.js';
import { isPrivateAddress } from '../../lib/net-guard.js';
import { lookup } from 'node:dns/promises';
import os from 'node:os';

interface Envelope { id: string; type: string; data: Record<string, unknown> }
const parse = (h: ReceivedWebhook) => JSON.parse(h.body) as Envelope;
const headersOf = (h: ReceivedWebhook) => ({ 'webhook-id': h.id, 'webhook-timestamp': h.timestamp, 'webhook-signature': h.signature });

async function subscribe(t: TestHub, url: string, events: string[] = []): Promise<{ id: string; secret: string }> {
  const res = await t.call('POST', '/api/v1/webhooks', { json: { url, events } });
  if (res.status !== 201) throw new Error(`${res.status} ${res.text}`);
  return { id: res.body.id, secret: res.body.secret };
}

async function sendTests(t: TestHub, webhookId: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await t.call('POST', `/api/v1/webhooks/${webhookId}/test`);
    if (res.status !== 202) throw new Error(`${res.status} ${res.text}`);
    ids.push(res.body.event_id);
  }
  return ids;
}

const deliveriesOf = async (t: TestHub, webhookId: string) => (await t.call('GET', `/api/v1/webhooks/${webhookId}/deliveries?limit=500`)).body.data as {
  id: string; event_id: string; status: string; attempts: { status_code: number | null; error: string | null; attempted_at: string }[];
}[];

describe('webhook delivery survives a receiver outage and a killed worker', () => {
  const env = { HUB_WEBHOOK_RETRY_SCHEDULE: '1s,2s,2s,3s,3s,3s,3s,3s', HUB_WEBHOOK_DISPATCH_INTERVAL: '50ms' };
  let t: TestHub;
  beforeAll(async () => { t = await startTestHub({ backend: 'postgres', role: 'api', env }); });
  afterAll(async () => { await t?.stop(); });

  it('refused, then 500s, then back: every event arrives once signed, with the same webhook-id on each retry', async () => {
    const receiver = await WebhookReceiver.start();
    await receiver.down(); // connection refused from here on
    const { id, secret } = await subscribe(t, receiver.url);
    let worker = await spawnWorker(t, env);
    try {
      const eventIds = await sendTests(t, id, 5);
      // Every delivery has failed once (refused) and waits for its retry.
      await eventually(async () => {
        const ds = await deliveriesOf(t, id);
        return ds.length === 5 && ds.every((d) => d.status === 'retrying' && d.attempts.length >= 1) ? ds : null;
      }, { timeoutMs: 30_000, intervalMs: 200 });
      expect((await deliveriesOf(t, id))[0]!.attempts[0]!.error).toBe('connection refused');

      // The worker dies during the backoff wait; the retries are durable timers in Temporal.
      await worker.kill();
      await receiver.up();
      receiver.respond = () => ({ status: 500, body: 'temporarily broken' });
      worker = await spawnWorker(t, env);
      await eventually(async () => eventIds.every((e) => receiver.received.some((h) => h.id === e)), { timeoutMs: 45_000, intervalMs: 200 });
      receiver.respond = () => ({ status: 200, body: 'ok' });
      await eventually(async () => eventIds.every((e) => receiver.received.some((h) => h.id === e && h.status === 200)), { timeoutMs: 45_000, intervalMs: 200 });

      const verifier = new Webhook(secret);
      for (const eventId of eventIds) {
        const tries = receiver.received.filter((h) => h.id === eventId);
        expect(tries.filter((h) => h.status === 200)).toHaveLength(1);
        expect(tries.some((h) => h.status === 500)).toBe(true);
        // Same id and same body on every attempt; each attempt signed afresh and valid.
        expect(new Set(tries.map((h) => h.body)).size).toBe(1);
        for (const h of tries) expect((verifier.verify(h.body, headersOf(h)) as Envelope).id).toBe(eventId);
      }
      const ds = await deliveriesOf(t, id);
      expect(ds.every((d) => d.status === 'delivered')).toBe(true);
      const log = ds[0]!.attempts;
      expect(log[0]).toMatchObject({ status_code: null, error: 'connection refused' });
      expect(log.some((a) => a.status_code === 500)).toBe(true);
      expect(log[log.length - 1]).toMatchObject({ status_code: 200, error: null });
    } finally {
      await worker.kill();
      await receiver.down();
    }
  }, 180_000);
});

describe('webhook delivery rules: Retry-After, 410, failure window, redelivery, in-flight cap, redirects', () => {
  let t: TestHub;
  let watcher: WebhookReceiver;
  beforeAll(async () => {
    t = await startTestHub({ env: {
      HUB_WEBHOOK_RETRY_SCHEDULE: '300ms,300ms,500ms,500ms,1s,1s,1s,1s,1s,1s', HUB_WEBHOOK_RETRY_JITTER_PERCENT: '10',
      HUB_WEBHOOK_DISABLE_AFTER: '2s', HUB_WEBHOOK_MAX_IN_FLIGHT: '2', HUB_WEBHOOK_DISPATCH_INTERVAL: '50ms',
    } });
    watcher = await WebhookReceiver.start();
    await subscribe(t, watcher.url, ['webhook.endpoint_disabled']);
  });
  afterAll(async () => { await watcher?.down(); await t?.stop(); });

  it('waits at least Retry-After after a 429', async () => {
    const receiver = await WebhookReceiver.start();
    let calls = 0;
    receiver.respond = () => (++calls === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 204 });
    const { id } = await subscribe(t, receiver.url);
    const [eventId] = await sendTests(t, id, 1);
    await eventually(async () => receiver.received.some((h) => h.status === 204));
    const [first, second] = receiver.received;
    expect(first!.id).toBe(eventId);
    expect(second!.id).toBe(eventId);
    // The schedule alone would retry after ~300 ms.
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(1_900);
    const [delivery] = await deliveriesOf(t, id);
    expect(delivery!.attempts.map((a) => a.status_code)).toEqual([429, 204]);
    await receiver.down();
  });

  it('410 Gone disables the endpoint at once and tells the other endpoints', async () => {
    const receiver = await WebhookReceiver.start();
    receiver.respond = () => ({ status: 410 });
    const { id } = await subscribe(t, receiver.url);
    await sendTests(t, id, 1);
    const disabled = await eventually(async () => {
      const res = await t.call('GET', `/api/v1/webhooks/${id}`);
      return res.body.enabled === false ? res.body : null;
    });
    expect(disabled.disabled_reason).toBe('gone');
    expect(receiver.received).toHaveLength(1);
    const notice = await eventually(async () => watcher.received.map(parse).find((e) => e.data.webhook_id === id));
    expect(notice).toMatchObject({ type: 'webhook.endpoint_disabled', data: { reason: 'gone', url: new URL(receiver.url).origin } });
    expect((await t.call('POST', `/api/v1/webhooks/${id}/test`)).status).toBe(409);
    await receiver.down();
  });

  it('an endpoint failing for the whole window is disabled and announced; re-enabled, recover re-sends what failed, redeliver sends one again', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const receiver = await WebhookReceiver.start();
    receiver.respond = () => ({ status: 503, body: 'x'.repeat(10_000) });
    const { id } = await subscribe(t, receiver.url);
    const eventIds = await sendTests(t, id, 3);
    await eventually(async () => (await t.call('GET', `/api/v1/webhooks/${id}`)).body.enabled === false, { timeoutMs: 30_000 });
    const notice = await eventually(async () => watcher.received.map(parse).find((e) => e.data.webhook_id === id));
    expect(notice.data).toMatchObject({ reason: 'failing' });
    const failed = await deliveriesOf(t, id);
    expect(failed.every((d) => d.status === 'failed')).toBe(true);
    // The first 4 KB of each response are kept. (An event recorded once the endpoint was
    // disabled has its delivery failed at once, with no attempt: look at one that was tried.)
    const tried = failed.find((d) => d.attempts.length > 0)!;
    expect(tried.attempts[0]).toMatchObject({ status_code: 503 });
    const logged = (await t.call('GET', `/api/v1/webhook-deliveries/${tried.id}`)).body.attempts[0].response_body as string;
    expect(logged.length).toBe(4096);

    expect((await t.call('POST', `/api/v1/webhooks/${id}/recover`, { json: { since } })).status).toBe(409);
    receiver.respond = () => ({ status: 204 });
    const enabled = await t.call('PATCH', `/api/v1/webhooks/${id}`, { json: { enabled: true } });
    expect(enabled.body).toMatchObject({ enabled: true, disabled_reason: null, failing_since: null });
    const recovered = await t.call('POST', `/api/v1/webhooks/${id}/recover`, { json: { since } });
    expect(recovered.status, recovered.text).toBe(202);
    // Every failed delivery of the period: the three tests, and any event emitted meanwhile.
    expect(recovered.body.recovered).toBe(failed.length);
    expect(eventIds.every((e) => failed.some((d) => d.event_id === e))).toBe(true);
    await eventually(async () => eventIds.every((e) => receiver.received.some((h) => h.id === e && h.status === 204)));
    // Recovering again finds nothing left to send.
    expect((await t.call('POST', `/api/v1/webhooks/${id}/recover`, { json: { since } })).body.recovered).toBe(0);

    const delivered = (await deliveriesOf(t, id)).find((d) => d.status === 'delivered')!;
    const again = await t.call('POST', `/api/v1/webhook-deliveries/${delivered.id}/redeliver`);
    expect(again.status).toBe(202);
    await eventually(async () => receiver.received.filter((h) => h.id === delivered.event_id && h.status === 204).length === 2);
    expect((await t.call('POST', `/api/v1/webhook-deliveries/whd_nope/redeliver`)).status).toBe(404);
    expect((await t.call('POST', `/api/v1/webhooks/${id}/recover`, { json: { since: 'yesterday' } })).status).toBe(400);
    await receiver.down();
  });

  it('logs a binary answer (NUL bytes) and settles the delivery', async () => {
    const receiver = await WebhookReceiver.start();
    receiver.respond = () => ({ status: 200, body: 'ok\u0000\u0001binary' });
    const { id } = await subscribe(t, receiver.url);
    await sendTests(t, id, 1);
    const [delivery] = await eventually(async () => {
      const ds = await deliveriesOf(t, id);
      return ds[0]?.status === 'delivered' ? ds : null;
    });
    expect(delivery!.attempts).toHaveLength(1);
    expect(receiver.received).toHaveLength(1);
    await t.call('DELETE', `/api/v1/webhooks/${id}`);
    await receiver.down();
  });

  it('recover sends the events that happened while the endpoint was disabled, once, however many recovers run at once', async () => {
    const receiver = await WebhookReceiver.start();
    const { id } = await subscribe(t, receiver.url, ['mapping.published']);
    expect((await t.call('PATCH', `/api/v1/webhooks/${id}`, { json: { enabled: false } })).body.enabled).toBe(false);
    const since = new Date(Date.now() - 1000).toISOString();
    const mappingIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const m = await t.call('POST', '/api/v1/mappings', { json: { name: `while disabled ${i}`, rules: [{ id: 'x', dataset: 'okta.users', control_ref: 'A', question_match: 'x', title: 'x', mode: 'info', payload: {} }] } });
      mappingIds.push(m.body.id);
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received).toHaveLength(0);
    await t.call('PATCH', `/api/v1/webhooks/${id}`, { json: { enabled: true } });
    const recovered = await Promise.all([1, 2, 3, 4].map(() => t.call('POST', `/api/v1/webhooks/${id}/recover`, { json: { since } })));
    expect(recovered.map((r) => r.status)).toEqual([202, 202, 202, 202]);
    expect(recovered.reduce((n, r) => n + r.body.recovered, 0)).toBe(3);
    await eventually(async () => mappingIds.every((m) => receiver.received.some((h) => parse(h).data.mapping_id === m)));
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.received).toHaveLength(3);
    await receiver.down();
  });

  it('caps the requests in flight to one endpoint, and a slow endpoint does not hold up another', async () => {
    const slow = await WebhookReceiver.start();
    slow.respond = () => ({ status: 204, delayMs: 700 });
    const fast = await WebhookReceiver.start();
    const s = await subscribe(t, slow.url);
    const f = await subscribe(t, fast.url);
    const slowIds = await sendTests(t, s.id, 8);
    const fastIds = await sendTests(t, f.id, 3);
    await eventually(async () => slowIds.every((e) => slow.received.some((h) => h.id === e)), { timeoutMs: 30_000 });
    expect(slow.maxInFlight).toBeLessThanOrEqual(2);
    expect(fastIds.every((e) => fast.received.some((h) => h.id === e))).toBe(true);
    const lastSlow = Math.max(...slow.received.map((h) => h.receivedAt));
    expect(Math.max(...fast.received.map((h) => h.receivedAt))).toBeLessThan(lastSlow);
    await slow.down();
    await fast.down();
  });

  it('does not follow redirects (even to an address it may reach)', async () => {
    const inside = await WebhookReceiver.start();
    const redirecting = await WebhookReceiver.start();
    redirecting.respond = () => ({ status: 302, headers: { location: inside.url } });
    const { id } = await subscribe(t, redirecting.url);
    await sendTests(t, id, 1);
    const [delivery] = await eventually(async () => {
      const ds = await deliveriesOf(t, id);
      return ds[0]?.attempts.length ? ds : null;
    });
    expect(delivery!.attempts[0]).toMatchObject({ status_code: 302 });
    expect(delivery!.attempts[0]!.error).toMatch(/redirects are not followed/);
    await t.call('DELETE', `/api/v1/webhooks/${id}`);
    expect(inside.received).toHaveLength(0);
    await inside.down();
    await redirecting.down();
  });
});

describe('SSRF: private addresses are refused unless HUB_ALLOW_PRIVATE_NETWORKS=true', () => {
  let t: TestHub;
  beforeAll(async () => { t = await startTestHub({ env: { HUB_ALLOW_PRIVATE_NETWORKS: 'false', HUB_WEBHOOK_DISPATCH_INTERVAL: '50ms', HUB_WEBHOOK_RETRY_SCHEDULE: '10m', HUB_WEBHOOK_HTTPS_ONLY: 'true' } }); });
  afterAll(async () => { await t?.stop(); });

  it('refuses loopback, link-local, metadata, IPv6 and IPv4-mapped literals and names resolving to them', async () => {
    // https, so that the private-address checks (not the https-only rule) are what refuses them.
    for (const url of ['https://127.0.0.1/hook', 'https://169.254.169.254/latest/meta-data', 'https://[::1]/hook', 'https://[::ffff:127.0.0.1]/hook', 'https://[::ffff:7f00:1]/hook',
      'https://[::7f00:1]/hook', 'https://10.0.0.7/hook', 'https://[fd00::1]/hook', 'https://[fe80::1]/hook', 'https://localhost:8080/hook', 'https://0.0.0.0/hook', `https://${os.hostname()}:8080/hook`]) {
      const res = await t.call('POST', '/api/v1/webhooks', { json: { url } });
      expect(res.status, url).toBe(400);
      expect(res.body.errors[0].pointer).toBe('/url');
      expect(res.body.errors[0].message, url).toMatch(/private|loopback/);
    }
    for (const url of ['file:///etc/passwd', 'https://user:pw@example.com/hook', 'gopher://example.com/']) {
      expect((await t.call('POST', '/api/v1/webhooks', { json: { url } })).status, url).toBe(400);
    }
    // HUB_WEBHOOK_HTTPS_ONLY: plain http is refused even for a public name.
    const plain = await t.call('POST', '/api/v1/webhooks', { json: { url: 'http://hooks.example.com/evidence' } });
    expect(plain.status).toBe(400);
    expect(plain.body.errors[0].message).toMatch(/https/);
    expect((await t.call('POST', '/api/v1/webhooks', { json: { url: 'https://hooks.example.com/evidence' } })).status).toBe(201);
  });

  it('checks the address again when connecting: a name that resolves privately later gets nothing', async () => {
    const receiver = await WebhookReceiver.start();
    // As if the name had resolved publicly when saved and was rebound since (DNS rebinding).
    const id = newId('wh');
    const host = os.hostname();
    const addresses = await lookup(host, { all: true });
    expect(addresses.every((a) => isPrivateAddress(a.address)), `${host} should resolve to a private address on this machine`).toBe(true);
    await t.hub.db.query(`INSERT INTO webhooks (id, workspace_id, url, events) VALUES ($1, 'default', $2, '{}')`, [id, `https://${host}:${receiver.port}/hooks`]);
    await t.hub.secrets.put({ workspaceId: 'default', type: 'webhook', id }, { secret: 'whsec_' + Buffer.alloc(32, 7).toString('base64') });
    await t.call('POST', `/api/v1/webhooks/${id}/test`);
    const [delivery] = await eventually(async () => {
      const ds = await deliveriesOf(t, id);
      return ds[0]?.attempts.length ? ds : null;
    });
    expect(delivery!.attempts[0]!.status_code).toBeNull();
    expect(delivery!.attempts[0]!.error).toMatch(/private address/);
    expect(receiver.received).toHaveLength(0);
    await receiver.down();
  });
});
