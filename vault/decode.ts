// Response bodies are decoded so they can be scrubbed (DESIGN.md §3 item 6) and are passed on
// identity-encoded: whoever uses a decoder must drop Content-Encoding and Content-Length.
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import zlib from 'node:zlib';

export type BodyDecoding =
  | { kind: 'identity' }
  /** `encodings` in header order; the decoder undoes them last-to-first, as HTTP applies them in order. */
  | { kind: 'decode'; encodings: string[]; createDecoder(): Transform }
  | { kind: 'unsupported'; encoding: string };

const DECODERS: Record<string, { sniffBytes: number; create(head: Buffer): Transform }> = {
  gzip: { sniffBytes: 1, create: () => zlib.createGunzip() },
  'x-gzip': { sniffBytes: 1, create: () => zlib.createGunzip() },
  // RFC 9110 says zlib-wrapped, but some servers send raw deflate: tell them apart by the header.
  deflate: {
    sniffBytes: 2,
    create: (head) => (hasZlibHeader(head) ? zlib.createInflate() : zlib.createInflateRaw()),
  },
  br: { sniffBytes: 1, create: () => zlib.createBrotliDecompress() },
  zstd: { sniffBytes: 1, create: () => zlib.createZstdDecompress() },
};

/** What we can decode, in the order we offer it when the client accepts anything. */
const DECODABLE = ['gzip', 'deflate', 'br', 'zstd'];

export function planBodyDecoding(contentEncoding: string | undefined): BodyDecoding {
  const encodings = (contentEncoding ?? '')
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
  const unknown = encodings.find((coding) => !Object.hasOwn(DECODERS, coding));
  if (unknown !== undefined) return { kind: 'unsupported', encoding: unknown };
  if (encodings.length === 0) return { kind: 'identity' };
  return { kind: 'decode', encodings, createDecoder: () => createDecoderChain(encodings) };
}

function createDecoderChain(encodings: readonly string[]): Transform {
  const stages = () => encodings.toReversed().map(createDecoderFor);
  return encodings.length === 1 ? createDecoderFor(encodings[0]!) : new DelegatingTransform(1, stages);
}

function createDecoderFor(encoding: string): Transform {
  const { sniffBytes, create } = DECODERS[encoding]!;
  return new DelegatingTransform(sniffBytes, (head) => [create(head)]);
}

/** RFC 1950: deflate method, window ≤ 32 KiB, and the two header bytes a multiple of 31. */
function hasZlibHeader(head: Buffer): boolean {
  const [cmf, flg] = head;
  if (cmf === undefined || flg === undefined) return false;
  return (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && ((cmf << 8) | flg) % 31 === 0;
}

/**
 * Accept-Encoding to send upstream: the client's preferences (with their q-values) limited to what we
 * can decode. `*` stands for every decodable coding the client did not name. A client that sent no
 * header, or accepts nothing we can decode, gets `identity`: we never make the upstream compress for
 * a client that did not ask, so what the upstream sees matches what the client asked for.
 */
export function acceptableEncodings(clientAcceptEncoding: string | undefined): string {
  const offers = (clientAcceptEncoding ?? '')
    .split(',')
    .map(parseOffer)
    .filter((offer) => offer.coding !== '');
  const named = new Set(offers.map((offer) => offer.coding));
  const accepted = offers.flatMap((offer) => {
    if (offer.q === 0) return [];
    if (offer.coding === '*') return DECODABLE.filter((c) => !named.has(c)).map((c) => offer.text.replace('*', c));
    return Object.hasOwn(DECODERS, offer.coding) ? [offer.text] : [];
  });
  return accepted.length > 0 ? accepted.join(', ') : 'identity';
}

function parseOffer(raw: string): { coding: string; q: number; text: string } {
  const text = raw.trim().replace(/\s*;\s*/g, ';');
  const [coding = '', ...params] = text.toLowerCase().split(';');
  const qParam = params.find((param) => /^q\s*=/.test(param));
  const q = qParam === undefined ? 1 : Number(qParam.replace(/^q\s*=\s*/, ''));
  return { coding, q: Number.isNaN(q) ? 0 : q, text: text.toLowerCase() };
}

/**
 * A Transform that feeds a pipeline of stages built from the first `sniffBytes` bytes of input. An empty
 * body never builds them, so it decodes to an empty body instead of zlib's "unexpected end of file".
 */
class DelegatingTransform extends Transform {
  readonly #sniffBytes: number;
  readonly #build: (head: Buffer) => Transform[];
  #head = Buffer.alloc(0);
  #stages: Transform[] = [];

  constructor(sniffBytes: number, build: (head: Buffer) => Transform[]) {
    super();
    this.#sniffBytes = sniffBytes;
    this.#build = build;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.#stages.length > 0) return this.#feed(chunk, done);
    this.#head = Buffer.concat([this.#head, chunk]);
    if (this.#head.length < this.#sniffBytes) return done();
    this.#start();
    this.#feed(this.#head, done);
  }

  override _flush(done: TransformCallback): void {
    if (this.#stages.length === 0 && this.#head.length === 0) return done();
    if (this.#stages.length === 0) {
      this.#start();
      this.#stages[0]!.write(this.#head);
    }
    this.#stages.at(-1)!.once('end', () => done());
    this.#stages[0]!.end();
  }

  override _read(size: number): void {
    super._read(size);
    this.#stages.at(-1)?.resume();
  }

  override _destroy(error: Error | null, done: (error: Error | null) => void): void {
    for (const stage of this.#stages) stage.destroy();
    done(error);
  }

  #start(): void {
    const stages = this.#build(this.#head);
    stages.forEach((stage, i) => {
      stage.on('error', (error) => this.destroy(error));
      const next = stages[i + 1];
      if (next) stage.pipe(next);
    });
    const last = stages.at(-1)!;
    last.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) last.pause();
    });
    this.#stages = stages;
  }

  #feed(chunk: Buffer, done: TransformCallback): void {
    if (this.#stages[0]!.write(chunk)) done();
    else this.#stages[0]!.once('drain', () => done());
  }
}
