import { describe, expect, it } from 'vitest';
import { assertOutboundUrl, guardedLookup, isPrivateAddress } from '../../lib/net-guard.js';

describe('private network guard', () => {
  it('recognises loopback, private, link-local, metadata, CGNAT, unique-local and mapped addresses', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fc12::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:7f00:1', '::7f00:1', '::ffff:0:7f00:1', '[::1]']) {
      expect(isPrivateAddress(address), address).toBe(true);
    }
    for (const address of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8', 'example.com']) {
      expect(isPrivateAddress(address), address).toBe(false);
    }
  });

  it('refuses private URLs unless allowed, and always refuses other schemes and embedded credentials', () => {
    const strict = { allowPrivateNetworks: false, pointer: '/config/base_url' };
    for (const url of ['http://127.0.0.1:8080', 'http://localhost/x', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/', 'http://10.0.0.5', 'http://[::ffff:127.0.0.1]/', 'http://metadata.google.internal/', 'http://2130706433/']) {
      expect(() => assertOutboundUrl(url, strict), url).toThrow(/not allowed/);
    }
    expect(assertOutboundUrl('https://example.okta.com', strict).hostname).toBe('example.okta.com');
    expect(assertOutboundUrl('http://127.0.0.1:9', { ...strict, allowPrivateNetworks: true }).port).toBe('9');
    for (const url of ['ftp://example.com', 'file:///etc/passwd', 'https://user:pw@example.com', 'not a url']) {
      expect(() => assertOutboundUrl(url, { ...strict, allowPrivateNetworks: true }), url).toThrow();
    }
    expect(() => assertOutboundUrl('http://example.com', { ...strict, httpsOnly: true })).toThrow(/https/);
    try {
      assertOutboundUrl('http://127.0.0.1', strict);
    } catch (err) {
      expect((err as { extra: { errors: unknown[] } }).extra.errors).toEqual([{ pointer: '/config/base_url', message: expect.stringContaining('HUB_ALLOW_PRIVATE_NETWORKS') }]);
    }
  });

  it('refuses at connection time a hostname that resolves to a private address', async () => {
    const result = await new Promise<{ err: Error | null }>((resolve) => guardedLookup('localhost', {}, (err) => resolve({ err })));
    expect(result.err?.message).toMatch(/private address/);
  });
});
