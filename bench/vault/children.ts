// The bench's child processes: started through one group so every one of them is stopped however the
// bench ends (done, error, Ctrl-C), and asked for work over IPC with a time limit.
import { type ChildProcess, fork, spawn, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';

const STOP_GRACE_MS = 3_000;

export class ChildGroup {
  readonly #children = new Set<ChildProcess>();

  /** Forks a bench script (Node 24 runs the .ts directly) with IPC; its output goes to ours. */
  fork(script: string): ChildProcess {
    return this.#track(fork(script, [], { execPath: process.execPath, execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  spawn(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
    return this.#track(spawn(command, args, options));
  }

  /** SIGTERM to every child still running, SIGKILL to those still there after a grace period. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#children].map(stopChild));
  }

  #track(child: ChildProcess): ChildProcess {
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    child.once('error', () => this.#children.delete(child));
    return child;
  }
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

type Reply<R> = R | { error: string };

/** Sends `message` and resolves with the child's next reply; rejects on `{ error }`, exit or timeout. */
export function ask<R extends object>(child: ChildProcess, message: object, timeoutMs: number, what: string): Promise<R> {
  return new Promise((resolve, reject) => {
    const finish = (err: Error | null, reply?: Reply<R>) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else if (reply && 'error' in reply) reject(new Error(`${what}: ${reply.error}`));
      else resolve(reply as R);
    };
    const onMessage = (reply: Reply<R>) => finish(null, reply);
    const onExit = (code: number | null, signal: string | null) => finish(new Error(`${what}: the process exited (${signal ?? `code ${code}`})`));
    const timer = setTimeout(() => finish(new Error(`${what}: no answer within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send(message);
  });
}

/** CPU time (user + system) a live process has used so far, from /proc (Linux). */
export function readCpuSeconds(pid: number): number {
  // Fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Resident set size of a live process, from /proc (Linux). */
export function readRssMiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status (is this Linux, and is the process alive?)`);
  return Number(match[1]) / 1024;
}
