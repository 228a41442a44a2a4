import { Transform, type TransformCallback } from 'node:stream';

// RFC 6455 §5.2. The vault strips Sec-WebSocket-Extensions from the upgrade request, so payloads are
// never compressed and the RSV bits are always zero.
const OP_CONTINUATION = 0x0;
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
  size: number;
}

/**
 * Scrubs the upstream → sandbox half of a WebSocket: data messages are collected (fragments joined,
 * bounded), scrubbed as a whole and sent on as one unmasked frame; control frames pass at once.
 * Whole messages, so a secret split across fragments is still found and lengths stay consistent.
 */
export function createWebSocketScrubber(scrub: (bytes: Buffer) => Buffer): Transform {
  let chunks: Buffer[] = [];
  let buffered = 0;
  // Chunks are joined only once the next frame can be complete: joining on every chunk would copy a
  // large frame once per TLS record (seconds of blocked event loop for a 16 MiB message).
  let needed = 2;
  let message: Message | null = null;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      chunks.push(chunk);
      buffered += chunk.length;
      if (buffered < needed) return done();
      let pending = chunks.length === 1 ? chunk : Buffer.concat(chunks, buffered);
      try {
        let frame = parseFrame(pending);
        for (; 'payload' in frame; frame = parseFrame(pending)) {
          pending = pending.subarray(frame.size);
          if (frame.opcode >= 0x8) this.push(encodeFrame(frame.opcode, frame.payload));
          else message = collect(message, frame, (whole) => this.push(encodeFrame(whole.opcode, scrub(whole.payload))));
        }
        chunks = [pending];
        buffered = pending.length;
        needed = frame.needed;
        done();
      } catch (err) {
        done(err as Error);
      }
    },
  });
}

type Message = { opcode: number; parts: Buffer[]; bytes: number };

/** Adds a data frame to the message being collected; hands over the whole message on its last frame. */
function collect(message: Message | null, frame: Frame, deliver: (m: { opcode: number; payload: Buffer }) => void): Message | null {
  const current = frame.opcode === OP_CONTINUATION ? message : { opcode: frame.opcode, parts: [], bytes: 0 };
  if (!current) throw new Error('WebSocket continuation frame without a message');
  current.parts.push(frame.payload);
  current.bytes += frame.payload.length;
  if (current.bytes > MAX_MESSAGE_BYTES) throw new Error('WebSocket message from upstream exceeds 16 MiB');
  if (!frame.fin) return current;
  deliver({ opcode: current.opcode, payload: Buffer.concat(current.parts) });
  return null;
}

/** The first frame in `bytes`, or how many bytes it takes to know it. */
function parseFrame(bytes: Buffer): Frame | { needed: number } {
  if (bytes.length < 2) return { needed: 2 };
  const masked = (bytes[1]! & 0x80) !== 0;
  let length = bytes[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (bytes.length < 4) return { needed: 4 };
    length = bytes.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (bytes.length < 10) return { needed: 10 };
    length = Number(bytes.readBigUInt64BE(2));
    offset = 10;
  }
  if (length > MAX_MESSAGE_BYTES) throw new Error('WebSocket frame from upstream exceeds 16 MiB');
  const maskOffset = offset;
  if (masked) offset += 4;
  if (bytes.length < offset + length) return { needed: offset + length };
  const payload = Buffer.from(bytes.subarray(offset, offset + length));
  if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= bytes[maskOffset + (i % 4)]!;
  return { fin: (bytes[0]! & 0x80) !== 0, opcode: bytes[0]! & 0x0f, payload, size: offset + length };
}

function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const header = n < 126 ? Buffer.alloc(2) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = 0x80 | opcode;
  if (n < 126) header[1] = n;
  else if (n < 65536) {
    header[1] = 126;
    header.writeUInt16BE(n, 2);
  } else {
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([header, payload]);
}
