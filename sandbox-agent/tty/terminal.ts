import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { type IPty, spawn as spawnPty } from 'node-pty';
import type { EventLog } from '../events.ts';
import { TTY_SIZE_LIMITS } from '../protocol.ts';
import { ScreenMirror } from './screen.ts';
import { type ViewerConnection, ViewerGroup } from './viewers.ts';

export interface TerminalLaunch {
  harness: string;
  file: string;
  args: string[];
  /** The program's whole environment (the agent's own is never inherited); TERM is set here. */
  env: Record<string, string>;
  cwd: string;
  cols: number;
  rows: number;
}

export interface ExitStatus {
  code: number | null;
  signal: string | null;
}

/** How long restart() waits after SIGHUP before it sends SIGKILL. */
const RESTART_KILL_AFTER_MS = 3_000;

/** A PTY read at least this large says output is coming in bulk (Linux hands out at most ~4 KiB per read). */
const BULK_READ_BYTES = 2048;
/** How much bulk output is gathered into one frame, and for how long at most. */
const OUTPUT_GATHER_BYTES = 64 * 1024;
const OUTPUT_GATHER_MS = 2;

/** While the PTY is paused, how often to look whether the program has exited (node-pty's grace is 200 ms). */
const EXIT_WATCH_MS = 50;

/** Full reset, sent through the screen and to every viewer when the program is started again. */
const RESET_TERMINAL = Buffer.from('\x1bc');

const SIGNAL_NAMES = new Map(Object.entries(osConstants.signals).map(([name, number]) => [number, name]));

/** Starts the harness under a PTY. Throws a RangeError naming the field if the size is out of bounds. */
export function startTerminal(launch: TerminalLaunch, events: EventLog): Terminal {
  return new Terminal(launch, events);
}

/** Throws a RangeError naming the field unless 1 ≤ cols ≤ maxCols and 1 ≤ rows ≤ maxRows (integers). */
export function checkTerminalSize(cols: unknown, rows: unknown): { cols: number; rows: number } {
  const check = (field: string, value: unknown, max: number): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
      throw new RangeError(`${field} must be an integer from 1 to ${max}, got ${JSON.stringify(value) ?? String(value)}`);
    }
    return value;
  };
  return { cols: check('cols', cols, TTY_SIZE_LIMITS.maxCols), rows: check('rows', rows, TTY_SIZE_LIMITS.maxRows) };
}

/**
 * The harness's PTY, which outlives every connection. Every byte it prints goes, untouched, to the
 * screen mirror and to each viewer; any viewer may type; the last resize wins.
 */
export class Terminal {
  readonly harness: string;
  readonly #launch: TerminalLaunch;
  readonly #events: EventLog;
  readonly #screen: ScreenMirror;
  readonly #viewers: ViewerGroup;
  #pty: IPty | null = null;
  #exitStatus: ExitStatus | null = null;
  #paused = false;
  #restartPending = false;
  #killTimer: NodeJS.Timeout | null = null;
  #exitWatch: NodeJS.Timeout | null = null;
  #gathered: Buffer[] = [];
  #gatheredBytes = 0;
  #gatherTimer: NodeJS.Timeout | null = null;

