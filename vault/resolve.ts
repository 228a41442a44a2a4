// Name → dial target, with the SSRF guard (DESIGN.md §3.4): the vault resolves names itself, checks
// every address it got, and hands back the address it checked so that nothing resolves twice.
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { matchesAny, normalizeHost } from './hosts.ts';
import { classifyAddress, decideEgress } from './policy.ts';
import type { EgressPolicy } from './types.ts';

export interface DialTarget {
  host: string;
  address: string;
  family: 4 | 6;
  port: number;
}

/** The vault will not dial this host; `reason` is short text for the user and the audit log. */
export class EgressRefusedError extends Error {
  readonly host: string;
  readonly reason: string;

  constructor(host: string, reason: string) {
    super(reason);
    this.name = 'EgressRefusedError';
    this.host = host;
    this.reason = reason;
  }
}

export interface ResolverOptions {
  /** Explicit name → address map (tests, operators): value 'ip' or 'ip:port' ('[v6]:port' too). When a name is in the map, DNS is never asked. */
  hosts?: Record<string, string>;
  /** Real lookup, injectable; default node:dns/promises lookup with all: true. */
  lookup?: (host: string) => Promise<{ address: string; family: number }[]>;
}

export type Resolve = (host: string, defaultPort: number, policy: EgressPolicy) => Promise<DialTarget>;

interface Candidate {
  address: string;
  port?: number;
}

/**
 * Map entries go through the same address check as DNS answers: a test upstream on 127.0.0.1 needs
 * its name in the policy's allowPrivate, exactly as a real private upstream would.
 */
export function createResolver(opts: ResolverOptions): Resolve {
  const mapped = parseHostsMap(opts.hosts ?? {});
  const lookup = opts.lookup ?? lookupAll;
  return async (host, defaultPort, policy) => {
    assertPort(defaultPort, 'defaultPort');
    const name = normalizeHost(host);
    refuseIpLiteral(name);
    const decision = decideEgress(policy, name);
    if (!decision.allowed) throw new EgressRefusedError(name, decision.reason);
    const fromMap = mapped.get(name);
    const candidates = fromMap ? [fromMap] : await lookupCandidates(lookup, name);
    const chosen = chooseAddress(name, candidates, matchesAny(policy.allowPrivate, name));
    const family = isIP(chosen.address) === 6 ? 6 : 4;
    return { host: name, address: chosen.address, family, port: chosen.port ?? defaultPort };
  };
}

async function lookupAll(host: string): Promise<{ address: string; family: number }[]> {
  return dnsLookup(host, { all: true, order: 'ipv4first' });
}

async function lookupCandidates(lookup: NonNullable<ResolverOptions['lookup']>, name: string): Promise<Candidate[]> {
  try {
    return (await lookup(name)).map(({ address }) => ({ address }));
  } catch (error) {
    // A failed lookup is an upstream error, not a policy decision: it is not an EgressRefusedError.
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new Error(`resolving host ${name} failed: ${code}`, { cause: error });
  }
}

/** Picks the first public address (IPv4 first); other classes only when allowPrivate names the host. */
function chooseAddress(name: string, candidates: Candidate[], privateAllowed: boolean): Candidate {
  const usable = candidates.filter((c) => isIP(c.address) !== 0);
  if (usable.length === 0) throw new EgressRefusedError(name, `host ${name} did not resolve to any address`);
  const permitted = privateAllowed ? usable : usable.filter((c) => classifyAddress(c.address) === 'public');
  const chosen = permitted.find((c) => isIP(c.address) === 4) ?? permitted[0];
  if (chosen) return chosen;
  const [first] = usable as [Candidate];
  throw new EgressRefusedError(
    name,
    `host ${name} resolves to ${first.address} (${classifyAddress(first.address)}), which the egress policy ` +
      'does not allow; add it to allowPrivate to permit',
  );
}

function refuseIpLiteral(name: string): void {
  const bare = name.replace(/^\[(.*)\]$/, '$1');
  // The last-label test also catches the forms getaddrinfo and URL parsers read as IPv4: 127.1, 0x7f000001.
  const lastLabel = bare.split('.').at(-1) ?? '';
  if (isIP(bare) !== 0 || /^(0x[0-9a-f]*|[0-9]+)$/i.test(lastLabel)) {
    throw new EgressRefusedError(name, `host ${name} is an IP address; the vault routes by name only`);
  }
}

function parseHostsMap(hosts: Record<string, string>): Map<string, Candidate> {
  const map = new Map<string, Candidate>();
  for (const [name, value] of Object.entries(hosts)) {
    map.set(normalizeHost(name), parseHostsValue(value, `hosts[${JSON.stringify(name)}]`));
  }
  return map;
}

/** 'ip', 'ip:port' or '[v6]:port'; a bare IPv6 address has no port. */
function parseHostsValue(value: string, field: string): Candidate {
  if (typeof value === 'string' && isIP(value) !== 0) return { address: value };
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(typeof value === 'string' ? value : '');
  const address = match?.[1] ?? match?.[2] ?? '';
  const port = Number(match?.[3]);
  const validFamily = match?.[1] !== undefined ? isIP(address) === 6 : isIP(address) === 4;
  if (!match || !validFamily) {
    throw new TypeError(`${field}: expected 'ip', 'ip:port' or '[v6]:port', got ${JSON.stringify(value)}`);
  }
  assertPort(port, field);
  return { address, port };
}

function assertPort(port: number, field: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError(`${field}: port must be an integer from 1 to 65535, got ${String(port)}`);
  }
}
