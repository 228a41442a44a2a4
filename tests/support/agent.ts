// Starts the real sandbox agent on loopback with a temp workspace, the way the runtimes do (the bundle,
// flags and environment from sandbox-agent/build.ts), and gives tests an authenticated fetch.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { AGENT_ENV, agentNodeArgs } from '../../sandbox-agent/build.ts';

export interface RunningAgent {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  readonly workspace: string;
  readonly process: ChildProcess;
  /** Every line the agent printed. */
  readonly log: string[];
  /** fetch with the bearer token; path like '/v1/exec'. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function startAgent(): Promise<RunningAgent> {
  const dir = mkdtempSync(join(tmpdir(), 'lap-agent-test-'));
  const workspace = join(dir, 'workspace');
  mkdirSync(workspace);
  const token = randomBytes(32).toString('hex');
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const child = spawn(process.execPath, [...agentNodeArgs(), '--listen', '127.0.0.1:0', '--token-file', tokenFile, '--workspace', workspace], {
    env: { ...AGENT_ENV, PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => log.push(l));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent not ready in 15 s:\n${log.join('\n')}`)), 15_000);
    child.once('exit', (code) => reject(new Error(`agent exited with ${code}:\n${log.join('\n')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      log.push(line);
      const entry = safeJson(line);
      if (entry?.msg === 'agent ready' && typeof entry.port === 'number') {
        clearTimeout(timer);
        resolve(entry.port);
      }
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url, port, token, workspace, process: child, log,
    fetch: (path, init = {}) => fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } }),
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function safeJson(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * The environment of a harness the agent started (pid from the claim's answer). The claim answers as
 * soon as the PTY's child is forked; until that child has exec'd the harness, /proc shows the agent's
 * own program and environment, so this waits for the exec first.
 */
export async function harnessEnviron(pid: number): Promise<Record<string, string>> {
  for (let tries = 0; readlinkSync(`/proc/${pid}/exe`) === readlinkSync('/proc/self/exe') && tries < 200; tries++) await sleep(10);
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return Object.fromEntries(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}
