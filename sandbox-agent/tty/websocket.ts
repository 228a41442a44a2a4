import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { refuseUpgrade } from '../../vault/http/reply.ts';
import type { TtyServerMessage } from '../protocol.ts';
import type { AgentState } from '../state.ts';
import { parseControlMessage } from './control.ts';
import type { Terminal } from './terminal.ts';
import type { ViewerConnection } from './viewers.ts';

/** Largest frame a viewer may send (a paste); bigger ones close the connection with 1009. */
const MAX_INPUT_FRAME_BYTES = 1024 * 1024;

/** Close code for a viewer dropped for reading too slowly (application range 4000-4999). */
export const CLOSE_DROPPED = 4008;

/** How long a dropped viewer gets to take its close frame before its socket is destroyed. */
const DROP_GRACE_MS = 1_000;

const webSockets = new WebSocketServer({ noServer: true, maxPayload: MAX_INPUT_FRAME_BYTES, perMessageDeflate: false, clientTracking: false });

/** GET /v1/tty (auth already checked): attaches a viewer to the harness's terminal, or 409 before a claim. */
export function handleTtyUpgrade(state: AgentState, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const terminal = state.terminal;
  if (!terminal) return refuseUpgrade(socket, 409, 'conflict', 'no harness: the sandbox has not been claimed');
  webSockets.handleUpgrade(req, socket, head, (ws) => serveViewer(terminal, ws));
}

function serveViewer(terminal: Terminal, ws: WebSocket): void {
  const viewer = new WebSocketViewer(ws);
  ws.on('message', (data, isBinary) => {
    if (isBinary) return terminal.input(asBuffer(data));
    const control = parseControlMessage(asBuffer(data).toString('utf8'));
    if (!control.ok) return viewer.sendMessage({ type: 'error', message: control.error });
    terminal.resize(control.message.cols, control.message.rows);
  });
  ws.on('error', (err) => terminal.detach(viewer, err.message));
  ws.on('close', () => terminal.detach(viewer));
  terminal.attach(viewer);
}

class WebSocketViewer implements ViewerConnection {
  readonly #ws: WebSocket;

  constructor(ws: WebSocket) {
    this.#ws = ws;
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  sendBytes(bytes: Buffer, onWritten: () => void): void {
    if (this.#ws.readyState !== this.#ws.OPEN) return onWritten();
    this.#ws.send(bytes, { binary: true }, () => onWritten());
  }

  sendMessage(message: TtyServerMessage): void {
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.send(JSON.stringify(message));
  }

  drop(reason: string): void {
    this.sendMessage({ type: 'dropped', reason });
    this.#ws.close(CLOSE_DROPPED, Buffer.from(reason).subarray(0, 123).toString());
    setTimeout(() => this.#ws.terminate(), DROP_GRACE_MS).unref();
  }
}

function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}
