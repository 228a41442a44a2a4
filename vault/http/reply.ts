import { STATUS_CODES, type ServerResponse } from 'node:http';
import { type Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** What a route answers: a status, headers and a body, written by `sendReply`. */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** Strings and Buffers are sent whole with their length; streams are piped, cut short if they fail. */
  body?: string | Buffer | Readable | ReadableStream<Uint8Array> | null;
}

/** The error shape every LAP API uses (DESIGN.md §5): {"error":{"code","message","details"}}. */
export function errorBody(code: string, message: string, details: unknown[] = []) {
  return { error: { code, message, details } };
}

export function json(value: unknown, status = 200): Reply {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}

export function errorReply(status: number, code: string, message: string, details: unknown[] = []): Reply {
  return json(errorBody(code, message, details), status);
}

/** A refusal a route throws (from any depth): answered with exactly this status, code, message and details. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown[];

  constructor(status: number, code: string, message: string, details: unknown[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  toReply(): Reply {
    return errorReply(this.status, this.code, this.message, this.details);
  }
}

export function sendReply(res: ServerResponse, { status, headers = {}, body }: Reply): void {
  if (body === null || body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
    const length = body === null || body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    res.writeHead(status, { ...headers, ...length });
    res.end(body ?? undefined);
    return;
  }
  res.writeHead(status, headers);
  const source = body instanceof Readable ? body : Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>);
  // A client that leaves, or a source that fails, ends the response early; pipeline destroys the
  // source either way, which is how a streaming route learns to stop (a web stream's cancel()).
  pipeline(source, res).catch(() => res.destroy());
}

/** A refused WebSocket upgrade: the socket never became a ServerResponse, so the answer is written raw. */
export function refuseUpgrade(socket: Duplex, status: number, code: string, message: string, details: unknown[] = [], headers: Record<string, string> = {}): void {
  const body = JSON.stringify(errorBody(code, message, details));
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
