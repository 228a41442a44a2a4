import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { acceptableEncodings, planBodyDecoding } from '../../vault/decode.ts';
import { createScrubber } from '../../vault/scrub.ts';

const value = 'ghp_RealSecretValue0123456789abcdefghij';
const stub = 'ghp_StubStubStubStub0123456789STUBSTUBS'; // same length: see vault/scrub-forms.ts
const pairs = [{ value, stub }];
const bodyWith = (secret: string) =>
  Buffer.from(JSON.stringify({ token: secret, basic: btoa(`x-access-token:${secret}`), pad: 'x'.repeat(500) }));
const body = bodyWith(value);

/** Decodes `encoded` as `contentEncoding` and scrubs it, fed in chunks of `chunkSize` bytes. */
async function decodeAndScrub(contentEncoding: string, encoded: Buffer, chunkSize = 7): Promise<Buffer> {
  const plan = planBodyDecoding(contentEncoding);
  if (plan.kind !== 'decode') throw new Error(`expected a decode plan, got ${plan.kind}`);
  const chunks: Buffer[] = [];
  for (let i = 0; i < encoded.length; i += chunkSize) chunks.push(encoded.subarray(i, i + chunkSize));
  return collect(Readable.from(chunks), plan.createDecoder(), createScrubber(pairs));
}

async function collect(...stages: [Readable, ...NodeJS.ReadWriteStream[]]): Promise<Buffer> {
  const output: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      output.push(chunk);
      done();
    },
  });
  await pipeline([...stages, sink]);
  return Buffer.concat(output);
}

function expectScrubbed(output: Buffer): void {
  expect(output.toString()).not.toContain(value);
  expect(output.toString()).toBe(bodyWith(stub).toString());
}

describe('decoding real compressed bodies so they can be scrubbed', () => {
  const cases: Array<[string, Buffer]> = [
    ['gzip', zlib.gzipSync(body)],
    ['x-gzip', zlib.gzipSync(body)],
    ['deflate', zlib.deflateSync(body)],
    ['br', zlib.brotliCompressSync(body)],
    ['zstd', zlib.zstdCompressSync(body)],
    ['GZip', zlib.gzipSync(body)],
    ['identity, gzip', zlib.gzipSync(body)],
  ];
  it.each(cases)('%s', async (encoding, encoded) => {
    expectScrubbed(await decodeAndScrub(encoding, encoded));
  });

  it('raw deflate (no zlib header), as some servers send it, even fed one byte at a time', async () => {
    expectScrubbed(await decodeAndScrub('deflate', zlib.deflateRawSync(body), 1));
    expectScrubbed(await decodeAndScrub('deflate', zlib.deflateSync(body), 1));
  });

  it('undoes `gzip, br` last-to-first', async () => {
    const encoded = zlib.brotliCompressSync(zlib.gzipSync(body));
    const plan = planBodyDecoding('gzip, br');
    expect(plan).toMatchObject({ kind: 'decode', encodings: ['gzip', 'br'] });
    expectScrubbed(await decodeAndScrub('gzip, br', encoded));
  });

  it('decodes an empty body to an empty body', async () => {
    for (const encoding of ['gzip', 'deflate', 'br', 'zstd', 'gzip, br']) {
      expect((await decodeAndScrub(encoding, Buffer.alloc(0))).length).toBe(0);
    }
  });

  it('fails the stream, without crashing, on a corrupt body', async () => {
    const corrupt = Buffer.concat([zlib.gzipSync(body).subarray(0, 50), Buffer.from('not gzip at all')]);
    await expect(decodeAndScrub('gzip', corrupt)).rejects.toThrow();
    await expect(decodeAndScrub('gzip, br', Buffer.from('garbage that is not brotli'))).rejects.toThrow();
  });

  it('streams: decoded output arrives before the compressed input ends', async () => {
    const plan = planBodyDecoding('gzip');
    if (plan.kind !== 'decode') throw new Error('expected a decode plan');
    const decoder = plan.createDecoder();
    const encoded = zlib.gzipSync(Buffer.alloc(4 * 1024 * 1024, 'a'));
    const firstOutput = once(decoder, 'data');
    decoder.write(encoded.subarray(0, encoded.length - 100));
    const [chunk] = (await firstOutput) as [Buffer];
    expect(chunk.length).toBeGreaterThan(0);
    expect(decoder.writableEnded).toBe(false);
    decoder.resume();
    decoder.end(encoded.subarray(encoded.length - 100));
    await once(decoder, 'end');
  });

  it.each(['gzip', 'gzip, br'])('holds back when nobody reads: a %s bomb is not inflated into memory', async (encoding) => {
    const bomb = Buffer.alloc(64 * 1024 * 1024);
    const encoded = encoding === 'gzip' ? zlib.gzipSync(bomb) : zlib.brotliCompressSync(zlib.gzipSync(bomb));
    const plan = planBodyDecoding(encoding);
    if (plan.kind !== 'decode') throw new Error('expected a decode plan');
    const decoder = plan.createDecoder();
    decoder.write(encoded);
    // Bounded by count, not time: without backpressure zlib would have produced megabytes by now.
    for (let round = 0; round < 2000 && decoder.readableLength < 4 * 1024 * 1024; round++) {
      await new Promise(setImmediate);
    }
    expect(decoder.readableLength).toBeLessThan(1024 * 1024);
    decoder.destroy();
  });

  it('scrubs a gzip response from a real HTTP server on loopback', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      Readable.from([body.subarray(0, 1000), body.subarray(1000)]).pipe(zlib.createGzip()).pipe(res);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const response = await new Promise<http.IncomingMessage>((resolve, reject) =>
        http.get({ host: '127.0.0.1', port, headers: { 'accept-encoding': acceptableEncodings('gzip, br') } }, resolve).on('error', reject),
      );
      const plan = planBodyDecoding(response.headers['content-encoding']);
      if (plan.kind !== 'decode') throw new Error(`expected a decode plan, got ${plan.kind}`);
      expectScrubbed(await collect(response, plan.createDecoder(), createScrubber(pairs)));
    } finally {
      server.close();
    }
  });
});

