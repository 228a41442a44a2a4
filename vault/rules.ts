// The sandbox's egress rules (DESIGN.md §3.1), emitted as iptables-restore input so that the local
// runtime (`ip netns exec`) and the Kubernetes init container apply exactly the same text.
import { isIPv4 } from 'node:net';
import { runToolOrThrow } from './run-tool.ts';

export interface VaultPorts {
  tls: number;
  http: number;
  dns: number;
}

export type EgressRulesInput =
  | { mode: 'local'; vaultAddress: string /* H, host end of the veth */; ports: VaultPorts; agentPort?: number }
  | { mode: 'kubernetes'; vaultUid: number; ports: VaultPorts; agentPort: number; controlPort: number };

/** iptables-restore / ip6tables-restore input. Restore replaces each named table, so applying twice is harmless. */
export interface EgressRuleSet {
  iptables: string;
  ip6tables: string;
}

// The nft backend is named explicitly: on hosts where plain `iptables` points at the legacy
// backend, mixing the two would leave two rule sets, and only one of them visible to `iptables -S`.
const IPTABLES_RESTORE = 'iptables-nft-restore';
const IP6TABLES_RESTORE = 'ip6tables-nft-restore';
const DISABLE_IPV6_SYSCTLS = [
  '/proc/sys/net/ipv6/conf/all/disable_ipv6',
  '/proc/sys/net/ipv6/conf/default/disable_ipv6',
];

const ESTABLISHED = '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT';
const INVALID = '-m conntrack --ctstate INVALID -j DROP';

export function egressRules(input: EgressRulesInput): EgressRuleSet {
  if (typeof input !== 'object' || input === null) throw new TypeError('egressRules: input must be an object');
  if (input.mode === 'local') return { iptables: localRules(input), ip6tables: ip6DropAll() };
  if (input.mode === 'kubernetes') return { iptables: kubernetesRules(input), ip6tables: ip6DropAll() };
  const mode = JSON.stringify((input as { mode?: unknown }).mode);
  throw new TypeError(`egressRules: mode must be 'local' or 'kubernetes', got ${mode}`);
}

type LocalInput = Extract<EgressRulesInput, { mode: 'local' }>;
type KubernetesInput = Extract<EgressRulesInput, { mode: 'kubernetes' }>;

function localRules(input: LocalInput): string {
  const vault = checkIPv4('vaultAddress', input.vaultAddress);
  const ports = checkVaultPorts(input.ports);
  const agentPort = input.agentPort === undefined ? undefined : checkPort('agentPort', input.agentPort);
  const nat = [
    '-A OUTPUT -o lo -j RETURN',
    `-A OUTPUT -p tcp --dport 443 -j DNAT --to-destination ${vault}:${ports.tls}`,
    `-A OUTPUT -p tcp --dport 80 -j DNAT --to-destination ${vault}:${ports.http}`,
    `-A OUTPUT -p udp --dport 53 -j DNAT --to-destination ${vault}:${ports.dns}`,
    `-A OUTPUT -p tcp --dport 53 -j DNAT --to-destination ${vault}:${ports.dns}`,
  ];
  const filter = [
    '-A OUTPUT -o lo -j ACCEPT',
    `-A OUTPUT ${INVALID}`,
    `-A OUTPUT ${ESTABLISHED}`,
    ...vaultListeners(vault, ports),
    ...inputChain(agentPort === undefined ? [] : [`-s ${vault}/32 -p tcp --dport ${agentPort}`]),
  ];
  return natTable(nat) + filterTable(filter);
}

function kubernetesRules(input: KubernetesInput): string {
  const uid = checkUid('vaultUid', input.vaultUid);
  const ports = checkVaultPorts(input.ports);
  const agentPort = checkPort('agentPort', input.agentPort);
  const controlPort = checkPort('controlPort', input.controlPort);
  checkDistinct({ 'ports.tls': ports.tls, 'ports.http': ports.http, 'ports.dns': ports.dns, agentPort, controlPort });
  const vaultOwner = `-m owner --uid-owner ${uid}`;
  const nat = [
    `-A OUTPUT ${vaultOwner} -j RETURN`,
    '-A OUTPUT -o lo -j RETURN',
    `-A OUTPUT -p tcp --dport 443 -j REDIRECT --to-ports ${ports.tls}`,
    `-A OUTPUT -p tcp --dport 80 -j REDIRECT --to-ports ${ports.http}`,
    `-A OUTPUT -p udp --dport 53 -j REDIRECT --to-ports ${ports.dns}`,
    `-A OUTPUT -p tcp --dport 53 -j REDIRECT --to-ports ${ports.dns}`,
  ];
  const filter = [
    '-A OUTPUT -o lo -j ACCEPT',
    `-A OUTPUT ${INVALID}`,
    `-A OUTPUT ${ESTABLISHED}`,
    `-A OUTPUT ${vaultOwner} -j ACCEPT`,
    // REDIRECT rewrites the destination to 127.0.0.1, but `-o` still names the original interface
    // in this hook, so `-o lo` does not cover redirected packets: accept them by their new destination.
    ...vaultListeners('127.0.0.1', ports),
    ...inputChain([`-p tcp --dport ${agentPort}`, `-p tcp --dport ${controlPort}`]),
  ];
  return natTable(nat) + filterTable(filter);
}

