// A /30 per sandbox out of 10.213.0.0/16. The host end's interface name is derived from the slot,
// so the kernel's "File exists" on `ip link add` is the lock that keeps parallel test processes apart.
import { randomInt } from 'node:crypto';
import { runTool, runToolSync } from '../run-tool.ts';

export interface VethSlot {
  hostInterface: string;
  /** The sandbox end, inside the netns. */
  sandboxInterface: string;
  networkAddress: string;
  hostAddress: string;
  sandboxAddress: string;
}

const POOL_BASE = (10 << 24) | (213 << 16);
const POOL_SLOTS = 1 << 14; // 16 bits of host part, 2 bits per /30
const CLAIM_ATTEMPTS = 64;
const SANDBOX_INTERFACE = 'eth0';

/** Creates a veth pair on a free slot, the sandbox end already inside `netns`. Both ends stay down. */
export async function claimVethSlot(netns: string): Promise<VethSlot> {
  const first = randomInt(POOL_SLOTS);
  for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
    const slot = vethSlot((first + attempt) % POOL_SLOTS);
    const { hostInterface, sandboxInterface } = slot;
    const add = await runTool(['ip', 'link', 'add', hostInterface, 'type', 'veth', 'peer', 'name', sandboxInterface, 'netns', netns]);
    if (add.code !== 0) {
      if (add.stderr.includes('File exists')) continue;
      throw new Error(`ip link add ${slot.hostInterface} failed: ${add.stderr.trim()}`);
    }
    if (!(await subnetInUse(slot))) return slot;
    deleteHostInterface(slot.hostInterface);
  }
  throw new Error(`no free /30 in 10.213.0.0/16 after ${CLAIM_ATTEMPTS} tries (stale laptb* interfaces?)`);
}

export function deleteHostInterface(name: string): void {
  const result = runToolSync(['ip', 'link', 'del', name]);
  if (result.code !== 0 && !result.stderr.includes('Cannot find device')) {
    throw new Error(`ip link del ${name}: ${result.stderr.trim()}`);
  }
}

function vethSlot(index: number): VethSlot {
  const base = POOL_BASE + index * 4;
  return {
    hostInterface: `laptb${index}`,
    sandboxInterface: SANDBOX_INTERFACE,
    networkAddress: ipv4(base),
    sandboxAddress: ipv4(base + 1),
    hostAddress: ipv4(base + 2),
  };
}

/** Something outside this pool's naming (another runtime, a manual setup) may already use the subnet. */
async function subnetInUse(slot: VethSlot): Promise<boolean> {
  const result = await runTool(['ip', '-o', '-4', 'addr', 'show', 'to', `${slot.networkAddress}/30`]);
  return result.stdout.trim() !== '';
}

function ipv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join('.');
}
