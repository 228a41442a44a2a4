import { SerializeAddon } from '@xterm/addon-serialize';
import xtermHeadless from '@xterm/headless';
import type { Terminal as Emulator } from '@xterm/headless';
import { scrolledAwayPrefix } from './scrolled-away.ts';

/** Lines of scrollback the mirror keeps (and a snapshot replays) above the visible screen. */
export const SCREEN_SCROLLBACK_LINES = 1000;

/**
 * Unparsed bytes the emulator may hold before the PTY is paused, and the level it resumes at. The
 * emulator parses on a timer; without a bound a fast program would outrun it (xterm.js throws away
 * writes past 50 MB).
 */
export const SCREEN_BACKLOG = { highWaterBytes: 4 * 1024 * 1024, lowWaterBytes: 1024 * 1024 } as const;

/**
 * Output is parsed at most this long after it arrives, or as soon as this much is waiting (or a
 * snapshot or resize is asked for): bulk output then comes in batches large enough for most of it
 * to be skipped as scrolled away (scrolled-away.ts), and nobody sees the mirror until a snapshot.
 */
export const SCREEN_BATCH = { maxDelayMs: 10, maxBytes: 1024 * 1024 } as const;

/** Full reset: a snapshot starts with it so it restores the screen in a terminal that showed anything. */
const RESET_TERMINAL = '\x1bc';

/** The parts of xterm's core read here; read defensively (internal API, checked by the tests). */
interface EmulatorCore {
  coreService?: { isCursorHidden?: boolean };
  buffer?: { scrollTop?: number; scrollBottom?: number };
  _inputHandler?: { _parser?: { currentState?: number }; _utf8Decoder?: { interim?: Uint8Array } };
}

/** What the mirror does next, in the order it was asked: parse bytes, resize, or call back once parsed. */
type Step = { bytes: Buffer } | { cols: number; rows: number } | { parsed: () => void };

export interface ScreenMirrorOptions {
  scrollback?: number;
  /** Leave unparsed what provably scrolls away (scrolled-away.ts); off only to compare against. */
  skipScrolledAway?: boolean;
}

/**
 * A headless terminal emulator fed every PTY byte, so a new viewer can be given the screen as it is.
 * The emulator gets one write at a time; what arrives meanwhile is gathered into the next one, whose
 * scrolled-away part is left unparsed. Resizes and snapshots wait their turn, so each applies at
 * exactly its place in the stream. It reports when its backlog crosses the watermarks so the
 * terminal can pause the PTY.
 */
export class ScreenMirror {
  readonly #emulator: Emulator;
  readonly #serializer = new SerializeAddon();
  readonly #onBacklog: (overHighWater: boolean) => void;
  readonly #skipScrolledAway: boolean;
  readonly #steps: Step[] = [];
  #size: { cols: number; rows: number };
  #busy = false;
  #queuedBytes = 0;
  #batchTimer: NodeJS.Timeout | null = null;
  #skippedBytes = 0;
  #backlogBytes = 0;
  #overHighWater = false;

  constructor(cols: number, rows: number, onBacklog: (overHighWater: boolean) => void, options: ScreenMirrorOptions = {}) {
    const scrollback = options.scrollback ?? SCREEN_SCROLLBACK_LINES;
    this.#emulator = new xtermHeadless.Terminal({ cols, rows, scrollback, allowProposedApi: true });
    this.#emulator.loadAddon(this.#serializer);
    this.#onBacklog = onBacklog;
    this.#skipScrolledAway = options.skipScrolledAway ?? true;
    this.#size = { cols, rows };
  }

  /** The size as last set (it applies to the screen once the bytes before it are parsed). */
  get cols(): number {
    return this.#size.cols;
  }

  get rows(): number {
    return this.#size.rows;
  }

  /** Bytes left unparsed because they scrolled away unseen (scrolled-away.ts). */
  get skippedBytes(): number {
    return this.#skippedBytes;
  }

  get overHighWater(): boolean {
    return this.#overHighWater;
  }

