import { describe, expect, it } from 'vitest';
import { assertOutboundUrl, isPrivateAddress } from '../../lib/net-guard.js';

describe('private network guard: IPv4 tunnelled or translated through IPv6, and site-local IPv6', () => {
  const tunnelled = [
    '2002:7f00:1::', // 6to4 of 127.0.0.1
    '2002:a9fe:a9fe::1', // 6to4 of 169.254.169.254
    '2002:808:808::1', // 6to4 of a public address: the relay is still an open door
    'fec0::1', // site-local
    'feff:ffff::1', // top of fec0::/10
    '64:ff9b::7f00:1', // NAT64 well-known prefix, 127.0.0.1
    '64:ff9b::169.254.169.254',
    '64:ff9b:1::a00:1', // NAT64 local-use prefix
    '64:ff9b:1:ffff::1',
  ];

  it('recognises 6to4, NAT64 (well-known and local-use) and site-local addresses as private', () => {
    for (const address of tunnelled) expect(isPrivateAddress(address), address).toBe(true);
    // Neighbours of the new ranges stay public.
    for (const address of ['2003::1', '2001:4860::8888', 'fe00::1', '64:ff9b:2::1', '64:ff9a::1']) {
      expect(isPrivateAddress(address), address).toBe(false);
    }
  });

  it('refuses URLs with such literals unless private networks are allowed', () => {
    const strict = { allowPrivateNetworks: false, pointer: '/url' };
    for (const address of tunnelled) {
      const url = `http://[${address}]/hook`;
      expect(() => assertOutboundUrl(url, strict), url).toThrow(/not allowed/);
      expect(assertOutboundUrl(url, { ...strict, allowPrivateNetworks: true }).pathname, url).toBe('/hook');
    }
  });
});
