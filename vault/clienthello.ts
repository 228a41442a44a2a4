// Peeks at a TLS ClientHello to learn the SNI host and ALPN offer before any TLS state exists, so the
// vault can route by name (DESIGN.md §3, invariant 4) and then hand the untouched bytes to a TLS
// server. Every read is bounds-checked: hostile input yields 'not-tls', never a throw.
import type { Socket } from 'node:net';

export type ClientHelloParse =
  | { kind: 'incomplete' }
  | { kind: 'not-tls'; reason: string }
  | { kind: 'hello'; serverName: string | null; alpn: string[] };

export interface PeekOptions {
  /** Most bytes read while waiting for a complete ClientHello. */
  maxBytes?: number;
  /** Longest wait for a complete ClientHello. */
  timeoutMs?: number;
}

const RECORD_HEADER_LENGTH = 5;
const HANDSHAKE_HEADER_LENGTH = 4;
const CONTENT_TYPE_HANDSHAKE = 22;
const HANDSHAKE_TYPE_CLIENT_HELLO = 1;
const MAX_RECORD_PAYLOAD = 16 * 1024;
/** Far above any real ClientHello (post-quantum key shares included); a larger claim is a lie. */
const MAX_CLIENT_HELLO_LENGTH = 64 * 1024;
const EXTENSION_SERVER_NAME = 0;
const EXTENSION_ALPN = 16;
const SERVER_NAME_TYPE_HOST = 0;
const HOST_NAME_CHARS = /^[A-Za-z0-9._-]+$/;
/** A 16 KiB hello plus headroom for the 5-byte headers of the records it may be split over. */
const DEFAULT_MAX_PEEK_BYTES = MAX_RECORD_PAYLOAD + 256;
const DEFAULT_PEEK_TIMEOUT_MS = 10_000;

const INCOMPLETE: ClientHelloParse = { kind: 'incomplete' };

export function parseClientHello(bytes: Buffer): ClientHelloParse {
  const message = collectHandshakeMessage(bytes);
  if (!Buffer.isBuffer(message)) return message;
  try {
    return parseClientHelloBody(message);
  } catch (err) {
    if (err instanceof MalformedHello) return { kind: 'not-tls', reason: `malformed ClientHello: ${err.message}` };
    throw err;
  }
}

/** Joins the handshake records' payloads until the first handshake message is whole; returns its body. */
function collectHandshakeMessage(bytes: Buffer): Buffer | ClientHelloParse {
  const payloads: Buffer[] = [];
  let collected = 0;
  let messageEnd: number | null = null;
  for (let offset = 0; offset < bytes.length; ) {
    const header = checkRecordHeader(bytes.subarray(offset, offset + RECORD_HEADER_LENGTH), offset === 0);
    if (header !== null) return header;
    const payloadStart = offset + RECORD_HEADER_LENGTH;
    offset = payloadStart + bytes.readUInt16BE(offset + 3);
    const payload = bytes.subarray(payloadStart, offset);
    payloads.push(payload);
    collected += payload.length;
    // Join the payloads at most twice (header, whole message): a hello cut into
    // thousands of one-byte records must not cost quadratic copying.
    if (messageEnd === null) {
      const handshakeHeader = checkHandshakeHeader(Buffer.concat(payloads, Math.min(collected, HANDSHAKE_HEADER_LENGTH)));
      if (typeof handshakeHeader !== 'number') {
        if (handshakeHeader !== INCOMPLETE) return handshakeHeader;
        continue;
      }
      messageEnd = handshakeHeader;
    }
    if (collected >= messageEnd) {
      return Buffer.concat(payloads, collected).subarray(HANDSHAKE_HEADER_LENGTH, messageEnd);
    }
  }
  return INCOMPLETE;
}

