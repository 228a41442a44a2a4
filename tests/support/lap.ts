// The real `lap` binary for tests: run to completion with pipes (runLap), or inside a real PTY from
// node-pty, where it sees a terminal exactly as a person's shell would give it one (LapTerminal).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type IPty, spawn as spawnPty } from 'node-pty';

export const LAP_BIN = fileURLToPath(new URL('../../cli/bin/lap.mjs', import.meta.url));
const WAIT_MS = 20_000;

export interface LapResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** lap with stdin from `input` (empty when absent) and its output collected; bounded by a timeout. */
export function runLap(args: string[], env: Record<string, string>, input = ''): Promise<LapResult> {
  const child = spawn(process.execPath, [LAP_BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    resolve({ code, stdout, stderr });
  }));
}

/** Removes escape sequences (CSI, OSC, charset) and carriage returns: what a person reads. */
export function plainText(raw: string): string {
  return raw.replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78cM]/g, '').replace(/\r/g, '');
}

export class LapTerminal {
  readonly pty: IPty;
  raw = '';
  readonly exited: Promise<number>;

  private constructor(pty: IPty) {
    this.pty = pty;
    pty.onData((d) => (this.raw += d));
    this.exited = new Promise((resolve) => pty.onExit(({ exitCode }) => resolve(exitCode)));
  }

  /** `command` runs under sh in the PTY; LAP stands for the lap binary (with this Node). */
  static start(command: string, env: Record<string, string>, size = { cols: 100, rows: 30 }): LapTerminal {
    const lap = `'${process.execPath}' '${LAP_BIN}'`;
    return new LapTerminal(spawnPty('/bin/sh', ['-c', command.replaceAll('LAP', lap)], { name: 'xterm-256color', ...size, env, cwd: env.HOME }));
  }

  get text(): string {
    return plainText(this.raw);
  }

  type(keys: string): void {
    this.pty.write(keys);
  }

  /** Resolves when the plain text (from `from` on) matches; fails with the screen after WAIT_MS. */
  async waitFor(pattern: RegExp | string, from = 0): Promise<string> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const text = plainText(this.raw.slice(from));
      if (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; the terminal shows:\n${text.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async exitCode(): Promise<number> {
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`lap did not exit; the terminal shows:\n${this.text.slice(-2000)}`)), WAIT_MS));
    return Promise.race([this.exited, timeout]);
  }

  kill(): void {
    try {
      this.pty.kill('SIGKILL');
    } catch {}
  }
}
