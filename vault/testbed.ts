// A real sandbox for tests, the demo and the benchmarks: a netns joined to the host by a veth /30,
// the egress rules of DESIGN.md §3.1 applied in it, and the vault running on the host end.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyEgressRules, egressRules, type VaultPorts } from './rules.ts';
import { runToolOrThrow, runToolSync } from './run-tool.ts';
import { ensureCheckoutReachable } from './host/access.ts';
import { createVethPool, deleteHostInterface, type VethSlot } from './host/pool.ts';
import { ensureSystemUser, type SystemUser } from './host/users.ts';
import { fetchCaPem, VAULT_PORTS } from './host/vault-launch.ts';
import { CleanupStack } from './testbed/cleanup.ts';
import { SandboxClient, type ExecResult } from './testbed/client.ts';
import { startVault, stopVault, type RunningVault } from './testbed/vault-process.ts';

export type { ExecResult } from './testbed/client.ts';

export interface TestSandboxOptions {
  /** Default: random. The netns is `lap-<name>`; the vault's session is `<name>`. */
  name?: string;
  vaultConfig?: { extraCaFiles?: string[]; hosts?: Record<string, string> };
  /** Default true. With false there is no vault: controlUrl, controlToken and caFile are ''. */
  startVault?: boolean;
}

export interface TestSandbox {
  readonly name: string;
  readonly netns: string;
  readonly hostAddress: string;
  readonly sandboxAddress: string;
  readonly clientUid: number;
  readonly vaultUid: number;
  readonly ports: VaultPorts;
  readonly controlUrl: string;
  readonly controlToken: string;
  /** CA certificate PEM, readable by clientUid. */
  readonly caFile: string;
  /** The vault process's pid on the host, or null without a vault. */
  readonly vaultPid: number | null;
  /** Every line the vault has printed so far (its JSON logs). */
  vaultLog(): string[];
  /** Runs argv inside the netns as clientUid (no capabilities, no_new_privs); killed after timeoutMs (default 30 s). */
  exec(argv: string[], opts?: { env?: Record<string, string>; input?: string | Buffer; timeoutMs?: number }): Promise<ExecResult>;
  /** Same as exec, but returns the ChildProcess for streaming clients. */
  spawn(argv: string[], opts?: { env?: Record<string, string> }): ChildProcess;
  /** Removes everything: vault process, sandbox processes, netns, veth, temp files. Idempotent. */
  close(): Promise<void>;
}

// The gateway's local runtime uses 10.214.0.0/16 and lapv*: the two never meet.
const VETH_POOL = createVethPool('10.213.0.0/16', 'laptb');
const VAULT_USER = 'lap-vault';
const CLIENT_USER = 'lap-sandbox';
const VAULT_MAIN = fileURLToPath(new URL('main.ts', import.meta.url));

export async function createTestSandbox(opts: TestSandboxOptions = {}): Promise<TestSandbox> {
  const name = checkName(opts.name ?? `tb${randomBytes(4).toString('hex')}`);
  const vaultConfig = checkVaultConfig(opts.vaultConfig);
  const withVault = opts.startVault ?? true;
  if (withVault && !existsSync(VAULT_MAIN)) throw new Error(`${VAULT_MAIN} does not exist; pass startVault: false`);
  ensureCheckoutReachable();
  const vaultUser = await ensureSystemUser(VAULT_USER);
  const clientUser = await ensureSystemUser(CLIENT_USER);
  const cleanup = new CleanupStack();
  try {
    const net = await buildNetwork(name, clientUser, cleanup);
    const vault = withVault ? await launchVault(name, net, vaultUser, vaultConfig, cleanup) : undefined;
    return sandboxHandle({ name, net, vaultUser, clientUser, vault, cleanup });
  } catch (err) {
    cleanUpAfterFailure(cleanup, err);
    throw err;
  }
}

interface SandboxNetwork {
  netns: string;
  slot: VethSlot;
  tempDir: string;
  client: SandboxClient;
}

interface LaunchedVault {
  running: RunningVault;
  caFile: string;
}

async function buildNetwork(name: string, clientUser: SystemUser, cleanup: CleanupStack): Promise<SandboxNetwork> {
  const tempDir = mkdtempSync(join(tmpdir(), `lap-testbed-${name}-`));
  cleanup.push(`temp dir ${tempDir}`, () => rmSync(tempDir, { recursive: true, force: true }));
  chmodSync(tempDir, 0o755);
  const home = join(tempDir, 'home');
  mkdirSync(home, { mode: 0o700 });
  chownSync(home, clientUser.uid, clientUser.gid);

  const netns = `lap-${name}`;
  await runToolOrThrow(['ip', 'netns', 'add', netns]); // fails on a name in use, before we own anything of it
  cleanup.push(`netns ${netns}`, () => deleteNetns(netns));
  const client = new SandboxClient({ netns, uid: clientUser.uid, gid: clientUser.gid, home });
  cleanup.push('sandbox processes', () => client.killAll());

  const slot = await VETH_POOL.claim(netns);
  cleanup.push(`veth ${slot.hostInterface}`, () => deleteHostInterface(slot.hostInterface));
  // Rules go in while both ends are still down, so there is no moment without them.
  await applyEgressRules(netns, egressRules({ mode: 'local', vaultAddress: slot.hostAddress, ports: VAULT_PORTS }));
  await bringUpLinks(netns, slot);
  pointResolverAtVault(netns, slot.hostAddress, cleanup);
  return { netns, slot, tempDir, client };
}