describe('planBodyDecoding', () => {
  it('treats a missing, empty or identity header as identity', () => {
    for (const header of [undefined, '', 'identity', ' Identity , identity ']) {
      expect(planBodyDecoding(header)).toEqual({ kind: 'identity' });
    }
  });

  it('lists the encodings in header order, lower-cased', () => {
    expect(planBodyDecoding(' GZIP ,br')).toMatchObject({ kind: 'decode', encodings: ['gzip', 'br'] });
  });

  it('reports an unknown encoding as unsupported, naming it', () => {
    expect(planBodyDecoding('compress')).toEqual({ kind: 'unsupported', encoding: 'compress' });
    expect(planBodyDecoding('gzip, x-custom')).toEqual({ kind: 'unsupported', encoding: 'x-custom' });
    expect(planBodyDecoding('toString')).toEqual({ kind: 'unsupported', encoding: 'tostring' });
  });
});

describe('acceptableEncodings', () => {
  it.each([
    ['gzip, compress;q=0.5, br', 'gzip, br'],
    [undefined, 'identity'],
    ['', 'identity'],
    ['identity', 'identity'],
    ['compress, exi', 'identity'],
    ['*', 'gzip, deflate, br, zstd'],
    ['br;q=1.0, *;q=0.5', 'br;q=1.0, gzip;q=0.5, deflate;q=0.5, zstd;q=0.5'],
    ['gzip;q=0, *', 'deflate, br, zstd'],
    ['GZip ; Q=0.8, x-gzip', 'gzip;q=0.8, x-gzip'],
    ['deflate, gzip, br, zstd', 'deflate, gzip, br, zstd'], // what curl --compressed sends
    ['gzip;q=nonsense, br', 'br'],
  ])('%j → %j', (client, upstream) => {
    expect(acceptableEncodings(client)).toBe(upstream);
  });
});
