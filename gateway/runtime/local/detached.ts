// Sandbox processes must outlive the gateway: their own session, output to a log file rather than a
// pipe to us, no parent-death signal. The gateway keeps the ChildProcess only to notice an early exit.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface DetachedProcess {
  child: ChildProcess;
  /** Why the process is no longer running, once it is not (exit code, signal or spawn error). */
  ended(): string | undefined;
}

export function spawnDetached(argv: readonly string[], opts: { logFile: string; cwd: string; env: Record<string, string> }): DetachedProcess {
  const [command, ...args] = argv as [string, ...string[]];
  const log = openSync(opts.logFile, 'a', 0o600);
  let ended: string | undefined;
  try {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', log, log] });
    child.on('error', (err) => (ended ??= `cannot start ${command}: ${err.message}`));
    child.on('exit', (code, signal) => (ended ??= signal ? `it was killed by ${signal}` : `it exited with code ${code}`));
    child.unref();
    return { child, ended: () => ended };
  } finally {
    closeSync(log);
  }
}

/** The last lines of a log file, for error messages. */
export function logTail(path: string, lines = 20): string {
  try {
    const text = readFileSync(path, 'utf8').trimEnd();
    return text === '' ? '(the log is empty)' : text.split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Whether a log file holds `text` yet (false while it does not exist). */
export function logIncludes(path: string, text: string): boolean {
  try {
    return readFileSync(path, 'utf8').includes(text);
  } catch {
    return false;
  }
}
