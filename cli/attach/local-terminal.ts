// The user's own terminal while attached: raw mode in, size out, and put back exactly once however
// lap ends (detach, remote exit, lost connection, a signal, an exception).

const TERMINATING_SIGNALS = ['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGQUIT'] as const;
const SIGNAL_EXIT: Record<(typeof TERMINATING_SIGNALS)[number], number> = { SIGHUP: 129, SIGINT: 130, SIGQUIT: 131, SIGTERM: 143 };
/** Modes a program may have left on that would make the local terminal unusable after a detach. */
const RESET_MODES = '\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?2004l\x1b[?25h';
const ALT_SCREEN_ON = Buffer.from('\x1b[?1049h');
const ALT_SCREEN_OFF = Buffer.from('\x1b[?1049l');

export interface TerminalSize {
  cols: number;
  rows: number;
}

export class LocalTerminal {
  readonly isTty = Boolean(process.stdin.isTTY);
  #restored = false;
  #altScreen = false;
  readonly #onSignal = (signal: (typeof TERMINATING_SIGNALS)[number]) => {
    this.restore({ resetModes: true });
    process.exit(SIGNAL_EXIT[signal]);
  };
  readonly #onExit = () => this.restore({ resetModes: true });

  enter(): void {
    if (this.isTty) process.stdin.setRawMode(true);
    process.stdin.resume();
    for (const signal of TERMINATING_SIGNALS) process.on(signal, this.#onSignal);
    process.on('exit', this.#onExit);
  }

  size(): TerminalSize {
    return { cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 };
  }

  /** stdout's 'resize' (not SIGWINCH itself), which comes after Node has read the new size. */
  onResize(listener: (size: TerminalSize) => void): void {
    process.stdout.on('resize', () => listener(this.size()));
  }

  /** Notes whether the remote program switched to the alternate screen, so a detach can leave it. */
  watchOutput(chunk: Buffer): void {
    const on = chunk.lastIndexOf(ALT_SCREEN_ON);
    const off = chunk.lastIndexOf(ALT_SCREEN_OFF);
    if (on !== off) this.#altScreen = on > off;
  }

  /** Idempotent. `resetModes` when the program did not end on its own (detach, lost connection). */
  restore(opts: { resetModes: boolean }): void {
    if (this.#restored) return;
    this.#restored = true;
    if (this.isTty) {
      if (opts.resetModes) process.stdout.write(`${RESET_MODES}${this.#altScreen ? ALT_SCREEN_OFF : ''}`);
      process.stdin.setRawMode(false);
    }
    process.stdin.pause();
    for (const signal of TERMINATING_SIGNALS) process.off(signal, this.#onSignal);
    process.off('exit', this.#onExit);
  }
}
