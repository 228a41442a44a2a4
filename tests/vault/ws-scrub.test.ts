// The upstream → sandbox half of a WebSocket (vault/intercept/ws-scrub.ts) with the vault's real byte
// scrubber: fragmented messages are joined and scrubbed whole, control frames pass at once, lengths of
// every size class round-trip, chunk boundaries do not matter, and an oversized frame is an error.
import type { Transform } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createWebSocketScrubber } from '../../vault/intercept/ws-scrub.ts';
import { createByteScrubber } from '../../vault/scrub.ts';

const VALUE = 'ghp_RealGithubSecret0123456789abcdefABCD';
const STUB = 'ghp_StubStubStubStubStubStubStubStub0000';
const TEXT = 0x1;
const BINARY = 0x2;
const CONTINUATION = 0x0;
const CLOSE = 0x8;
const PING = 0x9;

interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

function scrubber(): Transform {
  return createWebSocketScrubber(createByteScrubber([{ value: VALUE, stub: STUB }]));
}

/** One RFC 6455 frame; masked as a client would send it when `mask` is given. */
function encode(opcode: number, payload: string | Buffer, { fin = true, mask }: { fin?: boolean; mask?: Buffer } = {}): Buffer {
  const body = Buffer.from(payload);
  const n = body.length;
  const lengthBytes = n < 126 ? Buffer.from([n]) : n < 65536 ? Buffer.from([126, n >> 8, n & 0xff]) : Buffer.concat([Buffer.from([127]), bigEndian64(n)]);
  if (mask) lengthBytes[0]! |= 0x80;
  const masked = mask ? Buffer.from(body.map((byte, i) => byte ^ mask[i % 4]!)) : body;
  return Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode]), lengthBytes, mask ?? Buffer.alloc(0), masked]);
}

function bigEndian64(n: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(n));
  return bytes;
}

/** Parses unmasked frames; fails on trailing bytes, so the output must be whole frames. */
function decode(bytes: Buffer): Frame[] {
  const frames: Frame[] = [];
  let at = 0;
  while (at < bytes.length) {
    expect(bytes[at + 1]! & 0x80).toBe(0);
    let length = bytes[at + 1]! & 0x7f;
    let offset = at + 2;
    if (length === 126) [length, offset] = [bytes.readUInt16BE(offset), offset + 2];
    else if (length === 127) [length, offset] = [Number(bytes.readBigUInt64BE(offset)), offset + 8];
    expect(offset + length).toBeLessThanOrEqual(bytes.length);
    frames.push({ fin: (bytes[at]! & 0x80) !== 0, opcode: bytes[at]! & 0x0f, payload: bytes.subarray(offset, offset + length) });
    at = offset + length;
  }
  return frames;
}

/** Writes `chunks` one by one, ends the stream and returns everything it produced. */
async function run(chunks: Buffer[]): Promise<Buffer> {
  const transform = scrubber();
  const out: Buffer[] = [];
  transform.on('data', (chunk: Buffer) => out.push(chunk));
  const finished = new Promise<void>((resolve, reject) => transform.once('end', resolve).once('error', reject));
  for (const chunk of chunks) transform.write(chunk);
  transform.end();
  await finished;
  return Buffer.concat(out);
}

const text = (frame: Frame) => ({ fin: frame.fin, opcode: frame.opcode, payload: frame.payload.toString('utf8') });

