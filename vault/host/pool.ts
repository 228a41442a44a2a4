// A /30 per sandbox out of an IPv4 pool. The host end's interface name is derived from the slot, so
// the kernel's "File exists" on `ip link add` is the lock that keeps parallel processes apart.
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

export interface VethPool {
  /** e.g. '10.213.0.0/16'; prefix length 8..30. */
  readonly cidr: string;
  /** Host interface names are `<prefix><slot>`; prefix plus the largest slot number must fit 15 characters. */
  readonly interfacePrefix: string;
  /** Creates a veth pair on a free slot, the sandbox end already inside `netns`. Both ends stay down. */
  claim(netns: string): Promise<VethSlot>;
}

const CLAIM_ATTEMPTS = 64;
const SANDBOX_INTERFACE = 'eth0';
const MAX_INTERFACE_NAME = 15; // IFNAMSIZ - 1

export function createVethPool(cidr: string, interfacePrefix: string): VethPool {
  const { base, slots } = parsePool(cidr);
  if (!/^[a-z][a-z0-9]*$/.test(interfacePrefix) || interfacePrefix.length + String(slots - 1).length > MAX_INTERFACE_NAME) {
    throw new TypeError(`veth pool: interface prefix ${JSON.stringify(interfacePrefix)} must be lowercase letters and digits, short enough for ${slots} slots in 15 characters`);
  }
  const slotAt = (index: number): VethSlot => {
    const network = base + index * 4;
    return {
      hostInterface: `${interfacePrefix}${index}`,
      sandboxInterface: SANDBOX_INTERFACE,
      networkAddress: ipv4(network),
      sandboxAddress: ipv4(network + 1),
      hostAddress: ipv4(network + 2),
    };
  };
  return {
    cidr,
    interfacePrefix,
    claim: async (netns) => {
      const first = randomInt(slots);
      for (let attempt = 0; attempt < Math.min(CLAIM_ATTEMPTS, slots); attempt++) {
        const slot = slotAt((first + attempt) % slots);
        const add = await runTool(['ip', 'link', 'add', slot.hostInterface, 'type', 'veth', 'peer', 'name', slot.sandboxInterface, 'netns', netns]);
        if (add.code !== 0) {
          if (add.stderr.includes('File exists')) continue;
          throw new Error(`ip link add ${slot.hostInterface} failed: ${add.stderr.trim()}`);
        }
        if (!(await subnetInUse(slot))) return slot;
        deleteHostInterface(slot.hostInterface);
      }
      throw new Error(`no free /30 in ${cidr} after ${CLAIM_ATTEMPTS} tries (stale ${interfacePrefix}* interfaces?)`);
    },
  };
}

/** Deletes a host interface (and with it its veth peer); a missing one is not an error. */
export function deleteHostInterface(name: string): void {
  const result = runToolSync(['ip', 'link', 'del', name]);
  if (result.code !== 0 && !result.stderr.includes('Cannot find device')) {
    throw new Error(`ip link del ${name}: ${result.stderr.trim()}`);
  }
}

function parsePool(cidr: string): { base: number; slots: number } {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = match?.slice(1, 5).map(Number) ?? [];
  const bits = Number(match?.[5]);
  if (!match || octets.some((o) => o > 255) || bits < 8 || bits > 30) {
    throw new TypeError(`veth pool: ${JSON.stringify(cidr)} must be an IPv4 CIDR like 10.214.0.0/16 with a prefix length of 8 to 30`);
  }
  const base = octets.reduce((value, octet) => value * 256 + octet, 0);
  const size = 2 ** (32 - bits);
  if (base % size !== 0) throw new TypeError(`veth pool: ${cidr} has host bits set; the network is ${ipv4(base - (base % size))}/${bits}`);
  return { base, slots: size / 4 };
}

/** Something outside this pool's naming (another runtime, a manual setup) may already use the subnet. */
async function subnetInUse(slot: VethSlot): Promise<boolean> {
  const result = await runTool(['ip', '-o', '-4', 'addr', 'show', 'to', `${slot.networkAddress}/30`]);
  return result.stdout.trim() !== '';
}

function ipv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}
