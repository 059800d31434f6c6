import dns from 'node:dns';
import net from 'node:net';
import { HubError } from './errors.js';

/**
 * Outbound calls (sources, destinations, webhooks) must not reach the hub's own network:
 * loopback, private ranges, link-local (cloud metadata at 169.254.169.254), CGNAT,
 * unique-local and site-local IPv6, and IPv4 addresses dressed up as IPv6 (mapped, 6to4, NAT64). The check runs on the literal
 * URL when it is configured AND on every address DNS returns when the connection is made,
 * so a hostname that later resolves to a private address (DNS rebinding) is refused too.
 */
const BLOCKED_V4: [string, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
];
const BLOCKED_V6: [string, number][] = [
  // ::/96 (IPv4-compatible, deprecated) and ::ffff:0:0:0/96 (IPv4-translated) carry IPv4 addresses; IPv4-mapped ones are checked as IPv4 (embeddedV4).
  ['::', 96], ['::ffff:0:0:0', 96], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32], ['64:ff9b::', 96], ['100::', 64],
  // 6to4 (2002::/16) and NAT64 (64:ff9b::/96 well-known, 64:ff9b:1::/48 local-use) embed an IPv4 address that a relay or
  // translator turns into a connection to it, private or not; site-local (fec0::/10) is deprecated but still routed internally.
  ['2002::', 16], ['64:ff9b:1::', 48], ['fec0::', 10],
];

const blockList = new net.BlockList();
for (const [address, prefix] of BLOCKED_V4) blockList.addSubnet(address, prefix, 'ipv4');
for (const [address, prefix] of BLOCKED_V6) blockList.addSubnet(address, prefix, 'ipv6');

/** The IPv4 address inside an IPv4-mapped or -compatible IPv6 address (::ffff:10.0.0.1), if any. */
function embeddedV4(address: string): string | null {
  const match = /^(?:0*:)*(?:ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address) ?? /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!match) return null;
  if (match.length === 2) return match[1]!;
  const hi = parseInt(match[1]!, 16);
  const lo = parseInt(match[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').split('%')[0]!;
  const family = net.isIP(bare);
  if (family === 4) return blockList.check(bare, 'ipv4');
  if (family === 6) {
    const v4 = embeddedV4(bare);
    if (v4) return blockList.check(v4, 'ipv4');
    return blockList.check(bare, 'ipv6');
  }
  return false;
}

const LOCAL_NAMES = /^(localhost|localhost\.localdomain|ip6-localhost|ip6-loopback)$|\.localhost$|\.local$|\.internal$/i;

/**
 * Checks a configured URL: http(s) only, no credentials in it, and (unless private networks
 * are allowed) no private literal address or local hostname. Throws a 400 problem pointing
 * at `pointer`.
 */
export function assertOutboundUrl(raw: string, options: { allowPrivateNetworks: boolean; pointer: string; httpsOnly?: boolean }): URL {
  let url: URL;
  const fail = (message: string): never => {
    throw HubError.validation([{ pointer: options.pointer, message }], `The URL is not allowed: ${message}.`);
  };
  try {
    url = new URL(raw);
  } catch {
    return fail('must be an absolute URL');
  }
  if (url.protocol !== 'https:' && (options.httpsOnly || url.protocol !== 'http:')) fail(options.httpsOnly ? 'must use https' : 'must use http or https');
  if (url.username || url.password) fail('must not carry credentials; use the secrets fields');
  if (!options.allowPrivateNetworks) {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isPrivateAddress(host) || LOCAL_NAMES.test(host)) {
      fail('points at a loopback, private or link-local address (set HUB_ALLOW_PRIVATE_NETWORKS=true to allow)');
    }
  }
  return url;
}

export class PrivateAddressError extends Error {
  readonly code = 'EPRIVATEADDRESS';
  constructor(host: string, address: string) {
    super(`refused to connect to ${host}: it resolves to the private address ${address} (set HUB_ALLOW_PRIVATE_NETWORKS=true to allow)`);
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net/tls connections that resolves normally and refuses private results;
 * used by the outbound HTTP client, so the check happens on the address actually dialled.
 */
export function guardedLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '');
    const list = addresses as dns.LookupAddress[];
    const bad = list.find((a) => isPrivateAddress(a.address));
    if (bad) return callback(new PrivateAddressError(hostname, bad.address) as unknown as NodeJS.ErrnoException, '');
    if (options.all) return callback(null, list);
    const first = list[0]!;
    callback(null, first.address, first.family);
  });
}
