// DESIGN.md §3.1: the emitted rule text, then the rules at work in a real netns built by the testbed,
// probed by a real unprivileged client against stand-in listeners this test starts on the host.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEgressRules, egressRules, type EgressRulesInput, type VaultPorts } from '../../vault/rules.ts';
import { runTool, runToolOrThrow } from '../../vault/run-tool.ts';
import { createTestSandbox, type TestSandbox } from '../../vault/testbed.ts';
import { ensureSystemUser, type SystemUser } from '../../vault/host/users.ts';

const PORTS: VaultPorts = { tls: 15443, http: 15080, dns: 15053 };

/** `-P`-style policy and the ordered `-A` rules of one chain, read back from restore text. */
function chain(text: string, table: string, name: string): { policy: string | undefined; rules: string[] } {
  const start = text.indexOf(`*${table}\n`);
  const body = text.slice(start, text.indexOf('COMMIT', start)).split('\n');
  const policy = body.find((l) => l.startsWith(`:${name} `))?.split(' ')[1];
  return { policy, rules: body.filter((l) => l.startsWith(`-A ${name} `)).map((l) => l.slice(`-A ${name} `.length)) };
}

describe('egressRules: the emitted text', () => {
  const local = egressRules({ mode: 'local', vaultAddress: '10.213.0.2', ports: PORTS, agentPort: 7000 });
  const k8s = egressRules({ mode: 'kubernetes', vaultUid: 1500, ports: PORTS, agentPort: 7000, controlPort: 7001 });

  it('local nat OUTPUT keeps loopback local and DNATs 443, 80 and 53 (udp, tcp) to the vault on H', () => {
    expect(chain(local.iptables, 'nat', 'OUTPUT').rules).toEqual([
      '-o lo -j RETURN',
      '-p tcp --dport 443 -j DNAT --to-destination 10.213.0.2:15443',
      '-p tcp --dport 80 -j DNAT --to-destination 10.213.0.2:15080',
      '-p udp --dport 53 -j DNAT --to-destination 10.213.0.2:15053',
      '-p tcp --dport 53 -j DNAT --to-destination 10.213.0.2:15053',
    ]);
  });

  it('local filter: policies DROP, INVALID dropped before replies are accepted, only the vault ports open', () => {
    for (const name of ['INPUT', 'OUTPUT', 'FORWARD']) expect(chain(local.iptables, 'filter', name).policy).toBe('DROP');
    expect(chain(local.iptables, 'filter', 'OUTPUT').rules).toEqual([
      '-o lo -j ACCEPT',
      '-m conntrack --ctstate INVALID -j DROP',
      '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-d 10.213.0.2/32 -p tcp --dport 15443 -j ACCEPT',
      '-d 10.213.0.2/32 -p tcp --dport 15080 -j ACCEPT',
      '-d 10.213.0.2/32 -p udp --dport 15053 -j ACCEPT',
      '-d 10.213.0.2/32 -p tcp --dport 15053 -j ACCEPT',
    ]);
    expect(chain(local.iptables, 'filter', 'INPUT').rules).toEqual([
      '-i lo -j ACCEPT',
      '-m conntrack --ctstate INVALID -j DROP',
      '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-s 10.213.0.2/32 -p tcp --dport 7000 -j ACCEPT',
    ]);
    expect(chain(local.iptables, 'filter', 'FORWARD').rules).toEqual([]);
  });

  it('local without an agent port opens nothing inbound but loopback and replies', () => {
    const rules = egressRules({ mode: 'local', vaultAddress: '10.213.0.2', ports: PORTS });
    expect(chain(rules.iptables, 'filter', 'INPUT').rules.filter((r) => r.includes('--dport'))).toEqual([]);
  });

  it('kubernetes nat OUTPUT lets the vault uid through, then REDIRECTs 443, 80 and 53', () => {
    expect(chain(k8s.iptables, 'nat', 'OUTPUT').rules).toEqual([
      '-m owner --uid-owner 1500 -j RETURN',
      '-o lo -j RETURN',
      '-p tcp --dport 443 -j REDIRECT --to-ports 15443',
      '-p tcp --dport 80 -j REDIRECT --to-ports 15080',
      '-p udp --dport 53 -j REDIRECT --to-ports 15053',
      '-p tcp --dport 53 -j REDIRECT --to-ports 15053',
    ]);
  });

  it('kubernetes filter: only the vault uid and redirected packets leave; inbound only the agent and control ports', () => {
    for (const name of ['INPUT', 'OUTPUT', 'FORWARD']) expect(chain(k8s.iptables, 'filter', name).policy).toBe('DROP');
    expect(chain(k8s.iptables, 'filter', 'OUTPUT').rules).toEqual([
      '-o lo -j ACCEPT',
      '-m conntrack --ctstate INVALID -j DROP',
      '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-m owner --uid-owner 1500 -j ACCEPT',
      '-d 127.0.0.1/32 -p tcp --dport 15443 -j ACCEPT',
      '-d 127.0.0.1/32 -p tcp --dport 15080 -j ACCEPT',
      '-d 127.0.0.1/32 -p udp --dport 15053 -j ACCEPT',
      '-d 127.0.0.1/32 -p tcp --dport 15053 -j ACCEPT',
    ]);
    expect(chain(k8s.iptables, 'filter', 'INPUT').rules).toEqual([
      '-i lo -j ACCEPT',
      '-m conntrack --ctstate INVALID -j DROP',
      '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-p tcp --dport 7000 -j ACCEPT',
      '-p tcp --dport 7001 -j ACCEPT',
    ]);
  });

  it('ip6tables drops everything in both modes', () => {
    for (const rules of [local, k8s]) {
      for (const name of ['INPUT', 'OUTPUT', 'FORWARD']) {
        expect(chain(rules.ip6tables, 'filter', name)).toEqual({ policy: 'DROP', rules: [] });
      }
    }
  });

  it.each([
    [{ mode: 'local', vaultAddress: '10.213.0.256', ports: PORTS }, /vaultAddress must be an IPv4 address/],
    [{ mode: 'local', vaultAddress: 'fd00::1', ports: PORTS }, /vaultAddress must be an IPv4 address/],
    [{ mode: 'local', vaultAddress: '10.0.0.1', ports: { ...PORTS, tls: 0 } }, /ports\.tls must be an integer port in 1\.\.65535/],
    [{ mode: 'local', vaultAddress: '10.0.0.1', ports: { ...PORTS, dns: 65536 } }, /ports\.dns must be an integer port/],
    [{ mode: 'local', vaultAddress: '10.0.0.1', ports: { ...PORTS, http: 15443 } }, /ports\.http and ports\.tls are both 15443/],
    [{ mode: 'local', vaultAddress: '10.0.0.1', ports: PORTS, agentPort: 1.5 }, /agentPort must be an integer port/],
    [{ mode: 'kubernetes', vaultUid: 0, ports: PORTS, agentPort: 1, controlPort: 2 }, /vaultUid must not be 0/],
    [{ mode: 'kubernetes', vaultUid: -1, ports: PORTS, agentPort: 1, controlPort: 2 }, /vaultUid must be an integer uid/],
    [{ mode: 'kubernetes', vaultUid: 1500, ports: PORTS, agentPort: 1, controlPort: 15053 }, /controlPort and ports\.dns/],
    [{ mode: 'docker', ports: PORTS }, /mode must be 'local' or 'kubernetes'/],
  ])('refuses bad input %#', (input, message) => {
    expect(() => egressRules(input as EgressRulesInput)).toThrow(message);
  });
});

