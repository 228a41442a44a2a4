// One WebSocket to a session's terminal (DESIGN.md §4), from open to its end. What ended it is the
// outcome; reconnecting is the caller's business (attach.ts).
import { constants } from 'node:os';
import type { IncomingMessage } from 'node:http';
import type WebSocket from 'ws';
import type { TtyClientMessage, TtyServerMessage } from '../../sandbox-agent/protocol.ts';
import type { LocalTerminal } from './local-terminal.ts';

const EARLY_INPUT_LIMIT = 64 * 1024;

export type Outcome =
  | { kind: 'exit'; code: number }
  | { kind: 'lost'; reason: string }
  | { kind: 'refused'; status: number; message: string }
  | { kind: 'not-running' };

export interface TerminalLink {
  /** Sends keyboard bytes; typed before the connection is open, they wait for it (up to 64 KiB). */
  send(bytes: Buffer): void;
  resize(cols: number, rows: number): void;
  close(): void;
  /** Resolves once, when the connection ends. */
  readonly outcome: Promise<Outcome>;
  /** Resolves when the server's hello arrived (the screen follows). */
  readonly opened: Promise<void>;
}

/** ws is loaded on the first attach only: it pulls in http, tls and zlib, a third of lap's start-up. */
export async function openTerminalLink(url: string, apiKey: string, terminal: LocalTerminal): Promise<TerminalLink> {
  const { WebSocket } = await import('ws');
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${apiKey}` }, perMessageDeflate: false });
  let end!: (outcome: Outcome) => void;
  const outcome = new Promise<Outcome>((resolve) => (end = resolve));
  let hello!: () => void;
  const opened = new Promise<void>((resolve) => (hello = resolve));
  let notRunning = false;
  const control = (message: TtyClientMessage) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify(message));

  const early: Buffer[] = [];
  socket.on('open', () => {
    control({ type: 'resize', ...terminal.size() });
    for (const bytes of early.splice(0)) socket.send(bytes, { binary: true });
  });
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) {
      writeScreen(socket, terminal, data);
      if (notRunning) end({ kind: 'not-running' });
      return;
    }
    const message = controlMessage(data);
    if (message?.type === 'hello') {
      notRunning = !message.running;
      hello();
    } else if (message?.type === 'exit') end({ kind: 'exit', code: exitCode(message.code, message.signal) });
    else if (message?.type === 'dropped') end({ kind: 'lost', reason: String(message.reason) });
  });
  socket.on('unexpected-response', (_req, res: IncomingMessage) => readRefusal(res).then((message) => end({ kind: 'refused', status: res.statusCode ?? 0, message })));
  socket.on('error', (err: NodeJS.ErrnoException) => end({ kind: 'lost', reason: err.code ?? err.message }));
  socket.on('close', (code) => end({ kind: 'lost', reason: code === 1006 ? 'the connection dropped' : `closed (${code})` }));
  return {
    send: (bytes) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(bytes, { binary: true });
      else if (socket.readyState === WebSocket.CONNECTING && early.reduce((n, b) => n + b.length, bytes.length) <= EARLY_INPUT_LIMIT) early.push(bytes);
    },
    resize: (cols, rows) => control({ type: 'resize', cols, rows }),
    close: () => socket.terminate(),
    outcome,
    opened,
  };
}

/** Output is written as it comes; when the local terminal falls behind, the socket stops reading. */
function writeScreen(socket: WebSocket, terminal: LocalTerminal, data: Buffer): void {
  terminal.watchOutput(data);
  if (!process.stdout.write(data)) {
    socket.pause();
    process.stdout.once('drain', () => socket.resume());
  }
}

/**
 * A text frame as a control message; undefined for one that is not JSON. Unknown types are ignored by
 * the caller (a newer server may send more), and nothing the sandbox's side sends may crash lap while
 * the terminal is in raw mode.
 */
function controlMessage(data: Buffer): TtyServerMessage | undefined {
  try {
    const message = JSON.parse(data.toString()) as TtyServerMessage | null;
    return typeof message === 'object' && message !== null ? message : undefined;
  } catch {
    return undefined;
  }
}

/** The remote program's exit status as a shell reports it: the code, or 128 + the signal's number (1 if neither makes sense). */
function exitCode(code: unknown, signal: unknown): number {
  if (Number.isInteger(code) && (code as number) >= 0 && (code as number) <= 255) return code as number;
  const number = typeof signal === 'string' ? constants.signals[signal as keyof typeof constants.signals] : undefined;
  return number ? 128 + number : 1;
}

async function readRefusal(res: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of res) body += chunk;
  try {
    return (JSON.parse(body) as { error: { message: string } }).error.message;
  } catch {
    return body.slice(0, 200) || `HTTP ${res.statusCode}`;
  }
}
