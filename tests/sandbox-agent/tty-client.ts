// A TTY viewer as a client would be: a WebSocket to /v1/tty that records every control message and
// binary frame, and renders the stream into its own headless terminal (sized by the hello).
import xtermHeadless from '@xterm/headless';
import type { Terminal as Emulator } from '@xterm/headless';
import { WebSocket } from 'ws';
import type { TtyServerMessage } from '../../sandbox-agent/protocol.ts';
import { bufferLines } from '../../sandbox-agent/tty/screen.ts';

const WAIT_LIMIT_MS = 15_000;

export class TtyViewer {
  readonly ws: WebSocket;
  readonly messages: TtyServerMessage[] = [];
  /** Binary frames after the snapshot, as they arrived. */
  readonly frames: Buffer[] = [];
  snapshot: Buffer | null = null;
  screen: Emulator | null = null;
  closeCode: number | null = null;
  #liveBytes = 0;
  #changed: (() => void)[] = [];
  readonly #record: boolean;

  private constructor(ws: WebSocket, record: boolean) {
    this.ws = ws;
    this.#record = record;
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.#onBytes(data as Buffer);
      else this.#onMessage(JSON.parse(String(data)) as TtyServerMessage);
      this.#notify();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.#notify();
    });
  }

  /** record: false only counts live bytes (no frames kept, no rendering) for bulk output. */
  static async connect(url: string, { headers = {}, record = true }: { headers?: Record<string, string>; record?: boolean } = {}): Promise<TtyViewer> {
    const ws = new WebSocket(url, { headers });
    const viewer = new TtyViewer(ws, record);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    await viewer.waitFor(() => viewer.snapshot !== null, 'the snapshot');
    return viewer;
  }

  /** Everything received after the snapshot, decoded only here in the test. */
  get text(): string {
    return Buffer.concat(this.frames).toString('utf8');
  }

  get liveBytes(): number {
    return this.#liveBytes;
  }

  type(input: string): void {
    this.ws.send(Buffer.from(input), { binary: true });
  }

  sendControl(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Resolves once the predicate holds (checked on every frame and every 50 ms); fails after limitMs. */
  async waitFor(predicate: () => boolean | Promise<boolean>, what: string, limitMs = WAIT_LIMIT_MS): Promise<void> {
    const deadline = Date.now() + limitMs;
    while (!(await predicate())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; received so far: ${JSON.stringify(this.text.slice(-500))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.#changed.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  waitForText(fragment: string): Promise<void> {
    return this.waitFor(() => this.text.includes(fragment), JSON.stringify(fragment));
  }

  /** The visible lines of this viewer's own rendering, once all it received is parsed. */
  screenLines(): Promise<string[]> {
    const screen = this.screen;
    if (!screen) throw new Error('no hello yet');
    return new Promise((resolve) => screen.write('', () => resolve(bufferLines(screen))));
  }

  close(): Promise<void> {
    if (this.ws.readyState === this.ws.CLOSED) return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.ws.once('close', () => resolve()));
    this.ws.close();
    return closed;
  }

  #onMessage(message: TtyServerMessage): void {
    this.messages.push(message);
    if (message.type === 'hello') this.screen = new xtermHeadless.Terminal({ cols: message.cols, rows: message.rows, allowProposedApi: true, scrollback: 1000 });
  }

  #onBytes(bytes: Buffer): void {
    if (this.snapshot === null) this.snapshot = bytes;
    else this.#liveBytes += bytes.length;
    if (!this.#record) return;
    this.screen?.write(bytes);
    if (bytes !== this.snapshot) this.frames.push(bytes);
  }

  #notify(): void {
    for (const wake of this.#changed.splice(0)) wake();
  }
}

/** Renders bytes into a fresh emulator of the given size and returns its visible lines. */
export function render(bytes: Buffer, cols: number, rows: number): Promise<{ lines: string[]; emulator: Emulator }> {
  const emulator = new xtermHeadless.Terminal({ cols, rows, allowProposedApi: true, scrollback: 1000 });
  return new Promise((resolve) => emulator.write(bytes, () => resolve({ lines: bufferLines(emulator), emulator })));
}