const isRoot = process.getuid?.() === 0;
if (!isRoot) {
  console.warn('SKIPPED egress rules in a real netns: needs root (netns, veth, iptables). CI runs as root and must run them.');
}

/** Runs inside the sandbox as its client user: one TCP or UDP exchange, the outcome as JSON. */
const PROBE = `
import errno, json, socket, sys
a = json.loads(sys.argv[1])
family = socket.AF_INET6 if ':' in a['host'] else socket.AF_INET
s = socket.socket(family, socket.SOCK_STREAM if a['proto'] == 'tcp' else socket.SOCK_DGRAM)
s.settimeout(a['timeout'])
try:
    s.connect((a['host'], a['port']))
    s.send(b'probe\\n')
    print(json.dumps({'ok': True, 'reply': s.recv(100).decode().strip()}))
except socket.timeout:
    print(json.dumps({'ok': False, 'error': 'timeout'}))
except OSError as e:
    print(json.dumps({'ok': False, 'error': errno.errorcode.get(e.errno, str(e))}))
`;

interface ProbeResult {
  ok: boolean;
  reply?: string;
  error?: string;
}

async function probe(sandbox: TestSandbox, proto: 'tcp' | 'udp', host: string, port: number): Promise<ProbeResult> {
  const result = await sandbox.exec(['python3', '-c', PROBE, JSON.stringify({ proto, host, port, timeout: 2 })]);
  if (result.code !== 0) throw new Error(`probe failed to run: ${result.stderr}`);
  return JSON.parse(result.stdout) as ProbeResult;
}