/** OUTPUT openings to exactly the vault's interception listeners at `address`. */
function vaultListeners(address: string, ports: VaultPorts): string[] {
  return [
    `-A OUTPUT -d ${address}/32 -p tcp --dport ${ports.tls} -j ACCEPT`,
    `-A OUTPUT -d ${address}/32 -p tcp --dport ${ports.http} -j ACCEPT`,
    `-A OUTPUT -d ${address}/32 -p udp --dport ${ports.dns} -j ACCEPT`,
    `-A OUTPUT -d ${address}/32 -p tcp --dport ${ports.dns} -j ACCEPT`,
  ];
}

/** INPUT: loopback, replies, then the listed openings; INVALID goes first as on OUTPUT. */
function inputChain(openings: string[]): string[] {
  const accepts = openings.map((match) => `-A INPUT ${match} -j ACCEPT`);
  return ['-A INPUT -i lo -j ACCEPT', `-A INPUT ${INVALID}`, `-A INPUT ${ESTABLISHED}`, ...accepts];
}

function natTable(rules: string[]): string {
  const chains = [':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]'];
  return ['*nat', ...chains, ...rules, 'COMMIT', ''].join('\n');
}

function filterTable(rules: string[]): string {
  return ['*filter', ':INPUT DROP [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT DROP [0:0]', ...rules, 'COMMIT', ''].join('\n');
}

/** IPv6 is switched off by sysctl; these policies are the second wall should it come back. */
function ip6DropAll(): string {
  return filterTable([]);
}

function checkIPv4(field: string, value: unknown): string {
  if (typeof value !== 'string' || !isIPv4(value)) {
    throw new TypeError(`egressRules: ${field} must be an IPv4 address like 10.213.0.2, got ${JSON.stringify(value)}`);
  }
  return value;
}

function checkPort(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new TypeError(`egressRules: ${field} must be an integer port in 1..65535, got ${JSON.stringify(value)}`);
  }
  return value;
}

function checkVaultPorts(value: unknown): VaultPorts {
  if (typeof value !== 'object' || value === null) throw new TypeError('egressRules: ports must be an object {tls, http, dns}');
  const raw = value as Record<string, unknown>;
  const ports = {
    tls: checkPort('ports.tls', raw.tls),
    http: checkPort('ports.http', raw.http),
    dns: checkPort('ports.dns', raw.dns),
  };
  checkDistinct({ 'ports.tls': ports.tls, 'ports.http': ports.http, 'ports.dns': ports.dns });
  return ports;
}

function checkDistinct(ports: Record<string, number>): void {
  const seen = new Map<number, string>();
  for (const [field, port] of Object.entries(ports)) {
    const other = seen.get(port);
    if (other) throw new TypeError(`egressRules: ${field} and ${other} are both ${port}; each listener needs its own port`);
    seen.set(port, field);
  }
}

function checkUid(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 4294967294) {
    throw new TypeError(`egressRules: ${field} must be an integer uid in 1..4294967294, got ${JSON.stringify(value)}`);
  }
  if (value === 0) throw new TypeError(`egressRules: ${field} must not be 0: root's traffic would then bypass the vault`);
  return value;
}

/**
 * Applies a rule set inside a netns (null = the current one, as in the Kubernetes init container):
 * disables IPv6 by sysctl, then restores the IPv4 and IPv6 tables. Throws with the tool's stderr on failure.
 */
export async function applyEgressRules(netns: string | null, rules: EgressRuleSet): Promise<void> {
  if (netns !== null && (typeof netns !== 'string' || netns === '' || netns.includes('/'))) {
    throw new TypeError(`applyEgressRules: netns must be a namespace name or null, got ${JSON.stringify(netns)}`);
  }
  if (typeof rules?.iptables !== 'string' || typeof rules.ip6tables !== 'string') {
    throw new TypeError('applyEgressRules: rules must be {iptables, ip6tables} strings from egressRules()');
  }
  const inNetns = (argv: string[]) => (netns === null ? argv : ['ip', 'netns', 'exec', netns, ...argv]);
  // tee writes from inside the netns: /proc/sys/net belongs to the network namespace of the writer.
  await runToolOrThrow(inNetns(['tee', ...DISABLE_IPV6_SYSCTLS]), '1\n');
  await runToolOrThrow(inNetns([IPTABLES_RESTORE]), rules.iptables);
  await runToolOrThrow(inNetns([IP6TABLES_RESTORE]), rules.ip6tables);
}
