// The real sandbox agent (`node sandbox-agent/main.ts`) as a child process on loopback, claimed with
// the `shell` harness the way the gateway claims a warm sandbox.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ChildGroup } from '../vault/children.ts';
import type { ShellSize } from './channel.ts';

const AGENT_MAIN = fileURLToPath(new URL('../../sandbox-agent/main.ts', import.meta.url));
const READY_TIMEOUT_MS = 20_000;

export interface BenchAgent {
  pid: number;
  ttyUrl: string;
  token: string;
}

/** nodeFlags: extra node flags for the agent only (e.g. --cpu-prof), before its script. */
export async function startClaimedAgent(group: ChildGroup, dir: string, size: ShellSize, nodeFlags: readonly string[] = []): Promise<BenchAgent> {
  const workspace = join(dir, 'workspace');
  mkdirSync(workspace, { recursive: true });
  const token = randomBytes(32).toString('hex');
  const tokenFile = join(dir, 'agent-token');
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const child = group.spawn(process.execPath, [...nodeFlags, AGENT_MAIN, '--listen', '127.0.0.1:0', '--token-file', tokenFile, '--workspace', workspace], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
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
  const url = `http://127.0.0.1:${port}`;
  const response = await fetch(`${url}/v1/claim`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ session: 'bench-pty', harness: 'shell', env: { SHELL: '/bin/bash' }, ...size }),
  });
  if (!response.ok) throw new Error(`claim refused: ${response.status} ${await response.text()}`);
  return { pid: child.pid ?? 0, ttyUrl: `ws://127.0.0.1:${port}/v1/tty`, token };
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