/** A stand-in for one vault listener (or a port that must stay unreachable): answers with its label. */
interface StandIn {
  label: string;
  peers: string[];
  close(): Promise<void>;
}

async function tcpStandIn(host: string, port: number, label: string): Promise<StandIn & { port: number }> {
  const peers: string[] = [];
  const server: Server = createServer((socket) => {
    peers.push(socket.remoteAddress ?? '?');
    socket.once('data', () => socket.end(`${label}\n`));
    socket.on('error', () => {});
  });
  server.listen(port, host);
  await once(server, 'listening');
  const bound = (server.address() as { port: number }).port;
  return { label, peers, port: bound, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function udpStandIn(host: string, port: number, label: string): Promise<StandIn> {
  const peers: string[] = [];
  const socket: UdpSocket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  socket.on('message', (_msg, from) => {
    peers.push(from.address);
    socket.send(`${label}\n`, from.port, from.address);
  });
  socket.bind(port, host);
  await once(socket, 'listening');
  return { label, peers, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}

/** Proves a stand-in answers at all (from the host), so "received nothing" later means something. */
async function selfCheck(standIn: StandIn, proto: 'tcp' | 'udp', host: string, port: number): Promise<void> {
  const reply = await new Promise<string>((resolve, reject) => {
    if (proto === 'tcp') {
      const socket = createConnection({ host, port }, () => socket.write('check\n'));
      socket.setEncoding('utf8').once('data', (d: string) => resolve(d.trim())).once('error', reject);
      socket.once('end', () => socket.destroy());
    } else {
      const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      socket.once('message', (m) => resolve(m.toString().trim()));
      socket.send('check\n', port, host, (err) => err && reject(err));
      socket.unref();
    }
  });
  expect(reply).toBe(standIn.label);
  standIn.peers.length = 0;
}

async function rulesSnapshot(netns: string): Promise<string> {
  const parts = await Promise.all([
    runToolOrThrow(['ip', 'netns', 'exec', netns, 'iptables-nft-save']),
    runToolOrThrow(['ip', 'netns', 'exec', netns, 'ip6tables-nft-save']),
    runToolOrThrow(['ip', '-n', netns, '-o', 'addr']),
    runToolOrThrow(['ip', '-n', netns, 'route']),
  ]);
  // Comments carry timestamps and counters change with every probe.
  return parts.join('\n').split('\n').filter((l) => !l.startsWith('#')).join('\n').replace(/\[\d+:\d+\]/g, '[]');
}

async function hostInterfaceOf(address: string): Promise<string> {
  const line = await runToolOrThrow(['ip', '-o', '-4', 'addr', 'show', 'to', `${address}/32`]);
  const name = line.split(/\s+/)[1];
  if (!name) throw new Error(`no host interface carries ${address}`);
  return name;
}

/** A ULA address for the host end of the veth, derived from H so parallel runs do not collide. */
function hostV6For(hostAddress: string): string {
  const [, , third, fourth] = hostAddress.split('.').map(Number);
  return `fd00:213:${(third ?? 0).toString(16)}:${(fourth ?? 0).toString(16)}::1`;
}

describe.skipIf(!isRoot)('egress rules in a real netns (local mode)', () => {
  let sandbox: TestSandbox;
  let other: TestSandbox;
  let hostInterface: string;
  const standIns: StandIn[] = [];
  let tls: StandIn, http: StandIn, dnsUdp: StandIn, dnsTcp: StandIn;
  let forbiddenTcp: StandIn, forbiddenUdp: StandIn, otherTls: StandIn, v6: StandIn;
  let hostLoopback: StandIn & { port: number };
  let HOST_V6: string;
  const FORBIDDEN_TCP = 15999; // stands for the gateway or the vault's control port
  const FORBIDDEN_UDP = 15998;

  beforeAll(async () => {
    [sandbox, other] = await Promise.all([createTestSandbox({ startVault: false }), createTestSandbox({ startVault: false })]);
    const H = sandbox.hostAddress;
    hostInterface = await hostInterfaceOf(H);
    HOST_V6 = hostV6For(H);
    await runToolOrThrow(['ip', '-6', 'addr', 'add', `${HOST_V6}/64`, 'dev', hostInterface, 'nodad']);
    const started = await Promise.all([
      tcpStandIn(H, PORTS.tls, 'tls'),
      tcpStandIn(H, PORTS.http, 'http'),
      udpStandIn(H, PORTS.dns, 'dns-udp'),
      tcpStandIn(H, PORTS.dns, 'dns-tcp'),
      tcpStandIn(H, FORBIDDEN_TCP, 'forbidden-tcp'),
      udpStandIn(H, FORBIDDEN_UDP, 'forbidden-udp'),
      tcpStandIn(other.hostAddress, PORTS.tls, 'other-sandbox-tls'),
      tcpStandIn(HOST_V6, PORTS.tls, 'v6'),
      tcpStandIn('127.0.0.1', 0, 'host-loopback'),
    ]);
    standIns.push(...started);
    [tls, http, dnsUdp, dnsTcp, forbiddenTcp, forbiddenUdp, otherTls, v6, hostLoopback] = started;
    await selfCheck(forbiddenTcp, 'tcp', H, FORBIDDEN_TCP);
    await selfCheck(forbiddenUdp, 'udp', H, FORBIDDEN_UDP);
    await selfCheck(otherTls, 'tcp', other.hostAddress, PORTS.tls);
    await selfCheck(v6, 'tcp', HOST_V6, PORTS.tls);
    await selfCheck(hostLoopback, 'tcp', '127.0.0.1', hostLoopback.port);
  });

  afterAll(async () => {
    await Promise.all(standIns.map((s) => s.close()));
    await Promise.all([sandbox?.close(), other?.close()]);
  });

  it('runs clients as the unprivileged sandbox user with no capabilities and no_new_privs', async () => {
    const result = await sandbox.exec(['sh', '-c', 'id -u; grep -E "^(CapEff|CapBnd|CapPrm|NoNewPrivs)" /proc/self/status']);
    expect(result.stdout.split('\n')[0]).toBe(String(sandbox.clientUid));
    expect(result.stdout).toMatch(/CapPrm:\s+0+\n/);
    expect(result.stdout).toMatch(/CapEff:\s+0+\n/);
    expect(result.stdout).toMatch(/CapBnd:\s+0+\n/);
    expect(result.stdout).toMatch(/NoNewPrivs:\s+1/);
    expect(sandbox.clientUid).not.toBe(sandbox.vaultUid);
  });

  it('kills a client that outlives its timeout', async () => {
    const result = await sandbox.exec(['sleep', '120'], { timeoutMs: 200 });
    expect(result).toMatchObject({ code: null, signal: 'SIGKILL' });
  });

  it('TCP 443 to H and to another address of the /30 lands on the vault TLS listener', async () => {
    const networkAddress = sandbox.sandboxAddress.replace(/\d+$/, (last) => String(Number(last) - 1));
    expect(await probe(sandbox, 'tcp', sandbox.hostAddress, 443)).toEqual({ ok: true, reply: 'tls' });
    expect(await probe(sandbox, 'tcp', networkAddress, 443)).toEqual({ ok: true, reply: 'tls' });
    expect(tls.peers).toEqual([sandbox.sandboxAddress, sandbox.sandboxAddress]);
  });

  it('TCP 80 lands on the HTTP listener; UDP and TCP 53 on the DNS listener', async () => {
    expect(await probe(sandbox, 'tcp', sandbox.hostAddress, 80)).toEqual({ ok: true, reply: 'http' });
    expect(await probe(sandbox, 'udp', sandbox.hostAddress, 53)).toEqual({ ok: true, reply: 'dns-udp' });
    expect(await probe(sandbox, 'tcp', sandbox.hostAddress, 53)).toEqual({ ok: true, reply: 'dns-tcp' });
    const S = sandbox.sandboxAddress;
    expect([http.peers, dnsUdp.peers, dnsTcp.peers]).toEqual([[S], [S], [S]]);
  });

  it('the vault ports on H are reachable directly too, as the filter allows exactly them', async () => {
    expect(await probe(sandbox, 'tcp', sandbox.hostAddress, PORTS.tls)).toEqual({ ok: true, reply: 'tls' });
  });

  it('blocks every other port on H, TCP and UDP', async () => {
    const [tcp, udp, udpOnTlsPort] = await Promise.all([
      probe(sandbox, 'tcp', sandbox.hostAddress, FORBIDDEN_TCP),
      probe(sandbox, 'udp', sandbox.hostAddress, FORBIDDEN_UDP),
      probe(sandbox, 'udp', sandbox.hostAddress, PORTS.tls),
    ]);
    expect(tcp.ok).toBe(false);
    expect(udp.ok).toBe(false);
    expect(udpOnTlsPort.ok).toBe(false);
    expect([forbiddenTcp.peers, forbiddenUdp.peers]).toEqual([[], []]);
  });

  it('cannot reach another sandbox, not even on port 443 (no route beyond its own /30)', async () => {
    const results = await Promise.all([
      probe(sandbox, 'tcp', other.hostAddress, 443),
      probe(sandbox, 'tcp', other.hostAddress, PORTS.tls),
      probe(sandbox, 'tcp', other.sandboxAddress, 443),
    ]);
    expect(results.map((r) => r.ok)).toEqual([false, false, false]);
    expect(otherTls.peers).toEqual([]);
  });

  it('has IPv6 switched off and dropped: the host veth address and ::1 are unreachable', async () => {
    const results = await Promise.all([
      probe(sandbox, 'tcp', HOST_V6, PORTS.tls),
      probe(sandbox, 'tcp', HOST_V6, 443),
      probe(sandbox, 'udp', HOST_V6, 53),
      probe(sandbox, 'tcp', '::1', 443),
    ]);
    expect(results.map((r) => r.ok)).toEqual([false, false, false, false]);
    expect(v6.peers).toEqual([]);
    const sysctl = await sandbox.exec(['cat', '/proc/sys/net/ipv6/conf/all/disable_ipv6', '/proc/sys/net/ipv6/conf/default/disable_ipv6']);
    expect(sysctl.stdout).toBe('1\n1\n');
    const ip6 = await runToolOrThrow(['ip', 'netns', 'exec', sandbox.netns, 'ip6tables-nft', '-S']);
    expect(ip6.trim().split('\n')).toEqual(['-P INPUT DROP', '-P FORWARD DROP', '-P OUTPUT DROP']);
  });

  it("has its own loopback: the host's loopback services are out of reach, and 127.0.0.1:443 is not redirected", async () => {
    expect((await probe(sandbox, 'tcp', '127.0.0.1', hostLoopback.port)).ok).toBe(false);
    expect(await probe(sandbox, 'tcp', '127.0.0.1', 443)).toEqual({ ok: false, error: 'ECONNREFUSED' });
    expect(hostLoopback.peers).toEqual([]);
  });

  it('the sandbox user cannot change the rules, the links, the routes or the sysctls', async () => {
    const before = await rulesSnapshot(sandbox.netns);
    const attempts = [
      ['iptables', '-F'],
      ['iptables', '-P', 'OUTPUT', 'ACCEPT'],
      ['iptables', '-t', 'nat', '-F'],
      ['ip6tables', '-P', 'OUTPUT', 'ACCEPT'],
      ['ip', 'link', 'set', 'eth0', 'down'],
      ['ip', 'route', 'add', 'default', 'dev', 'eth0'],
      ['sh', '-c', 'echo 0 > /proc/sys/net/ipv6/conf/all/disable_ipv6'],
    ];
    for (const argv of attempts) {
      const result = await sandbox.exec(argv);
      expect(result.code, argv.join(' ')).not.toBe(0);
      expect(result.stderr, argv.join(' ')).toMatch(/permission denied|operation not permitted/i);
    }
    expect(await rulesSnapshot(sandbox.netns)).toBe(before);
    expect(await probe(sandbox, 'tcp', sandbox.hostAddress, 443)).toEqual({ ok: true, reply: 'tls' });
  });

  it('refuses a second sandbox with a taken name and leaves the first one alone', async () => {
    await expect(createTestSandbox({ name: sandbox.name, startVault: false })).rejects.toThrow(/ip netns add .*(File exists|exists)/i);
    expect(await probe(sandbox, 'tcp', sandbox.hostAddress, 80)).toEqual({ ok: true, reply: 'http' });
  });

  it('close() removes the netns, the veth, the resolver config and the temp files; a second close is harmless', async () => {
    const home = (await sandbox.exec(['sh', '-c', 'echo "$HOME"'])).stdout.trim();
    const lingering = sandbox.spawn(['sleep', '300']);
    expect(existsSync(home)).toBe(true);
    await sandbox.close();
    await sandbox.close();
    const [netnsList, links, addrs] = await Promise.all([
      runToolOrThrow(['ip', 'netns', 'list']),
      runToolOrThrow(['ip', '-o', 'link']),
      runToolOrThrow(['ip', '-o', '-4', 'addr', 'show', 'to', `${sandbox.hostAddress}/32`]),
    ]);
    expect(netnsList).not.toContain(sandbox.netns);
    expect(links).not.toContain(`${hostInterface}@`);
    expect(links).not.toContain(sandbox.netns);
    expect(addrs).toBe('');
    expect(existsSync(home)).toBe(false);
    expect(existsSync(`/etc/netns/${sandbox.netns}`)).toBe(false);
    if (lingering.exitCode === null && lingering.signalCode === null) await once(lingering, 'exit');
    expect(lingering.signalCode).toBe('SIGKILL');
  });
});

/** Stands in for the vault's TLS listener inside the pod netns (the vault shares it in Kubernetes). */
const POD_LISTENER = `
import socket, sys
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', int(sys.argv[1])))
srv.listen(8)
print('ready', flush=True)
while True:
    conn, _ = srv.accept()
    conn.recv(100)
    conn.sendall(b'redirected\\n')
    conn.close()
`;

const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

describe.skipIf(!isRoot)('egress rules in a real netns (kubernetes mode)', () => {
  const netns = `lap-k8srules-${process.pid}`;
  let vaultUser: SystemUser;
  let clientUser: SystemUser;
  let listener: ChildProcess | undefined;

  /** Runs the probe inside the pod netns as `user`, the way the pod's containers would run it. */
  async function podProbe(user: SystemUser, host: string, port: number): Promise<ProbeResult> {
    const ids = ['--reuid', String(user.uid), '--regid', String(user.gid), '--clear-groups'];
    const setpriv = ['setpriv', ...ids, '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--'];
    const python = ['env', `PATH=${SYSTEM_PATH}`, 'python3', '-c', PROBE, JSON.stringify({ proto: 'tcp', host, port, timeout: 2 })];
    return JSON.parse(await runToolOrThrow(['ip', 'netns', 'exec', netns, ...setpriv, ...python])) as ProbeResult;
  }

  beforeAll(async () => {
    vaultUser = await ensureSystemUser('lap-vault');
    clientUser = await ensureSystemUser('lap-sandbox');
    await runToolOrThrow(['ip', 'netns', 'add', netns]);
    // A pod has a default route; a veth whose peer answers nothing plays the pod network.
    await runToolOrThrow(['ip', '-n', netns, 'link', 'add', 'pod0', 'type', 'veth', 'peer', 'name', 'pod1']);
    await runToolOrThrow(['ip', '-n', netns, 'addr', 'add', '192.0.2.1/24', 'dev', 'pod0']);
    for (const link of ['lo', 'pod0', 'pod1']) await runToolOrThrow(['ip', '-n', netns, 'link', 'set', link, 'up']);
    await runToolOrThrow(['ip', '-n', netns, 'route', 'add', 'default', 'dev', 'pod0']);
  });

  afterAll(async () => {
    listener?.kill('SIGKILL');
    await runTool(['ip', 'netns', 'del', netns]);
  });

  it('the kernel accepts the rule set, and applying it twice leaves exactly one copy', async () => {
    const rules = egressRules({ mode: 'kubernetes', vaultUid: vaultUser.uid, ports: PORTS, agentPort: 7000, controlPort: 7001 });
    await applyEgressRules(netns, rules);
    const first = await runToolOrThrow(['ip', 'netns', 'exec', netns, 'iptables-nft', '-S']);
    await applyEgressRules(netns, rules);
    expect(await runToolOrThrow(['ip', 'netns', 'exec', netns, 'iptables-nft', '-S'])).toBe(first);
    expect(first).toContain('-P OUTPUT DROP');
    expect(first).toContain(`-A OUTPUT -m owner --uid-owner ${vaultUser.uid} -j ACCEPT`);
  });

  it("redirects the sandbox uid's 443 to the vault port; the vault uid is not redirected; other ports are dropped", async () => {
    const python = ['env', `PATH=${SYSTEM_PATH}`, 'python3', '-c', POD_LISTENER, String(PORTS.tls)];
    listener = spawn('ip', ['netns', 'exec', netns, ...python], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [ready] = (await once(listener.stdout!, 'data')) as [Buffer];
    expect(ready.toString()).toContain('ready');
    expect(await podProbe(clientUser, '192.0.2.77', 443)).toEqual({ ok: true, reply: 'redirected' });
    const [asVault, otherPort] = await Promise.all([
      podProbe(vaultUser, '192.0.2.77', 443),
      podProbe(clientUser, '192.0.2.77', 8443),
    ]);
    expect(asVault.ok).toBe(false);
    expect(otherPort.ok).toBe(false);
  });

  it('reports the tool and its stderr when the kernel refuses the text', async () => {
    const broken = { iptables: '*filter\n-A NOSUCHCHAIN -j ACCEPT\nCOMMIT\n', ip6tables: '' };
    await expect(applyEgressRules(netns, broken)).rejects.toThrow(/iptables-nft-restore failed with exit code \d+: .+/);
  });
});
