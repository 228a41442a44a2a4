// The real vault (the bundle of vault/main.ts that ships, with its V8 flags and environment: vault/build.ts)
// as a child process on loopback, configured over its control API the way the gateway does it.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureVaultBundle, VAULT_ENV, VAULT_NODE_FLAGS } from '../../vault/build.ts';
import type { ChildGroup } from './children.ts';

export interface VaultPorts {
  tls: number;
  http: number;
  dns: number;
  control: number;
}

export interface BenchVault {
  pid: number;
  ports: VaultPorts;
  controlUrl: string;
  controlToken: string;
}

export interface VaultLaunch {
  dir: string;
  upstreamCaFile: string;
  /** name → '127.0.0.1:port' */
  hosts: Record<string, string>;
  /** Extra node flags for the vault only, e.g. --cpu-prof; after the vault's own, so they can override them. */
  nodeFlags: string[];
  /** The vault's upstream.http2 setting (its default is true). */
  upstreamHttp2: boolean;
}

const READY_TIMEOUT_MS = 20_000;
const TAIL_BYTES = 4_000;
const READY_POLL_MS = 25;

export async function startVaultProcess(group: ChildGroup, launch: VaultLaunch): Promise<BenchVault> {
  const controlToken = randomBytes(32).toString('hex');
  const tokenFile = join(launch.dir, 'control-token');
  writeFileSync(tokenFile, controlToken, { mode: 0o600 });
  const configFile = join(launch.dir, 'vault-config.json');
  const config = {
    session: 'bench',
    listen: { address: '127.0.0.1', tlsPort: 0, httpPort: 0, dnsPort: 0 },
    control: { host: '127.0.0.1', port: 0 },
    tokenFile,
    syntheticAddress: '127.0.0.1',
    upstream: { extraCaFiles: [launch.upstreamCaFile], hosts: launch.hosts, http2: launch.upstreamHttp2 },
  };
  writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 });
  // Its log goes to a file, as the local runtime sends it (gateway/runtime/local/detached.ts): a pipe
  // read by this process would wake it on every per-request line and take CPU from the measured ones.
  const logFile = join(launch.dir, 'vault.log');
  const log = openSync(logFile, 'a', 0o600);
  try {
    const child = group.spawn(process.execPath, [...VAULT_NODE_FLAGS, ...launch.nodeFlags, ensureVaultBundle(), '--config', configFile], {
      cwd: launch.dir,
      env: { ...process.env, ...VAULT_ENV },
      stdio: ['ignore', log, log],
    });
    const ports = await waitForReady(child, logFile);
    return { pid: child.pid ?? 0, ports, controlUrl: `http://127.0.0.1:${ports.control}`, controlToken };
  } finally {
    closeSync(log);
  }
}

/** Polls the log until its "vault ready" line (it carries the ports); fails with the log's tail. */
function waitForReady(child: ChildProcess, logFile: string): Promise<VaultPorts> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null, ports?: VaultPorts) => {
      if (settled) return;
      settled = true;
      clearInterval(poll);
      clearTimeout(timer);
      child.off('exit', onExit);
      if (!err) return resolve(ports!);
      child.kill('SIGKILL');
      reject(err);
    };
    const fail = (why: string) => finish(new Error(`the vault did not start: ${why}\n${readFileSync(logFile, 'utf8').slice(-TAIL_BYTES)}`));
    const onExit = (code: number | null, signal: string | null) => fail(`it exited (${signal ?? `code ${code}`})`);
    const timer = setTimeout(() => fail(`no "vault ready" line within ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS);
    const poll = setInterval(() => {
      const ports = readFileSync(logFile, 'utf8').split('\n').map(readyPorts).find((p) => p !== undefined);
      if (ports) finish(null, ports);
    }, READY_POLL_MS);
    child.once('error', (err) => fail(err.message));
    child.once('exit', onExit);
  });
}

function readyPorts(line: string): VaultPorts | undefined {
  let entry: { msg?: unknown; ports?: Partial<VaultPorts> };
  try {
    entry = JSON.parse(line) as typeof entry;
  } catch {
    return undefined;
  }
  const ports = entry.ports;
  if (entry.msg !== 'vault ready' || !ports) return undefined;
  return [ports.tls, ports.http, ports.dns, ports.control].every((p) => typeof p === 'number') ? (ports as VaultPorts) : undefined;
}

async function control(vault: BenchVault, method: string, path: string, body?: unknown): Promise<Response> {
  const res = await fetch(`${vault.controlUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${vault.controlToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`vault control ${method} ${path}: ${res.status} ${await res.text()}`);
  return res;
}

export interface BenchCredential {
  name: string;
  value: string;
  hosts: string[];
}

/** Policy and one header credential, as the gateway would set them; returns the stub and the vault's CA. */
export async function configureVault(vault: BenchVault, credential: BenchCredential, allowPrivate: string[]): Promise<{ stub: string; caPem: string }> {
  await control(vault, 'PUT', '/v1/policy', { default: 'allow', allowPrivate });
  const res = await control(vault, 'PUT', '/v1/credentials', { credentials: [{ ...credential, places: ['header'] }] });
  const { credentials } = (await res.json()) as { credentials: { name: string; stub: string }[] };
  const stub = credentials.find((c) => c.name === credential.name)?.stub;
  if (!stub) throw new Error(`PUT /v1/credentials did not return a stub for ${credential.name}`);
  const caPem = await (await control(vault, 'GET', '/v1/ca.pem')).text();
  return { stub, caPem };
}
