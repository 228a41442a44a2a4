// Starts the vault (the bundle of vault/main.ts, rebuilt when stale: see vault/build.ts) for a test
// sandbox on the host side of the veth, as the vault user, with its output piped to this process, and
// waits for its "vault ready" log line.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { prepareVault, readyControlPort, type VaultLaunch } from '../host/vault-launch.ts';
import type { CleanupStack } from './cleanup.ts';

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
  const command = prepareVault(launch, controlToken);
  const [node, ...args] = command.argv as [string, ...string[]];
  const child = spawn(node, args, {
    uid: launch.user.uid,
    gid: launch.user.gid,
    cwd: launch.dir,
    env: { ...command.env, PATH: process.env.PATH ?? '/usr/bin:/bin' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanup.push(`vault process ${child.pid ?? '(not started)'}`, () => killNow(child));
  const log: string[] = [];
  const controlPort = await waitForReady(child, node, log);
  return { process: child, controlUrl: `http://127.0.0.1:${controlPort}`, controlToken, log };
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

/** Resolves with the control port from the "vault ready" line; rejects with the vault's output otherwise. */
function waitForReady(child: ChildProcess, node: string, log: string[]): Promise<number> {
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
    child.on('error', (err) => fail(`cannot start ${node}: ${err.message}`));
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
