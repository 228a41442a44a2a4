import type { TtyServerMessage } from '../protocol.ts';

/**
 * Flow control per viewer, on the bytes its socket has not yet handed to the kernel. Above the high-water
 * mark the viewer pauses the PTY (so it waits, and with it every other viewer); below the low-water mark
 * it lets go. A viewer that stays above the high-water mark longer than maxStallMs, or whose buffer passes
 * hardLimitBytes (only a huge snapshot can do that, since a paused PTY produces nothing), is dropped: one
 * slow viewer delays the others by at most maxStallMs and costs at most hardLimitBytes of memory.
 */
export const VIEWER_FLOW = {
  highWaterBytes: 1024 * 1024,
  lowWaterBytes: 256 * 1024,
  hardLimitBytes: 32 * 1024 * 1024,
  maxStallMs: 5_000,
  checkIntervalMs: 200,
} as const;

/** What the terminal needs from a connected client; tty/websocket.ts implements it over a WebSocket. */
export interface ViewerConnection {
  /** Bytes queued for the client but not yet written to the kernel. */
  readonly bufferedAmount: number;
  /** Sends raw terminal bytes; onWritten runs once they are handed to the kernel. */
  sendBytes(bytes: Buffer, onWritten: () => void): void;
  sendMessage(message: TtyServerMessage): void;
  /** Tells the client why, closes, and frees the connection's buffers soon even if it never reads. */
  drop(reason: string): void;
}

export type Outgoing = Buffer | TtyServerMessage;

interface Viewer {
  readonly connection: ViewerConnection;
  /** Output that arrived while the viewer waited for its snapshot; null once it is live. */
  pending: Outgoing[] | null;
  /** When its buffer went above the high-water mark; null while below the low-water mark. */
  overHighWaterSince: number | null;
}

export interface ViewerGroupHooks {
  /** Whether any viewer is above its high-water mark (the PTY should pause) changed. */
  onPressureChange(): void;
  onDropped(connection: ViewerConnection, reason: string): void;
}

/** The viewers of one terminal: fan-out of output, per-viewer flow control, dropping slow ones. */
export class ViewerGroup {
  readonly #viewers = new Map<ViewerConnection, Viewer>();
  readonly #hooks: ViewerGroupHooks;
  #stallCheck: NodeJS.Timeout | null = null;

  constructor(hooks: ViewerGroupHooks) {
    this.#hooks = hooks;
  }

  get size(): number {
    return this.#viewers.size;
  }

  get overHighWater(): boolean {
    for (const viewer of this.#viewers.values()) if (viewer.overHighWaterSince !== null) return true;
    return false;
  }

  /** Adds a viewer that receives nothing until goLive; `first` and output meanwhile are kept for it. */
  add(connection: ViewerConnection, first: Outgoing[] = []): void {
    this.#viewers.set(connection, { connection, pending: [...first], overHighWaterSince: null });
  }

  /** Sends the hello and the snapshot, then whatever output arrived since the snapshot was taken. */
  goLive(connection: ViewerConnection, hello: TtyServerMessage, snapshot: Buffer): void {
    const viewer = this.#viewers.get(connection);
    if (!viewer?.pending) return;
    const pending = viewer.pending;
    viewer.pending = null;
    connection.sendMessage(hello);
    this.#sendBytesTo(viewer, snapshot);
    for (const item of pending) this.#sendTo(viewer, item);
  }

  /** Removes a viewer; false if it was not there (already dropped). */
  remove(connection: ViewerConnection): boolean {
    const viewer = this.#viewers.get(connection);
    if (!viewer) return false;
    this.#viewers.delete(connection);
    if (viewer.overHighWaterSince !== null) this.#hooks.onPressureChange();
    return true;
  }

  broadcast(item: Outgoing): void {
    for (const viewer of this.#viewers.values()) {
      if (viewer.pending) viewer.pending.push(item);
      else this.#sendTo(viewer, item);
    }
  }

  close(): void {
    if (this.#stallCheck) clearInterval(this.#stallCheck);
    this.#stallCheck = null;
  }

  #sendTo(viewer: Viewer, item: Outgoing): void {
    if (Buffer.isBuffer(item)) this.#sendBytesTo(viewer, item);
    else viewer.connection.sendMessage(item);
  }

  #sendBytesTo(viewer: Viewer, bytes: Buffer): void {
    viewer.connection.sendBytes(bytes, () => this.#checkDrained(viewer));
    const buffered = viewer.connection.bufferedAmount;
    if (buffered > VIEWER_FLOW.hardLimitBytes) return this.#drop(viewer, `more than ${VIEWER_FLOW.hardLimitBytes} bytes waiting for the client to read`);
    if (viewer.overHighWaterSince === null && buffered > VIEWER_FLOW.highWaterBytes) {
      viewer.overHighWaterSince = Date.now();
      this.#startStallCheck();
      this.#hooks.onPressureChange();
    }
  }

  #checkDrained(viewer: Viewer): void {
    if (viewer.overHighWaterSince === null || viewer.connection.bufferedAmount >= VIEWER_FLOW.lowWaterBytes) return;
    viewer.overHighWaterSince = null;
    if (this.#viewers.get(viewer.connection) === viewer) this.#hooks.onPressureChange();
  }

  /** Runs while some viewer is above its high-water mark: releases drained ones, drops stalled ones. */
  #startStallCheck(): void {
    this.#stallCheck ??= setInterval(() => {
      const now = Date.now();
      for (const viewer of this.#viewers.values()) {
        this.#checkDrained(viewer);
        if (viewer.overHighWaterSince !== null && now - viewer.overHighWaterSince > VIEWER_FLOW.maxStallMs) {
          this.#drop(viewer, `read too slowly: more than ${VIEWER_FLOW.highWaterBytes} bytes unread for over ${VIEWER_FLOW.maxStallMs / 1000} s`);
        }
      }
      if (!this.overHighWater) this.close();
    }, VIEWER_FLOW.checkIntervalMs).unref();
  }

  #drop(viewer: Viewer, reason: string): void {
    if (!this.remove(viewer.connection)) return;
    viewer.connection.drop(reason);
    this.#hooks.onDropped(viewer.connection, reason);
  }
}
