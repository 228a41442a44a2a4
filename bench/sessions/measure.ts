// What bench/sessions measures: timed session operations through the real gateway, the baseline of
// a bare `node -e 0` in a fresh netns, and the memory of idle sandboxes.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import type { SandboxHandle } from '../../gateway/runtime/types.ts';
import type { TestGateway } from '../../tests/support/gateway.ts';

export interface Percentiles {
  count: number;
  p50Ms: number;
  p99Ms: number;
}

export function percentiles(samples: number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
  return { count: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99) };
}

/** The baseline: a fresh netns, `node -e 0` inside it, the netns removed. */
export function netnsNodeSpawnMs(name: string): number {
  const began = performance.now();
  execFileSync('ip', ['netns', 'add', name]);
  try {
    execFileSync('ip', ['netns', 'exec', name, process.execPath, '-e', '0']);
    return performance.now() - began;
  } finally {
    execFileSync('ip', ['netns', 'del', name]);
  }
}

export interface SessionTimings {
  readyMs: number;
  firstByteMs: number;
  deleteMs: number;
  warm: boolean;
}

/** POST …/session?wait=true → ready; then the first terminal bytes over the TTY WebSocket; then DELETE. */
export async function timeSession(gw: TestGateway): Promise<SessionTimings> {
  const began = performance.now();
  const session = await gw.json('POST', '/api/v1/managed_agents/agents/sh/session?wait=true', {}, 201);
  if (session.status !== 'ready') throw new Error(`session ${session.id} is ${session.status}: ${session.failure_reason}`);
  const readyMs = performance.now() - began;
  await firstTerminalBytes(`${gw.url.replace('http', 'ws')}/api/v1/managed_agents/sessions/${session.id}/tty`, gw.key);
  const firstByteMs = performance.now() - began;
  const deleteStart = performance.now();
  await gw.json('DELETE', `/api/v1/managed_agents/sessions/${session.id}`, undefined, 200);
  return { readyMs, firstByteMs, deleteMs: performance.now() - deleteStart, warm: session.warm };
}

function firstTerminalBytes(url: string, key: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${key}` } });
    const seen: string[] = [];
    const timer = setTimeout(() => reject(new Error(`no PTY byte in 30 s from ${url}; got ${JSON.stringify(seen)}, state ${ws.readyState}`)), 30_000);
    ws.on('unexpected-response', (_req, res) => reject(new Error(`${url} answered ${res.statusCode}`)));
    ws.on('close', (code) => seen.push(`close ${code}`));
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return void seen.push(String(data));
      clearTimeout(timer);
      ws.close();
      resolve();
    });
    ws.once('error', reject);
  });
}

/** RSS and PSS (shared pages split among sharers) of a sandbox's agent and vault, in MiB. */
export interface SandboxMemory {
  rssMiB: number;
  pssMiB: number;
  agentRssMiB: number;
  vaultRssMiB: number;
}

export function sandboxMemory(handle: SandboxHandle): SandboxMemory {
  const pids = (handle.detail as { pids: Record<'agent' | 'vault', { pid: number }> }).pids;
  const rollup = (part: 'agent' | 'vault') => readFileSync(`/proc/${pids[part].pid}/smaps_rollup`, 'utf8');
  const [agent, vault] = [rollup('agent'), rollup('vault')];
  const agentRssMiB = kib(agent, 'Rss') / 1024;
  const vaultRssMiB = kib(vault, 'Rss') / 1024;
  return { rssMiB: agentRssMiB + vaultRssMiB, pssMiB: (kib(agent, 'Pss') + kib(vault, 'Pss')) / 1024, agentRssMiB, vaultRssMiB };
}

function kib(rollup: string, field: string): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? NaN);
}
