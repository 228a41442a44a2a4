// Removes one sandbox, whatever state it is in: a live one, one whose create died part-way, one whose
// processes are already gone. Every step tolerates what it removes being absent, so it is idempotent.
import { rmSync } from 'node:fs';
import { deleteHostInterface } from '../../../vault/host/pool.ts';
import { netnsName, type SandboxLayout } from './layout.ts';
import { deleteNetns, netnsPids } from './network.ts';
import { commandLine, isOurProcess, killAll, pidsMentioning, waitUntilGone } from './proc.ts';
import type { SandboxRecord } from './record.ts';

const EXIT_WAIT_MS = 5_000;
const LAUNCHER_GRACE_MS = 1_000;

export async function teardownSandbox(layout: SandboxLayout, record: Partial<SandboxRecord> | undefined): Promise<void> {
  const netns = netnsName(layout.id);
  const problems: string[] = [];
  const attempt = async (what: string, action: () => unknown) => {
    try {
      await action();
    } catch (err) {
      problems.push(`${what}: ${(err as Error).message}`);
    }
  };
  await attempt('kill the processes', () => killSandboxProcesses(layout, netns, record));
  if (record?.hostInterface) {
    const hostInterface = record.hostInterface;
    await attempt(`delete the veth ${hostInterface}`, () => deleteHostInterface(hostInterface));
  }
  await attempt(`delete the netns ${netns}`, () => deleteNetns(netns));
  await attempt(`remove ${layout.dir}`, () => rmSync(layout.dir, { recursive: true, force: true }));
  if (problems.length > 0) throw new Error(`sandbox ${layout.id} was not removed completely: ${problems.join('; ')}`);
}

/**
 * The sandbox's processes are: everything in its netns (the launcher, the agent's PID namespace with
 * whatever the harness started), and the vault. The vault, and a process whose create died before it
 * was recorded, are found by their command lines, which all name the sandbox's directory. The
 * launchers go last: alive, they reap the PID namespace's init, which would otherwise linger as a zombie.
 */
async function killSandboxProcesses(layout: SandboxLayout, netns: string, record: Partial<SandboxRecord> | undefined): Promise<void> {
  const marker = `${layout.dir}/`;
  const recorded = [record?.launcher, record?.agent, record?.vault].filter((ref) => ref !== undefined && isOurProcess(ref, marker));
  const pids = new Set([...(await netnsPids(netns)), ...pidsMentioning(marker), ...recorded.map((ref) => ref!.pid)]);
  const launchers = [...pids].filter((pid) => commandLine(pid).startsWith('unshare '));
  const others = [...pids].filter((pid) => !launchers.includes(pid));
  killAll(others);
  const left = await waitUntilGone(others, EXIT_WAIT_MS);
  // A launcher exits by itself once its child is gone; it is killed only if it has not by then.
  const launchersLeft = await waitUntilGone(launchers, LAUNCHER_GRACE_MS);
  killAll(launchersLeft);
  left.push(...(await waitUntilGone(launchersLeft, EXIT_WAIT_MS)));
  if (left.length > 0) throw new Error(`still running after SIGKILL: ${left.join(', ')}`);
}