  write(chunk: Buffer): void {
    this.#backlogBytes += chunk.length;
    this.#queuedBytes += chunk.length;
    if (!this.#overHighWater && this.#backlogBytes > SCREEN_BACKLOG.highWaterBytes) this.#setOverHighWater(true);
    this.#enqueue({ bytes: chunk });
  }

  resize(cols: number, rows: number): void {
    this.#size = { cols, rows };
    this.#enqueue({ cols, rows });
  }

  /**
   * Calls back once every byte written so far is parsed, with the screen serialized at exactly that
   * point: bytes written after this call are not in it, so the caller sends them after the snapshot.
   */
  snapshotWhenParsed(callback: (snapshot: Buffer, size: { cols: number; rows: number }) => void): void {
    this.#enqueue({ parsed: () => callback(this.#snapshot(), { cols: this.#emulator.cols, rows: this.#emulator.rows }) });
  }

  /** The active buffer's visible lines as text, once everything written so far is parsed (tests, debugging). */
  visibleText(): Promise<string[]> {
    return new Promise((resolve) => this.#enqueue({ parsed: () => resolve(bufferLines(this.#emulator)) }));
  }

  dispose(): void {
    if (this.#batchTimer) clearTimeout(this.#batchTimer);
    this.#emulator.dispose();
  }

  #enqueue(step: Step): void {
    this.#steps.push(step);
    this.#next();
  }

  /** Runs steps until one needs the emulator's (asynchronous) parser, then waits for it. */
  #next(): void {
    while (!this.#busy && this.#steps.length > 0 && !this.#holdBytes()) {
      const step = this.#steps[0]!;
      if ('bytes' in step) this.#parse(...this.#gatherBytes());
      else if ('parsed' in step) this.#parse(new Uint8Array(0), 0, (this.#steps.shift() as { parsed: () => void }).parsed);
      else {
        this.#steps.shift();
        this.#emulator.resize(step.cols, step.rows);
      }
    }
  }

  /** Whether output at the head of the queue waits for more (SCREEN_BATCH); arms the timer that ends the wait. */
  #holdBytes(): boolean {
    const waiting = this.#steps.every((step) => 'bytes' in step) && this.#queuedBytes < SCREEN_BATCH.maxBytes;
    if (waiting) this.#batchTimer ??= setTimeout(this.#endBatchWait, SCREEN_BATCH.maxDelayMs);
    return waiting;
  }

  readonly #endBatchWait = (): void => {
    this.#batchTimer = null;
    if (!this.#busy && this.#steps.length > 0) this.#parse(...this.#gatherBytes());
  };

  /** Every chunk at the head of the queue as one, without the part that scrolls away unseen. */
  #gatherBytes(): [Uint8Array, number] {
    if (this.#batchTimer) clearTimeout(this.#batchTimer);
    this.#batchTimer = null;
    const chunks: Buffer[] = [];
    while (this.#steps[0] && 'bytes' in this.#steps[0]) chunks.push((this.#steps.shift() as { bytes: Buffer }).bytes);
    const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    this.#queuedBytes -= bytes.length;
    const skip = this.#skipScrolledAway && this.#canSkip() ? scrolledAwayPrefix(bytes, this.#emulator.options.scrollback! + 2 * this.#emulator.rows) : 0;
    if (skip === 0) return [bytes, bytes.length];
    this.#skippedBytes += skip;
    // The CR stands for the skipped text's last CR LF: the rest starts at column 0, as it would have.
    const rest = Buffer.allocUnsafe(bytes.length - skip + 1);
    rest[0] = 0x0d;
    rest.set(bytes.subarray(skip), 1);
    return [rest, bytes.length];
  }

  #parse(bytes: Uint8Array, backlogBytes: number, then?: () => void): void {
    this.#busy = true;
    this.#emulator.write(bytes, () => {
      this.#busy = false;
      this.#backlogBytes -= backlogBytes;
      if (this.#overHighWater && this.#backlogBytes < SCREEN_BACKLOG.lowWaterBytes) this.#setOverHighWater(false);
      then?.();
      this.#next();
    });
  }

  /** Only from the normal screen, with the full-screen scroll region, between escape sequences and characters. */
  #canSkip(): boolean {
    const core = (this.#emulator as unknown as { _core?: EmulatorCore })._core;
    const parser = core?._inputHandler?._parser;
    const utf8 = core?._inputHandler?._utf8Decoder?.interim;
    return this.#emulator.buffer.active.type === 'normal' && core?.buffer?.scrollTop === 0 && core.buffer.scrollBottom === this.#emulator.rows - 1
      && parser?.currentState === 0 && utf8 !== undefined && utf8[0] === 0;
  }

  #setOverHighWater(over: boolean): void {
    this.#overHighWater = over;
    this.#onBacklog(over);
  }

  #snapshot(): Buffer {
    return Buffer.from(RESET_TERMINAL + this.#serializer.serialize() + this.#stateSerializeLeavesOut(), 'utf8');
  }

  /**
   * The serialize addon restores content, colours, the alternate screen and the DEC modes, but not the
   * scroll region or a hidden cursor (full-screen programs set both), and a restored origin mode moves
   * the cursor home. Set those, then place the cursor absolutely.
   */
  #stateSerializeLeavesOut(): string {
    const core = (this.#emulator as unknown as { _core?: EmulatorCore })._core;
    const buffer = this.#emulator.buffer.active;
    const top = core?.buffer?.scrollTop ?? 0;
    const rows = this.#emulator.rows;
    const bottom = core?.buffer?.scrollBottom ?? rows - 1;
    let state = top !== 0 || bottom !== rows - 1 ? `\x1b[${top + 1};${bottom + 1}r` : '';
    const row = buffer.cursorY - (this.#emulator.modes.originMode ? top : 0);
    state += `\x1b[${row + 1};${buffer.cursorX + 1}H`;
    if (core?.coreService?.isCursorHidden) state += '\x1b[?25l';
    return state;
  }
}

/** The visible lines of an emulator's active buffer, trailing blanks trimmed. */
export function bufferLines(emulator: Emulator): string[] {
  const buffer = emulator.buffer.active;
  const lines: string[] = [];
  for (let y = buffer.viewportY; y < buffer.viewportY + emulator.rows; y++) lines.push(buffer.getLine(y)?.translateToString(true) ?? '');
  return lines;
}