/** Checks as much of a record header as has arrived: null when it is a whole, valid header. */
function checkRecordHeader(header: Buffer, isFirst: boolean): ClientHelloParse | null {
  const contentType = header[0];
  if (contentType !== CONTENT_TYPE_HANDSHAKE) {
    if (isFirst && contentType !== undefined && contentType & 0x80) {
      return { kind: 'not-tls', reason: 'SSLv2-format record header (not supported)' };
    }
    return { kind: 'not-tls', reason: `record content type ${contentType} is not handshake (22)` };
  }
  const versionMajor = header[1];
  if (versionMajor !== undefined && versionMajor !== 3) {
    return { kind: 'not-tls', reason: `record version major ${versionMajor} is not 3` };
  }
  if (header.length < RECORD_HEADER_LENGTH) return INCOMPLETE;
  const payloadLength = header.readUInt16BE(3);
  if (payloadLength === 0 || payloadLength > MAX_RECORD_PAYLOAD) {
    return { kind: 'not-tls', reason: `record length ${payloadLength} is outside 1..${MAX_RECORD_PAYLOAD}` };
  }
  return null;
}

/** Checks as much of the handshake header as has arrived; when whole, returns where the message ends. */
function checkHandshakeHeader(header: Buffer): number | ClientHelloParse {
  const messageType = header[0];
  if (messageType !== undefined && messageType !== HANDSHAKE_TYPE_CLIENT_HELLO) {
    return { kind: 'not-tls', reason: `first handshake message has type ${messageType}, not ClientHello (1)` };
  }
  if (header.length < HANDSHAKE_HEADER_LENGTH) return INCOMPLETE;
  const length = header.readUIntBE(1, 3);
  if (length > MAX_CLIENT_HELLO_LENGTH) {
    return { kind: 'not-tls', reason: `ClientHello length ${length} is over ${MAX_CLIENT_HELLO_LENGTH}` };
  }
  return HANDSHAKE_HEADER_LENGTH + length;
}

function parseClientHelloBody(body: Buffer): ClientHelloParse {
  const hello = new ByteCursor(body);
  const versionMajor = hello.readUInt8('legacy_version');
  hello.skip(1, 'legacy_version');
  if (versionMajor !== 3) throw new MalformedHello(`legacy_version major ${versionMajor} is not 3`);
  hello.skip(32, 'random');
  if (hello.readVector8('session_id').remaining > 32) throw new MalformedHello('session_id is over 32 bytes');
  const cipherSuites = hello.readVector16('cipher_suites').remaining;
  if (cipherSuites === 0 || cipherSuites % 2 !== 0) throw new MalformedHello('cipher_suites has a bad length');
  if (hello.readVector8('compression_methods').remaining === 0) {
    throw new MalformedHello('compression_methods is empty');
  }
  if (hello.remaining === 0) return { kind: 'hello', serverName: null, alpn: [] };
  const extensions = hello.readVector16('extensions');
  hello.expectEnd('ClientHello');
  return parseExtensions(extensions);
}

function parseExtensions(extensions: ByteCursor): ClientHelloParse {
  const seen = new Set<number>();
  let serverName: string | null = null;
  let alpn: string[] = [];
  while (extensions.remaining > 0) {
    const type = extensions.readUInt16('extension type');
    const data = extensions.readVector16(`extension ${type}`);
    if (seen.has(type)) throw new MalformedHello(`extension ${type} appears twice`);
    seen.add(type);
    if (type === EXTENSION_SERVER_NAME) serverName = parseServerName(data);
    if (type === EXTENSION_ALPN) alpn = parseAlpn(data);
  }
  return { kind: 'hello', serverName, alpn };
}

function parseServerName(data: ByteCursor): string | null {
  const list = data.readVector16('server_name list');
  data.expectEnd('server_name extension');
  if (list.remaining === 0) throw new MalformedHello('server_name list is empty');
  let hostName: string | null = null;
  while (list.remaining > 0) {
    const nameType = list.readUInt8('server_name type');
    const name = list.readVector16('server_name').rest();
    if (nameType !== SERVER_NAME_TYPE_HOST) continue;
    if (hostName !== null) throw new MalformedHello('server_name has two host_name entries');
    hostName = normalizeHostName(name);
  }
  return hostName;
}

