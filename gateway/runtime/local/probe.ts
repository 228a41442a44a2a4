// Cheap liveness: the recorded processes are still ours (pid and start time, command line naming the
// sandbox's directory), the netns exists, and both health endpoints answer within a second.
import { existsSync } from 'node:fs';
import type { ProbeResult, SandboxHandle } from '../types.ts';
import type { SandboxLayout } from './layout.ts';
import { isOurProcess, type ProcessRef } from './proc.ts';

const HEALTH_TIMEOUT_MS = 1_000;

export async function probeSandbox(handle: SandboxHandle, layout: SandboxLayout): Promise<ProbeResult> {
  const detail = handle.detail as { netns?: unknown; pids?: { agent?: unknown; vault?: unknown } } | undefined;
  const agent = asProcessRef(detail?.pids?.agent);
  const vault = asProcessRef(detail?.pids?.vault);
  if (typeof detail?.netns !== 'string' || !agent || !vault) return { alive: false, part: 'sandbox', reason: 'the handle has no local runtime details (netns, pids)' };
  if (!existsSync(`/run/netns/${detail.netns}`)) return { alive: false, part: 'sandbox', reason: `the network namespace ${detail.netns} is gone` };
  const marker = `${layout.dir}/`;
  if (!isOurProcess(vault, marker)) return { alive: false, part: 'vault', reason: `the vault process (pid ${vault.pid}) is no longer running` };
  if (!isOurProcess(agent, marker)) return { alive: false, part: 'agent', reason: `the agent process (pid ${agent.pid}) is no longer running` };
  const [vaultHealth, agentHealth] = await Promise.all([
    answers(`${handle.vaultUrl}/v1/health`, {}),
    answers(`${handle.agentUrl}/healthz`, { authorization: `Bearer ${handle.agentToken}` }),
  ]);
  if (vaultHealth) return { alive: false, part: 'vault', reason: `the vault's health check failed: ${vaultHealth}` };
  if (agentHealth) return { alive: false, part: 'agent', reason: `the agent's health check failed: ${agentHealth}` };
  return { alive: true };
}

/** undefined when the URL answers 200 in time; else what went wrong. */
async function answers(url: string, headers: Record<string, string>): Promise<string | undefined> {
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    await response.body?.cancel();
    return response.status === 200 ? undefined : `GET ${url} answered ${response.status}`;
  } catch (err) {
    const cause = (err as Error).name === 'TimeoutError' ? `no answer within ${HEALTH_TIMEOUT_MS} ms` : (err as Error).message;
    return `GET ${url}: ${cause}`;
  }
}

function asProcessRef(value: unknown): ProcessRef | undefined {
  const ref = value as Partial<ProcessRef> | undefined;
  return Number.isInteger(ref?.pid) && Number.isInteger(ref?.startTime) ? { pid: ref!.pid!, startTime: ref!.startTime! } : undefined;
}