describe('createWebSocketScrubber', () => {
  it('joins a text message whose secret is split across a continuation frame into one scrubbed frame', async () => {
    const cut = 10;
    const message = `{"token":"${VALUE}"}`;
    const split = message.indexOf(VALUE) + cut;
    const out = await run([encode(TEXT, message.slice(0, split), { fin: false }), encode(CONTINUATION, message.slice(split))]);
    expect(decode(out).map(text)).toEqual([{ fin: true, opcode: TEXT, payload: `{"token":"${STUB}"}` }]);
    expect(out.toString('latin1')).not.toContain(VALUE.slice(0, cut));
  });

  it('passes a ping between fragments on at once, before the message it interrupts', async () => {
    const transform = scrubber();
    const out: Buffer[] = [];
    transform.on('data', (chunk: Buffer) => out.push(chunk));
    transform.write(encode(TEXT, `first half ${VALUE.slice(0, 12)}`, { fin: false }));
    transform.write(encode(PING, 'heartbeat'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(decode(Buffer.concat(out)).map(text)).toEqual([{ fin: true, opcode: PING, payload: 'heartbeat' }]);

    transform.end(encode(CONTINUATION, `${VALUE.slice(12)} second half`));
    await new Promise((resolve) => transform.once('end', resolve));
    expect(decode(Buffer.concat(out)).map(text)).toEqual([
      { fin: true, opcode: PING, payload: 'heartbeat' },
      { fin: true, opcode: TEXT, payload: `first half ${STUB} second half` },
    ]);
  });

  it.each([
    ['7-bit', 100],
    ['16-bit', 1_000],
    ['16-bit, largest', 65_535],
    ['64-bit', 70 * 1024],
  ])('round-trips a message with a %s length (%i bytes), secrets scrubbed', async (_label, size) => {
    const filler = 'x'.repeat(size - 2 * VALUE.length);
    const payload = `${VALUE}${filler.slice(0, filler.length >> 1)}${VALUE}${filler.slice(filler.length >> 1)}`;
    expect(payload).toHaveLength(size);
    const frames = decode(await run([encode(BINARY, payload)]));
    expect(frames).toHaveLength(1);
    expect(frames[0]!.payload).toHaveLength(size);
    expect(text(frames[0]!)).toEqual({ fin: true, opcode: BINARY, payload: payload.replaceAll(VALUE, STUB) });
  });

  it('encodes a 70 KB message with the 64-bit length form', async () => {
    const out = await run([encode(TEXT, 'y'.repeat(70 * 1024))]);
    expect(out[1]).toBe(127);
    expect(Number(out.readBigUInt64BE(2))).toBe(70 * 1024);
  });

  it('unmasks a masked frame and sends it on unmasked', async () => {
    const frames = decode(await run([encode(TEXT, `masked ${VALUE}`, { mask: Buffer.from([1, 2, 3, 4]) })]));
    expect(frames.map(text)).toEqual([{ fin: true, opcode: TEXT, payload: `masked ${STUB}` }]);
  });

  it('gives the same frames whatever the chunk boundaries', async () => {
    const stream = Buffer.concat([
      encode(TEXT, `a ${VALUE.slice(0, 20)}`, { fin: false }),
      encode(PING, 'p'),
      encode(CONTINUATION, `${VALUE.slice(20)} b`),
      encode(BINARY, `${'z'.repeat(300)}${VALUE}`),
      encode(TEXT, `${VALUE}`.repeat(2000)),
      encode(CLOSE, Buffer.from([0x03, 0xe8])),
    ]);
    const whole = await run([stream]);
    expect(whole.toString('latin1')).not.toContain(VALUE);
    const oneByteAtATime = await run([...stream].map((byte) => Buffer.from([byte])));
    expect(oneByteAtATime.equals(whole)).toBe(true);
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 12 }), async (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), stream.length];
        const chunks = points.slice(1).map((end, i) => stream.subarray(points[i], end));
        expect((await run(chunks)).equals(whole)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it.each([
    ['a 64-bit length of 2^40 bytes', Buffer.concat([Buffer.from([0x82, 127]), bigEndian64(2 ** 40)])],
    ['a length one byte over 16 MiB', Buffer.concat([Buffer.from([0x82, 127]), bigEndian64(16 * 1024 * 1024 + 1)])],
  ])('errors on a frame declaring %s, from its header alone', async (_label, header) => {
    await expect(run([header])).rejects.toThrow(/exceeds 16 MiB/);
  });

  it('errors on a continuation frame that continues no message', async () => {
    await expect(run([encode(CONTINUATION, 'orphan')])).rejects.toThrow(/continuation frame without a message/);
  });
});