async function bringUpLinks(netns: string, slot: VethSlot): Promise<void> {
  await runToolOrThrow(['ip', 'addr', 'add', `${slot.hostAddress}/30`, 'dev', slot.hostInterface]);
  await runToolOrThrow(['ip', 'link', 'set', slot.hostInterface, 'up']);
  await runToolOrThrow(['ip', '-n', netns, 'addr', 'add', `${slot.sandboxAddress}/30`, 'dev', slot.sandboxInterface]);
  await runToolOrThrow(['ip', '-n', netns, 'link', 'set', slot.sandboxInterface, 'up']);
  await runToolOrThrow(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);
}

/** `ip netns exec` bind-mounts /etc/netns/<ns>/resolv.conf: clients in the sandbox then ask the vault. */
function pointResolverAtVault(netns: string, hostAddress: string, cleanup: CleanupStack): void {
  const dir = join('/etc/netns', netns);
  mkdirSync(dir, { recursive: true });
  cleanup.push(`resolver config ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'resolv.conf'), `nameserver ${hostAddress}\n`, { mode: 0o644 });
}

async function launchVault(
  name: string,
  net: SandboxNetwork,
  user: SystemUser,
  config: Required<NonNullable<TestSandboxOptions['vaultConfig']>>,
  cleanup: CleanupStack,
): Promise<LaunchedVault> {
  const running = await startVault(
    {
      session: name,
      dir: join(net.tempDir, 'vault'),
      user,
      hostAddress: net.slot.hostAddress,
      sandboxAddress: net.slot.sandboxAddress,
      ports: VAULT_PORTS,
      extraCaFiles: config.extraCaFiles,
      hosts: config.hosts,
    },
    cleanup,
  );
  const caFile = join(net.tempDir, 'ca.pem');
  writeFileSync(caFile, await fetchCaPem(running.controlUrl, running.controlToken), { mode: 0o644 });
  return { running, caFile };
}

function sandboxHandle(parts: {
  name: string;
  net: SandboxNetwork;
  vaultUser: SystemUser;
  clientUser: SystemUser;
  vault: LaunchedVault | undefined;
  cleanup: CleanupStack;
}): TestSandbox {
  const { name, net, vault, cleanup } = parts;
  let closing: Promise<void> | undefined;
  return {
    name,
    netns: net.netns,
    hostAddress: net.slot.hostAddress,
    sandboxAddress: net.slot.sandboxAddress,
    clientUid: parts.clientUser.uid,
    vaultUid: parts.vaultUser.uid,
    ports: { ...VAULT_PORTS },
    controlUrl: vault?.running.controlUrl ?? '',
    controlToken: vault?.running.controlToken ?? '',
    caFile: vault?.caFile ?? '',
    vaultPid: vault?.running.process.pid ?? null,
    vaultLog: () => [...(vault?.running.log ?? [])],
    exec: (argv, opts = {}) => net.client.exec(argv, opts),
    spawn: (argv, opts = {}) => net.client.spawn(argv, opts.env),
    close: () =>
      (closing ??= (async () => {
        if (vault) await stopVault(vault.running.process);
        cleanup.run();
      })()),
  };
}

function deleteNetns(netns: string): void {
  // Processes left in the netns would keep it (and the veth) alive after `ip netns del`.
  const pids = runToolSync(['ip', 'netns', 'pids', netns]).stdout.split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // It exited meanwhile.
    }
  }
  const result = runToolSync(['ip', 'netns', 'del', netns]);
  if (result.code !== 0 && !result.stderr.includes('No such file')) {
    throw new Error(`ip netns del ${netns}: ${result.stderr.trim()}`);
  }
}

function cleanUpAfterFailure(cleanup: CleanupStack, cause: unknown): void {
  try {
    cleanup.run();
  } catch (cleanupError) {
    throw new AggregateError([cause, cleanupError], `createTestSandbox failed and cleanup was incomplete: ${String(cause)}`);
  }
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9-]{0,39}$/.test(name)) {
    throw new TypeError(`createTestSandbox: name must be 1-40 characters of a-z, 0-9 and '-', got ${JSON.stringify(name)}`);
  }
  return name;
}

function checkVaultConfig(config: TestSandboxOptions['vaultConfig']): Required<NonNullable<TestSandboxOptions['vaultConfig']>> {
  const extraCaFiles = config?.extraCaFiles ?? [];
  const hosts = config?.hosts ?? {};
  if (!Array.isArray(extraCaFiles)) throw new TypeError('createTestSandbox: vaultConfig.extraCaFiles must be an array of paths');
  extraCaFiles.forEach((file, i) => {
    if (typeof file !== 'string' || !existsSync(file)) {
      throw new TypeError(`createTestSandbox: vaultConfig.extraCaFiles[${i}] is not an existing file: ${JSON.stringify(file)}`);
    }
  });
  if (typeof hosts !== 'object' || hosts === null || Object.values(hosts).some((v) => typeof v !== 'string')) {
    throw new TypeError('createTestSandbox: vaultConfig.hosts must map names to "ip" or "ip:port" strings');
  }
  return { extraCaFiles, hosts };
}
