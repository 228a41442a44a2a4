import { SerializeAddon } from '@xterm/addon-serialize';
import xtermHeadless from '@xterm/headless';
import type { Terminal as Emulator } from '@xterm/headless';

/** Lines of scrollback the mirror keeps (and a snapshot replays) above the visible screen. */
export const SCREEN_SCROLLBACK_LINES = 1000;

/**
 * Unparsed bytes the emulator may hold before the PTY is paused, and the level it resumes at. The
 * emulator parses on a timer; without a bound a fast program would outrun it (xterm.js throws away
 * writes past 50 MB).
 */
export const SCREEN_BACKLOG = { highWaterBytes: 4 * 1024 * 1024, lowWaterBytes: 1024 * 1024 } as const;

/** Full reset: a snapshot starts with it so it restores the screen in a terminal that showed anything. */
const RESET_TERMINAL = '\x1bc';

/** The parts of xterm's core the serialize addon leaves out; read defensively (internal API). */
interface EmulatorCore {
  coreService?: { isCursorHidden?: boolean };
  buffer?: { scrollTop?: number; scrollBottom?: number };
}

/**
 * A headless terminal emulator fed every PTY byte, so a new viewer can be given the screen as it is.
 * It reports when its parse backlog crosses the watermarks so the terminal can pause the PTY.
 */
export class ScreenMirror {
  readonly #emulator: Emulator;
  readonly #serializer = new SerializeAddon();
  readonly #onBacklog: (overHighWater: boolean) => void;
  #backlogBytes = 0;
  #overHighWater = false;

  constructor(cols: number, rows: number, onBacklog: (overHighWater: boolean) => void) {
    this.#emulator = new xtermHeadless.Terminal({ cols, rows, scrollback: SCREEN_SCROLLBACK_LINES, allowProposedApi: true });
    this.#emulator.loadAddon(this.#serializer);
    this.#onBacklog = onBacklog;
  }

  get cols(): number {
    return this.#emulator.cols;
  }

  get rows(): number {
    return this.#emulator.rows;
  }

  get overHighWater(): boolean {
    return this.#overHighWater;
  }

  write(chunk: Uint8Array): void {
    this.#backlogBytes += chunk.length;
    if (!this.#overHighWater && this.#backlogBytes > SCREEN_BACKLOG.highWaterBytes) this.#setOverHighWater(true);
    this.#emulator.write(chunk, () => {
      this.#backlogBytes -= chunk.length;
      if (this.#overHighWater && this.#backlogBytes < SCREEN_BACKLOG.lowWaterBytes) this.#setOverHighWater(false);
    });
  }

  resize(cols: number, rows: number): void {
    this.#emulator.resize(cols, rows);
  }

  /**
   * Calls back once every byte written so far is parsed, with the screen serialized at exactly that
   * point: bytes written after this call are not in it, so the caller sends them after the snapshot.
   */
  snapshotWhenParsed(callback: (snapshot: Buffer, size: { cols: number; rows: number }) => void): void {
    this.#emulator.write(new Uint8Array(0), () => callback(this.#snapshot(), { cols: this.cols, rows: this.rows }));
  }

  /** The active buffer's visible lines as text, once everything written so far is parsed (tests, debugging). */
  visibleText(): Promise<string[]> {
    return new Promise((resolve) => this.#emulator.write(new Uint8Array(0), () => resolve(bufferLines(this.#emulator))));
  }

  dispose(): void {
    this.#emulator.dispose();
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
    const bottom = core?.buffer?.scrollBottom ?? this.rows - 1;
    let state = top !== 0 || bottom !== this.rows - 1 ? `\x1b[${top + 1};${bottom + 1}r` : '';
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