  constructor(launch: TerminalLaunch, events: EventLog) {
    const size = checkTerminalSize(launch.cols, launch.rows);
    this.harness = launch.harness;
    this.#launch = launch;
    this.#events = events;
    this.#screen = new ScreenMirror(size.cols, size.rows, () => this.#updatePause());
    this.#viewers = new ViewerGroup({
      onPressureChange: () => this.#updatePause(),
      onDropped: (_connection, reason) => this.#logDetached(reason),
    });
    this.#spawn();
  }

  get running(): boolean {
    return this.#pty !== null;
  }

  get pid(): number | null {
    return this.#pty?.pid ?? null;
  }

  get cols(): number {
    return this.#screen.cols;
  }

  get rows(): number {
    return this.#screen.rows;
  }

  get exitStatus(): ExitStatus | null {
    return this.#exitStatus;
  }

  get viewerCount(): number {
    return this.#viewers.size;
  }

  /** Whether the PTY is paused because a viewer or the screen mirror is behind. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Starts the same launch again; a running program gets SIGHUP (then SIGKILL) first. */
  restart(): void {
    if (!this.#pty) return this.#spawn();
    this.#restartPending = true;
    this.kill('SIGHUP');
    this.#killTimer ??= setTimeout(() => this.kill('SIGKILL'), RESTART_KILL_AFTER_MS).unref();
  }

  kill(signal: NodeJS.Signals = 'SIGHUP'): void {
    this.#pty?.kill(signal);
  }

  /** A new viewer: it gets the hello and the current screen, then the live output. */
  attach(connection: ViewerConnection): void {
    // A viewer arriving after the exit learns of it right after the snapshot.
    this.#viewers.add(connection, this.#exitStatus ? [{ type: 'exit', ...this.#exitStatus }] : []);
    this.#events.append('tty.attached', { viewers: this.#viewers.size });
    this.#screen.snapshotWhenParsed((snapshot, size) => {
      const hello = { type: 'hello', ...size, harness: this.harness, running: this.running, viewers: this.#viewers.size } as const;
      this.#viewers.goLive(connection, hello, snapshot);
    });
  }

  detach(connection: ViewerConnection, reason?: string): void {
    if (this.#viewers.remove(connection)) this.#logDetached(reason);
  }

  /** Keystrokes from any viewer; dropped while no program runs. */
  input(bytes: Buffer): void {
    if (!this.#pty) return;
    this.#pty.write(bytes);
    this.#events.touch('input');
  }

  /** Resizes the PTY and the screen mirror; throws a RangeError naming the field if out of bounds. */
  resize(cols: unknown, rows: unknown): void {
    const size = checkTerminalSize(cols, rows);
    this.#flushGathered(); // output printed at the old size is parsed at the old size
    this.#pty?.resize(size.cols, size.rows);
    this.#screen.resize(size.cols, size.rows);
  }

  /** The visible screen as the mirror has it, once all output so far is parsed. */
  visibleText(): Promise<string[]> {
    return this.#screen.visibleText();
  }

  #spawn(): void {
    if (this.#exitStatus) this.#output(RESET_TERMINAL);
    const { file, args, env, cwd } = this.#launch;
    const pty = spawnPty(file, args, { name: 'xterm-256color', cols: this.cols, rows: this.rows, cwd, env: { ...env, TERM: 'xterm-256color' }, encoding: null });
    this.#pty = pty;
    this.#exitStatus = null;
    if (this.#paused) pty.pause();
    this.#watchExitWhilePaused();
    // With encoding null node-pty hands over Buffers, whatever its typings say: no decoding on the way.
    pty.onData((chunk) => this.#output(chunk as unknown as Buffer));
    pty.onExit(({ exitCode, signal }) => this.#exited(exitCode, signal));
    this.#events.append('harness.started', { harness: this.harness, pid: pty.pid });
  }

  /**
   * Output goes out at once, unless it comes in bulk: a read that filled most of the PTY's buffer
   * means more is waiting, so reads are gathered for up to OUTPUT_GATHER_MS or OUTPUT_GATHER_BYTES
   * and sent as one frame. Keystroke echoes and prompts are never held; bulk output costs every hop
   * after the agent (gateway, lap) one frame per 64 KiB instead of one per ~4 KiB read.
   */
  #output(chunk: Buffer): void {
    if (this.#gathered.length === 0 && chunk.length < BULK_READ_BYTES) return this.#send(chunk);
    this.#gathered.push(chunk);
    this.#gatheredBytes += chunk.length;
    if (this.#gatheredBytes >= OUTPUT_GATHER_BYTES) this.#flushGathered();
    else this.#gatherTimer ??= setTimeout(this.#flushGathered, OUTPUT_GATHER_MS);
  }

  readonly #flushGathered = (): void => {
    if (this.#gatherTimer) clearTimeout(this.#gatherTimer);
    this.#gatherTimer = null;
    const chunks = this.#gathered;
    this.#gathered = [];
    this.#gatheredBytes = 0;
    if (chunks.length > 0) this.#send(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  };

  #send(bytes: Buffer): void {
    this.#screen.write(bytes);
    this.#viewers.broadcast(bytes);
    this.#events.touch('output');
  }

  #exited(exitCode: number, signalNumber: number | undefined): void {
    this.#flushGathered(); // the program's last output goes before its exit message
    const signal = signalNumber ? (SIGNAL_NAMES.get(signalNumber) ?? String(signalNumber)) : null;
    this.#exitStatus = { code: signal ? null : exitCode, signal };
    this.#pty = null;
    this.#watchExitWhilePaused();
    if (this.#killTimer) clearTimeout(this.#killTimer);
    this.#killTimer = null;
    this.#events.append('harness.exited', { harness: this.harness, ...this.#exitStatus });
    this.#viewers.broadcast({ type: 'exit', ...this.#exitStatus });
    if (this.#restartPending) {
      this.#restartPending = false;
      this.#spawn();
    }
  }

  #updatePause(): void {
    const behind = this.#viewers.overHighWater || this.#screen.overHighWater;
    if (behind === this.#paused) return;
    this.#paused = behind;
    if (behind) this.#pty?.pause();
    else this.#pty?.resume();
    this.#watchExitWhilePaused();
  }

  /**
   * node-pty reports an exit only once the PTY's read side has closed, and destroys that side unread
   * 200 ms after the program exited: a PTY paused for a slow viewer would lose the program's last
   * output. So while paused, a program found gone gets its PTY read again; what is left to read is at
   * most the PTY's own buffer, which the viewers' and the mirror's bounds have room for.
   */
  #watchExitWhilePaused(): void {
    this.#stopExitWatch();
    const pty = this.#pty;
    if (!this.#paused || !pty) return;
    this.#exitWatch = setInterval(() => {
      if (!processGone(pty.pid)) return;
      this.#stopExitWatch();
      pty.resume();
    }, EXIT_WATCH_MS).unref();
  }

  #stopExitWatch(): void {
    if (this.#exitWatch) clearInterval(this.#exitWatch);
    this.#exitWatch = null;
  }

  #logDetached(reason?: string): void {
    this.#events.append('tty.detached', { viewers: this.#viewers.size, ...(reason ? { reason } : {}) });
  }
}

/** Whether a process has exited: no longer in /proc, or a zombie waiting to be reaped. */
function processGone(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}
