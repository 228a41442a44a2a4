// What /proc says about processes: identity against pid reuse, parents, and who refers to a path.
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** A process as recorded: its pid and its start time (clock ticks after boot), so a reused pid is not mistaken for it. */
export interface ProcessRef {
  pid: number;
  startTime: number;
}

interface ProcStat {
  state: string;
  ppid: number;
  startTime: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: the fields after it start at the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '?', ppid: Number(fields[1]), startTime: Number(fields[19]) };
}

export function processRef(pid: number): ProcessRef | undefined {
  const stat = readStat(pid);
  return stat && stat.state !== 'Z' ? { pid, startTime: stat.startTime } : undefined;
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** The process is running (not a zombie), has the recorded start time and its command line mentions `marker`. */
export function isOurProcess(ref: ProcessRef, marker: string): boolean {
  const now = processRef(ref.pid);
  return now !== undefined && now.startTime === ref.startTime && commandLine(ref.pid).includes(marker);
}

function allPids(): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
}

/** Every process (but this one) whose command line contains `text`. */
export function pidsMentioning(text: string): number[] {
  return allPids().filter((pid) => pid !== process.pid && commandLine(pid).includes(text));
}

/** Descendants of `root` whose command line satisfies `match`, nearest first. */
export function descendantsWhere(root: number, match: (commandLine: string) => boolean): number[] {
  const children = new Map<number, number[]>();
  for (const pid of allPids()) {
    const ppid = readStat(pid)?.ppid;
    if (ppid !== undefined) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const found: number[] = [];
  for (let queue = [...(children.get(root) ?? [])]; queue.length > 0; ) {
    const pid = queue.shift()!;
    if (match(commandLine(pid))) found.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** SIGKILLs each pid; one that is already gone is fine. */
export function killAll(pids: Iterable<number>): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone between the listing and the kill.
    }
  }
}

/**
 * Waits until each pid has disappeared. A zombie counts as gone unless this process is its parent (then
 * our own event loop reaps it in a moment, and a caller comparing `ps` before and after expects that).
 */
export async function waitUntilGone(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (let left = [...pids]; ; await sleep(10)) {
    left = left.filter((pid) => {
      const stat = readStat(pid);
      return stat !== undefined && (stat.state !== 'Z' || stat.ppid === process.pid);
    });
    if (left.length === 0 || Date.now() > deadline) return left;
  }
}
