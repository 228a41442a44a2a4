// Runs programs inside the sandbox netns the way the sandbox's own processes run: an unprivileged
// uid, no capabilities at all, no_new_privs, and an environment given explicitly.
import { spawn, type ChildProcess } from 'node:child_process';

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  env?: Record<string, string>;
  input?: string | Buffer;
  timeoutMs?: number;
}

export interface SandboxIdentity {
  netns: string;
  uid: number;
  gid: number;
  home: string;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_TIMEOUT_MS = 30_000;
const PIPE_GRACE_MS = 1_000;

export class SandboxClient {
  readonly #identity: SandboxIdentity;
  readonly #running = new Set<ChildProcess>();

  constructor(identity: SandboxIdentity) {
    this.#identity = identity;
  }

  spawn(argv: string[], env?: Record<string, string>): ChildProcess {
    checkArgv(argv);
    const { netns, uid, gid, home } = this.#identity;
    const dropPrivileges = ['setpriv', '--reuid', String(uid), '--regid', String(gid), '--clear-groups',
      '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--pdeathsig', 'SIGKILL', '--'];
    // detached: its own process group, so a timeout or close() also reaches the program's children.
    const child = spawn('ip', ['netns', 'exec', netns, ...dropPrivileges, ...argv], {
      env: { PATH: DEFAULT_PATH, HOME: home, ...checkEnv(env) },
      cwd: home,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#running.add(child);
    child.on('exit', () => this.#running.delete(child));
    child.on('error', () => this.#running.delete(child));
    return child;
  }

  exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new TypeError(`exec: timeoutMs must be a positive number, got ${timeoutMs}`);
    }
    const child = this.spawn(argv, opts.env);
    return collect(child, opts.input ?? '', timeoutMs);
  }

  /** Kills every process group this client started and that is still running. */
  killAll(): void {
    for (const child of this.#running) killGroup(child);
    this.#running.clear();
  }
}

function collect(child: ChildProcess, input: string | Buffer, timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdin?.on('error', () => {}); // the program may exit without reading its input
    child.stdin?.end(input);
    const timer = setTimeout(() => killGroup(child), timeoutMs);
    // A daemonised grandchild can hold the pipes open after the program exits: stop reading then.
    child.on('exit', () => {
      setTimeout(() => [child.stdout, child.stderr].forEach((s) => s?.destroy()), PIPE_GRACE_MS).unref();
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ip netns exec: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone between the check and the kill.
  }
}

function checkArgv(argv: unknown): void {
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string')) {
    throw new TypeError('argv must be a non-empty array of strings');
  }
}

function checkEnv(env: unknown): Record<string, string> {
  if (env === undefined) return {};
  if (typeof env !== 'object' || env === null) throw new TypeError('env must be an object of strings');
  for (const [key, value] of Object.entries(env)) {
    if (typeof value !== 'string') throw new TypeError(`env.${key} must be a string, got ${typeof value}`);
  }
  return env as Record<string, string>;
}
