// A one-line progress indicator on stderr, only when stderr is a terminal (pipes and logs stay clean).

const FRAMES = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
const INTERVAL_MS = 80;

export class Spinner {
  readonly #enabled = Boolean(process.stderr.isTTY);
  #text = '';
  #frame = 0;
  #timer: NodeJS.Timeout | undefined;

  update(text: string): void {
    this.#text = text;
    if (!this.#enabled) return;
    this.#timer ??= setInterval(() => this.#draw(), INTERVAL_MS);
    this.#draw();
  }

  /** Clears the line; `done` is printed in its place (on a terminal only). */
  stop(done?: string): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#enabled) process.stderr.write(`\r\x1b[2K${done ? `${done}\n` : ''}`);
  }

  #draw(): void {
    this.#frame = (this.#frame + 1) % FRAMES.length;
    process.stderr.write(`\r\x1b[2K${FRAMES[this.#frame]} ${this.#text}`);
  }
}
