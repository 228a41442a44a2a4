// Starts the vault (the bundle of vault/main.ts, rebuilt when stale: see vault/build.ts) for a test sandbox on the host side of the veth, as the lap-vault user, and
// waits for its "vault ready" log line.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { vaultNodeArgs } from '../build.ts';
import type { VaultPorts } from '../rules.ts';
import type { CleanupStack } from './cleanup.ts';
import type { SystemUser } from './users.ts';

export interface VaultLaunch {
  session: string;
  /** Created here, owned by the vault user, mode 0700: config, token and CA copies live in it. */
  dir: string;
  user: SystemUser;
  hostAddress: string;
  sandboxAddress: string;
  ports: VaultPorts;
  extraCaFiles: string[];
  hosts: Record<string, string>;
}

export interface RunningVault {
  process: ChildProcess;
  controlUrl: string;
  controlToken: string;
  /** Every line the vault printed (newest 10 000), for tests that check what its logs hold. */
  log: string[];
}

const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 3_000;
const LOG_TAIL_LINES = 40;
const LOG_KEEP_LINES = 10_000;

export async function startVault(launch: VaultLaunch, cleanup: CleanupStack): Promise<RunningVault> {
  const controlToken = randomBytes(32).toString('hex');
  const configFile = writeVaultFiles(launch, controlToken);
  const child = spawn(nodeBinary(), [...vaultNodeArgs(), '--config', configFile], {
    uid: launch.user.uid,
    gid: launch.user.gid,
    cwd: launch.dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: launch.dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanup.push(`vault process ${child.pid ?? '(not started)'}`, () => killNow(child));
  const log: string[] = [];
  const controlPort = await waitForReady(child, log);
  return { process: child, controlUrl: `http://127.0.0.1:${controlPort}`, controlToken, log };
}

/** GET /v1/ca.pem from the control API: the certificate the sandbox is to trust. */
export async function fetchCaPem(vault: RunningVault): Promise<string> {
  const response = await fetch(`${vault.controlUrl}/v1/ca.pem`, {
    headers: { authorization: `Bearer ${vault.controlToken}` },
    signal: AbortSignal.timeout(10_000),
  });
  const body = await response.text();
  if (response.status !== 200 || !body.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`GET ${vault.controlUrl}/v1/ca.pem answered ${response.status}: ${body.slice(0, 300)}`);
  }
  return body;
}

/** SIGTERM, then SIGKILL if the vault has not exited within a few seconds. */
export async function stopVault(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => killNow(child), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

function killNow(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

function writeVaultFiles(launch: VaultLaunch, token: string): string {
  const { dir, user } = launch;
  const ownedFile = (name: string, write: (path: string) => void): string => {
    const path = join(dir, name);
    write(path);
    chownSync(path, user.uid, user.gid);
    return path;
  };
  mkdirSync(dir, { mode: 0o700 });
  chownSync(dir, user.uid, user.gid);
  // Copies, so the vault user can read CA files whatever their original owner and mode.
  const extraCaFiles = launch.extraCaFiles.map((source, i) =>
    ownedFile(`upstream-ca-${i}.pem`, (path) => copyFileSync(source, path)),
  );
  const tokenFile = ownedFile('control-token', (path) => writeFileSync(path, token, { mode: 0o600 }));
  const config = {
    session: launch.session,
    listen: { address: launch.hostAddress, tlsPort: launch.ports.tls, httpPort: launch.ports.http, dnsPort: launch.ports.dns },
    sandboxAddress: launch.sandboxAddress,
    control: { host: '127.0.0.1', port: 0 },
    tokenFile,
    syntheticAddress: launch.hostAddress,
    upstream: { extraCaFiles, hosts: launch.hosts },
  };
  return ownedFile('config.json', (path) => writeFileSync(path, JSON.stringify(config, null, 2), { mode: 0o600 }));
}

/** Resolves with the control port from the "vault ready" line; rejects with the vault's output otherwise. */
function waitForReady(child: ChildProcess, log: string[]): Promise<number> {
  const remember = (line: string) => {
    log.push(line);
    if (log.length > LOG_KEEP_LINES) log.shift();
  };
  const tail = () => log.slice(-LOG_TAIL_LINES).join('\n') || '(no output)';
  // Both streams are read for the vault's whole life: a full pipe would stall its logging.
  if (child.stderr) createInterface({ input: child.stderr }).on('line', (line) => remember(`stderr: ${line}`));
  const stdout = child.stdout ? createInterface({ input: child.stdout }) : undefined;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      killNow(child);
      reject(new Error(`vault did not become ready: ${why}\n${tail()}`));
    };
    const timer = setTimeout(() => fail(`no "vault ready" line within ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS);
    child.on('error', (err) => fail(`cannot start ${nodeBinary()}: ${err.message}`));
    child.once('exit', (code, signal) => fail(`exited with ${signal ?? `code ${code}`}`));
    stdout?.on('line', (line) => {
      remember(line);
      const port = settled ? undefined : readyControlPort(line);
      if (port === undefined) return;
      settled = true;
      clearTimeout(timer);
      resolve(port);
    });
  });
}

function readyControlPort(line: string): number | undefined {
  try {
    const entry = JSON.parse(line) as { msg?: unknown; controlPort?: unknown };
    return entry.msg === 'vault ready' && typeof entry.controlPort === 'number' ? entry.controlPort : undefined;
  } catch {
    return undefined;
  }
}

/** The vault needs Node 24: this process's own binary when it is one, else the repo's. */
function nodeBinary(): string {
  if (Number(process.versions.node.split('.')[0]) >= 24) return process.execPath;
  const bundled = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));
  if (existsSync(bundled)) return bundled;
  throw new Error(`the vault needs Node 24; this is Node ${process.versions.node} and ${bundled} is missing`);
}
