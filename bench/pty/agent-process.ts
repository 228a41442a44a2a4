// The real sandbox agent as a child process on loopback, started the way launchers start it (the
// bundle and flags from sandbox-agent/build.ts), then claimed with the `shell` harness the way the
// gateway claims a warm sandbox.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { AGENT_ENV, agentNodeArgs } from '../../sandbox-agent/build.ts';
import type { ChildGroup } from '../vault/children.ts';
import type { ShellSize } from './channel.ts';

const READY_TIMEOUT_MS = 20_000;

export interface BenchAgent {
  pid: number;
  url: string;
  ttyUrl: string;
  token: string;
}

/** A warm agent (not claimed yet). nodeFlags: extra node flags for the agent only (e.g. --cpu-prof). */
export async function startWarmAgent(group: ChildGroup, dir: string, nodeFlags: readonly string[] = []): Promise<BenchAgent> {
  const workspace = join(dir, 'workspace');
  mkdirSync(workspace, { recursive: true });
  const token = randomBytes(32).toString('hex');
  const tokenFile = join(dir, 'agent-token');
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const child = group.spawn(process.execPath, [...nodeFlags, ...agentNodeArgs(), '--listen', '127.0.0.1:0', '--token-file', tokenFile, '--workspace', workspace], {
    env: { ...AGENT_ENV, PATH: process.env.PATH ?? '/usr/bin:/bin' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the agent did not say "agent ready" within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
    child.once('exit', (code, signal) => reject(new Error(`the agent exited (${signal ?? `code ${code}`}) before it was ready`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = parseJson(line);
      if (entry?.msg === 'agent ready' && typeof entry.port === 'number') {
        clearTimeout(timer);
        resolve(entry.port);
      }
    });
  });
  return { pid: child.pid ?? 0, url: `http://127.0.0.1:${port}`, ttyUrl: `ws://127.0.0.1:${port}/v1/tty`, token };
}

/** Claims the agent with the `shell` harness (bash) at the given size. */
export async function claimShell(agent: BenchAgent, size: ShellSize): Promise<void> {
  const response = await fetch(`${agent.url}/v1/claim`, {
    method: 'POST',
    headers: { authorization: `Bearer ${agent.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ session: 'bench-pty', harness: 'shell', env: { SHELL: '/bin/bash' }, ...size }),
  });
  if (!response.ok) throw new Error(`claim refused: ${response.status} ${await response.text()}`);
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
