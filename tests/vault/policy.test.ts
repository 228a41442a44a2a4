import { describe, expect, it } from 'vitest';
import { classifyAddress, decideEgress, DEFAULT_POLICY } from '../../vault/policy.ts';
import type { AddressClass } from '../../vault/policy.ts';
import type { EgressPolicy } from '../../vault/types.ts';

const CLASSIFICATION: [string, AddressClass][] = [
  // IPv4
  ['93.184.216.34', 'public'],
  ['8.8.8.8', 'public'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['10.0.0.5', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['172.32.0.1', 'public'],
  ['192.168.1.1', 'private'],
  ['100.64.0.1', 'cgnat'],
  ['100.127.255.255', 'cgnat'],
  ['100.128.0.1', 'public'],
  ['169.254.1.1', 'link-local'],
  ['169.254.169.254', 'metadata'],
  ['100.100.100.200', 'metadata'],
  ['192.0.0.192', 'metadata'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['198.18.0.1', 'reserved'],
  ['198.19.255.255', 'reserved'],
  ['192.0.2.10', 'reserved'],
  ['198.51.100.7', 'reserved'],
  ['203.0.113.9', 'reserved'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.254', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  // IPv6
  ['2606:4700::1111', 'public'],
  ['2a00:1450:4001:81b::200e', 'public'],
  ['::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['::', 'unspecified'],
  ['fc00::1', 'private'],
  ['fd12:3456::1', 'private'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['febf::1', 'link-local'],
  ['ff02::1', 'multicast'],
  ['fd00:ec2::254', 'metadata'],
  ['2001:db8::1', 'reserved'],
  ['2002:7f00:1::', 'reserved'],
  ['100::1', 'reserved'],
  // IPv4-mapped and NAT64: the embedded IPv4 address decides
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::ffff:169.254.169.254', 'metadata'],
  ['::ffff:10.1.2.3', 'private'],
  ['::ffff:93.184.216.34', 'public'],
  ['64:ff9b::a9fe:a9fe', 'metadata'],
  ['64:ff9b::10.0.0.1', 'private'],
  ['64:ff9b::8.8.8.8', 'public'],
];

describe('classifyAddress', () => {
  it.each(CLASSIFICATION)('%s is %s', (ip, expected) => {
    expect(classifyAddress(ip)).toBe(expected);
  });

  it('refuses something that is not an IP address, naming the field', () => {
    expect(() => classifyAddress('example.com')).toThrow(/ip: not an IP address: "example.com"/);
    expect(() => classifyAddress('256.1.1.1')).toThrow(TypeError);
  });
});

function policy(overrides: Partial<EgressPolicy>): EgressPolicy {
  return { default: 'allow', allow: [], deny: [], allowPrivate: [], ...overrides };
}

describe('decideEgress', () => {
  it('lets everything through under the default policy', () => {
    expect(decideEgress(DEFAULT_POLICY, 'api.github.com')).toEqual({
      allowed: true,
      reason: 'host api.github.com is allowed by default',
    });
  });

  it('refuses a host on the deny list, even when the allow list names it too', () => {
    const p = policy({ allow: ['evil.com', '*.evil.com'], deny: ['evil.com'] });
    expect(decideEgress(p, 'evil.com')).toEqual({ allowed: false, reason: 'host evil.com is on the deny list' });
    expect(decideEgress(p, 'www.evil.com').allowed).toBe(true);
  });

  it('denies subdomains at any depth with a wildcard, but not the suffix itself', () => {
    const p = policy({ deny: ['*.tracker.net'] });
    expect(decideEgress(p, 'a.b.tracker.net').allowed).toBe(false);
    expect(decideEgress(p, 'tracker.net').allowed).toBe(true);
  });

  it('under default deny, allows only the allow list and says why the rest is refused', () => {
    const p = policy({ default: 'deny', allow: ['api.anthropic.com', '*.githubusercontent.com'] });
    expect(decideEgress(p, 'api.anthropic.com')).toEqual({
      allowed: true,
      reason: 'host api.anthropic.com is on the allow list',
    });
    expect(decideEgress(p, 'raw.githubusercontent.com').allowed).toBe(true);
    expect(decideEgress(p, 'x.example')).toEqual({
      allowed: false,
      reason: 'host x.example is not on the allow list and the default is deny',
    });
  });

  it('normalizes the host: case, trailing dot, port', () => {
    const p = policy({ deny: ['evil.com'] });
    expect(decideEgress(p, 'EVIL.com.')).toEqual({ allowed: false, reason: 'host evil.com is on the deny list' });
    expect(decideEgress(p, 'Evil.COM:443').allowed).toBe(false);
  });

  it('refuses names that are not host names even when the default is allow', () => {
    expect(decideEgress(DEFAULT_POLICY, '')).toEqual({ allowed: false, reason: '"" is not a valid host name' });
    expect(decideEgress(DEFAULT_POLICY, 'a b.com').allowed).toBe(false);
    expect(decideEgress(DEFAULT_POLICY, 'evil.com/x').allowed).toBe(false);
    expect(decideEgress(DEFAULT_POLICY, 'a..b').allowed).toBe(false);
    expect(decideEgress(DEFAULT_POLICY, `${'a'.repeat(64)}.com`).allowed).toBe(false);
  });

  it('has a default policy that allows by default with empty lists, and cannot be mutated', () => {
    expect(DEFAULT_POLICY).toEqual({ default: 'allow', allow: [], deny: [], allowPrivate: [] });
    expect(() => DEFAULT_POLICY.allowPrivate.push('*.internal')).toThrow(TypeError);
    expect(() => {
      (DEFAULT_POLICY as { default: string }).default = 'deny';
    }).toThrow(TypeError);
  });
});
