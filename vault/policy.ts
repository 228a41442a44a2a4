// Egress decisions by host name, and the address classes behind the SSRF guard (DESIGN.md §3.4).
import { isIP } from 'node:net';
import { matchesAny, normalizeHost } from './hosts.ts';
import type { EgressPolicy } from './types.ts';

export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'cgnat'
  | 'link-local'
  | 'metadata'
  | 'multicast'
  | 'unspecified'
  | 'reserved'
  | 'broadcast';

interface Range<N> {
  base: N;
  bits: number;
  cls: AddressClass;
}

// First match wins, so the narrow ranges (metadata, broadcast) come before the blocks that hold them.
const IPV4_RANGES: readonly Range<number>[] = [
  v4('169.254.169.254/32', 'metadata'), // AWS, GCP, Azure, OpenStack
  v4('100.100.100.200/32', 'metadata'), // Alibaba Cloud
  v4('192.0.0.192/32', 'metadata'), // Oracle Cloud
  v4('255.255.255.255/32', 'broadcast'),
  v4('0.0.0.0/8', 'unspecified'),
  v4('127.0.0.0/8', 'loopback'),
  v4('10.0.0.0/8', 'private'),
  v4('172.16.0.0/12', 'private'),
  v4('192.168.0.0/16', 'private'),
  v4('100.64.0.0/10', 'cgnat'),
  v4('169.254.0.0/16', 'link-local'),
  v4('224.0.0.0/4', 'multicast'),
  v4('192.0.0.0/24', 'reserved'), // IETF protocol assignments
  v4('192.0.2.0/24', 'reserved'), // TEST-NET-1
  v4('192.88.99.0/24', 'reserved'), // former 6to4 relay anycast
  v4('198.18.0.0/15', 'reserved'), // benchmarking
  v4('198.51.100.0/24', 'reserved'), // TEST-NET-2
  v4('203.0.113.0/24', 'reserved'), // TEST-NET-3
  v4('240.0.0.0/4', 'reserved'),
];

// Addresses that carry an IPv4 address in their low 32 bits are classified by that address.
const IPV4_MAPPED = v6('::ffff:0:0/96', 'reserved');
const NAT64 = v6('64:ff9b::/96', 'reserved');

const IPV6_RANGES: readonly Range<bigint>[] = [
  v6('::/128', 'unspecified'),
  v6('::1/128', 'loopback'),
  v6('fd00:ec2::254/128', 'metadata'), // AWS IMDS over IPv6
  v6('fc00::/7', 'private'),
  v6('fec0::/10', 'private'), // deprecated site-local
  v6('fe80::/10', 'link-local'),
  v6('ff00::/8', 'multicast'),
  v6('2001::/23', 'reserved'), // IETF protocol assignments, incl. Teredo
  v6('2001:db8::/32', 'reserved'), // documentation
  v6('2002::/16', 'reserved'), // 6to4: tunnels to an embedded IPv4 address
  v6('3fff::/20', 'reserved'), // documentation
  v6('2000::/3', 'public'), // global unicast; everything outside it is reserved
];

/** Classifies an IPv4 or IPv6 address. Throws a TypeError when `ip` is not an IP address. */
export function classifyAddress(ip: string): AddressClass {
  const address = ip.replace(/%.*$/, ''); // a zone id (fe80::1%eth0) says nothing about the class
  const family = isIP(address);
  if (family === 4) return classifyIpv4(parseIpv4(address));
  if (family === 6) return classifyIpv6(parseIpv6(address));
  throw new TypeError(`ip: not an IP address: ${JSON.stringify(ip)}`);
}

function classifyIpv4(value: number): AddressClass {
  return IPV4_RANGES.find((range) => inIpv4Range(value, range))?.cls ?? 'public';
}

function classifyIpv6(value: bigint): AddressClass {
  if (inIpv6Range(value, IPV4_MAPPED) || inIpv6Range(value, NAT64)) {
    return classifyIpv4(Number(value & 0xffff_ffffn));
  }
  return IPV6_RANGES.find((range) => inIpv6Range(value, range))?.cls ?? 'reserved';
}

function inIpv4Range(value: number, range: Range<number>): boolean {
  // Division instead of >>> keeps the arithmetic unsigned.
  const size = 2 ** (32 - range.bits);
  return Math.floor(value / size) === Math.floor(range.base / size);
}

function inIpv6Range(value: bigint, range: Range<bigint>): boolean {
  const shift = BigInt(128 - range.bits);
  return value >> shift === range.base >> shift;
}

function v4(cidr: string, cls: AddressClass): Range<number> {
  return parseRange(cidr, cls, parseIpv4);
}

function v6(cidr: string, cls: AddressClass): Range<bigint> {
  return parseRange(cidr, cls, parseIpv6);
}

function parseRange<N>(cidr: string, cls: AddressClass, parse: (ip: string) => N): Range<N> {
  const [address = '', bits = ''] = cidr.split('/');
  return { base: parse(address), bits: Number(bits), cls };
}

function parseIpv4(ip: string): number {
  return ip.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

/** Parses an address already validated by isIP(): `::` shorthand and a dotted IPv4 tail included. */
function parseIpv6(ip: string): bigint {
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(ip)?.[1];
  const hex = dotted === undefined ? ip : ip.slice(0, -dotted.length) + ipv4AsHexGroups(dotted);
  const [head = '', tail] = hex.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros: string[] = Array(8 - headGroups.length - tailGroups.length).fill('0');
  const groups = tail === undefined ? headGroups : [...headGroups, ...zeros, ...tailGroups];
  return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

function ipv4AsHexGroups(dotted: string): string {
  const value = parseIpv4(dotted);
  return `${Math.floor(value / 65536).toString(16)}:${(value % 65536).toString(16)}`;
}

export interface EgressDecision {
  allowed: boolean;
  reason: string;
}

/** Deny list wins, then the allow list, then the policy's default. */
export function decideEgress(policy: EgressPolicy, host: string): EgressDecision {
  const name = normalizeHost(host);
  if (!isHostName(name)) return { allowed: false, reason: `${JSON.stringify(host)} is not a valid host name` };
  if (matchesAny(policy.deny, name)) return { allowed: false, reason: `host ${name} is on the deny list` };
  if (matchesAny(policy.allow, name)) return { allowed: true, reason: `host ${name} is on the allow list` };
  if (policy.default === 'allow') return { allowed: true, reason: `host ${name} is allowed by default` };
  return { allowed: false, reason: `host ${name} is not on the allow list and the default is deny` };
}

const HOST_LABEL = /^[a-z0-9_-]{1,63}$/;

/** A DNS name made of ordinary labels, or an IP literal; so junk never reaches "allowed by default". */
function isHostName(name: string): boolean {
  if (isIP(name) !== 0) return true;
  return name.length <= 253 && name.split('.').every((label) => HOST_LABEL.test(label));
}

// Frozen so that no caller can widen every sandbox's policy by mutating the shared default.
export const DEFAULT_POLICY: EgressPolicy = Object.freeze({
  default: 'allow',
  allow: Object.freeze([]) as readonly string[] as string[],
  deny: Object.freeze([]) as readonly string[] as string[],
  allowPrivate: Object.freeze([]) as readonly string[] as string[],
});