function normalizeHostName(name: Buffer): string {
  const text = name.toString('latin1');
  if (!HOST_NAME_CHARS.test(text)) throw new MalformedHello('server_name host_name is not a DNS name');
  const host = text.toLowerCase().replace(/\.$/, '');
  if (host === '') throw new MalformedHello('server_name host_name is empty');
  return host;
}

function parseAlpn(data: ByteCursor): string[] {
  const list = data.readVector16('ALPN protocol list');
  data.expectEnd('ALPN extension');
  if (list.remaining === 0) throw new MalformedHello('ALPN protocol list is empty');
  const protocols: string[] = [];
  while (list.remaining > 0) {
    const protocol = list.readVector8('ALPN protocol').rest();
    if (protocol.length === 0) throw new MalformedHello('ALPN protocol name is empty');
    protocols.push(protocol.toString('latin1'));
  }
  return protocols;
}

class MalformedHello extends Error {}

/** Reads a buffer front to back; a read past the end throws MalformedHello naming the field. */
class ByteCursor {
  readonly #bytes: Buffer;
  #offset = 0;

  constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  readUInt8(field: string): number {
    return this.#take(1, field).readUInt8(0);
  }

  readUInt16(field: string): number {
    return this.#take(2, field).readUInt16BE(0);
  }

  skip(length: number, field: string): void {
    this.#take(length, field);
  }

  readVector8(field: string): ByteCursor {
    return new ByteCursor(this.#take(this.readUInt8(field), field));
  }

  readVector16(field: string): ByteCursor {
    return new ByteCursor(this.#take(this.readUInt16(field), field));
  }

  rest(): Buffer {
    return this.#take(this.remaining, 'rest');
  }

  expectEnd(what: string): void {
    if (this.remaining !== 0) throw new MalformedHello(`${this.remaining} stray bytes after ${what}`);
  }

  #take(length: number, field: string): Buffer {
    if (length > this.remaining) throw new MalformedHello(`${field} runs past the end`);
    const slice = this.#bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return slice;
  }
}

export function peekClientHello(
  socket: Socket,
  opts: PeekOptions = {},
): Promise<{ hello: ClientHelloParse; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_PEEK_BYTES;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_PEEK_TIMEOUT_MS;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      return reject(new Error(`maxBytes must be a positive integer, got ${maxBytes}`));
    }
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      return reject(new Error(`timeoutMs must be a positive number, got ${timeoutMs}`));
    }
    if (socket.destroyed || socket.readableEnded) {
      return reject(new Error('socket is already closed: no ClientHello to peek'));
    }
    const chunks: Buffer[] = [];
    let received = 0;

    const stop = () => {
      clearTimeout(timer);
      socket.off('data', onData).off('end', onEnd).off('close', onClose).off('error', onError);
      socket.pause();
    };
    const fail = (message: string, cause?: unknown) => {
      stop();
      reject(new Error(message, { cause }));
    };
    const onData = (chunk: Buffer | string) => {
      if (typeof chunk === 'string') return fail('socket has a string encoding set: cannot peek raw bytes');
      chunks.push(chunk);
      received += chunk.length;
      const bytes = Buffer.concat(chunks, received);
      const hello = parseClientHello(bytes);
      if (hello.kind !== 'incomplete') {
        stop();
        resolve({ hello, bytes });
      } else if (received >= maxBytes) {
        fail(`no complete ClientHello within the first ${maxBytes} bytes`);
      }
    };
    const onEnd = () => fail(`connection ended after ${received} bytes, before a complete ClientHello`);
    const onClose = () => fail(`connection closed after ${received} bytes, before a complete ClientHello`);
    const onError = (err: Error) => fail(`socket error before a complete ClientHello: ${err.message}`, err);
    const timer = setTimeout(() => fail(`no complete ClientHello within ${timeoutMs} ms`), timeoutMs);

    socket.on('data', onData).on('end', onEnd).on('close', onClose).on('error', onError);
    socket.resume();
  });
}
