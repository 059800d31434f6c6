import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { parseDuration, parseDurationList } from '../../lib/duration.js';
import { retryDelay, webhookBody } from '../../activities/webhooks.js';
import { EndpointGate } from '../../webhooks/endpoint-gate.js';
import { generateWebhookSecret, signPayload, webhookHeaders } from '../../webhooks/signature.js';

describe('Standard Webhooks signing', () => {
  it('matches the specification’s reference implementation for id.timestamp.body', () => {
    const secret = generateWebhookSecret();
    const body = webhookBody({ event_id: 'evt_1', event_type: 'webhook.test', event_created_at: new Date('2026-11-22T00:00:00Z'), event_data: { message: 'héllo' } });
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = webhookHeaders([secret], 'evt_1', timestamp, body);
    expect(headers['webhook-signature']).toBe(new Webhook(secret).sign('evt_1', new Date(timestamp * 1000), body));
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(JSON.parse(body)).toEqual({ id: 'evt_1', type: 'webhook.test', timestamp: '2026-11-22T00:00:00.000Z', data: { message: 'héllo' } });
  });

  it('signs with every valid secret during a rotation, space-separated', () => {
    const [a, b] = [generateWebhookSecret(), generateWebhookSecret()];
    const headers = webhookHeaders([a, b], 'evt_2', 1_700_000_000, '{}');
    expect(headers['webhook-signature']!.split(' ')).toEqual([signPayload(a, 'evt_2', 1_700_000_000, '{}'), signPayload(b, 'evt_2', 1_700_000_000, '{}')]);
  });
});

describe('retry schedule', () => {
  const config = loadConfig({}).webhooks;

  it('defaults to docs/architecture.md, "Delivery": immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h', () => {
    expect(config.retryScheduleMs).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(config.disableAfterMs).toBe(5 * 86_400_000);
    expect(config.secretGraceMs).toBe(86_400_000);
    expect(config.requestTimeoutMs).toBe(15_000);
  });

  it('spreads each wait by the jitter and stops after the last step', () => {
    expect(retryDelay(config, 1, () => 0)).toBe(4_000);
    expect(retryDelay(config, 1, () => 1)).toBe(6_000);
    expect(retryDelay(config, 2, () => 0.5)).toBe(300_000);
    expect(retryDelay(config, 8)).toBeNull();
  });

  it('reads durations and refuses malformed ones at start-up', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1.5s')).toBe(1_500);
    expect(parseDurationList('1s, 2m,3h')).toEqual([1_000, 120_000, 10_800_000]);
    expect(parseDuration('soon')).toBeNull();
    expect(() => loadConfig({ HUB_WEBHOOK_RETRY_SCHEDULE: '5s,later' })).toThrow(/HUB_WEBHOOK_RETRY_SCHEDULE/);
    expect(() => loadConfig({ HUB_WEBHOOK_DISABLE_AFTER: '0s' })).toThrow(/HUB_WEBHOOK_DISABLE_AFTER/);
    expect(loadConfig({ HUB_WEBHOOK_RETRY_SCHEDULE: '1s,2s' }).webhooks.retryScheduleMs).toEqual([1_000, 2_000]);
  });
});

describe('EndpointGate', () => {
  it('lets at most `limit` requests in per endpoint and hands slots on in order', async () => {
    const gate = new EndpointGate(2);
    const a = await gate.acquire('e1', 100);
    const b = await gate.acquire('e1', 100);
    expect(await gate.acquire('e2', 100)).not.toBeNull(); // another endpoint is not affected
    expect(gate.current('e1')).toBe(2);
    expect(await gate.acquire('e1', 20)).toBeNull(); // full: the caller is told to come back
    const waiting = gate.acquire('e1', 1_000);
    a!();
    const c = await waiting;
    expect(c).not.toBeNull();
    expect(gate.current('e1')).toBe(2);
    b!();
    c!();
    c!(); // releasing twice is harmless
    expect(gate.current('e1')).toBe(0);
  });
});
