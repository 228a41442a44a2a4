// The sandbox's network: its netns, a veth /30 from the pool, the egress rules (applied while both
// ends are still down, so there is no moment without them), then the links.
import { VAULT_PORTS } from '../../../vault/host/vault-launch.ts';
import type { VethSlot } from '../../../vault/host/pool.ts';
import { applyEgressRules, egressRules } from '../../../vault/rules.ts';
import { runTool, runToolOrThrow } from '../../../vault/run-tool.ts';

export async function addNetns(netns: string): Promise<void> {
  await runToolOrThrow(['ip', 'netns', 'add', netns]);
}

export async function applyRules(netns: string, slot: VethSlot, agentPort: number): Promise<void> {
  await applyEgressRules(netns, egressRules({ mode: 'local', vaultAddress: slot.hostAddress, ports: { ...VAULT_PORTS }, agentPort }));
}

export async function bringUpLinks(netns: string, slot: VethSlot): Promise<void> {
  await runToolOrThrow(['ip', '-batch', '-'], [
    `addr add ${slot.hostAddress}/30 dev ${slot.hostInterface}`,
    `link set ${slot.hostInterface} up`,
  ].join('\n'));
  await runToolOrThrow(['ip', '-n', netns, '-batch', '-'], [
    `addr add ${slot.sandboxAddress}/30 dev ${slot.sandboxInterface}`,
    `link set ${slot.sandboxInterface} up`,
    'link set lo up',
  ].join('\n'));
}

/** The pids of every process in the netns; none when it does not exist. */
export async function netnsPids(netns: string): Promise<number[]> {
  const result = await runTool(['ip', 'netns', 'pids', netns]);
  return result.code === 0 ? result.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
}

export async function deleteNetns(netns: string): Promise<void> {
  const result = await runTool(['ip', 'netns', 'del', netns]);
  if (result.code !== 0 && !result.stderr.includes('No such file')) throw new Error(`ip netns del ${netns}: ${result.stderr.trim()}`);
}
