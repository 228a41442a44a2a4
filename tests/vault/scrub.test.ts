import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { finished } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createByteScrubber, createScrubber, scrubText } from '../../vault/scrub.ts';
import type { ScrubPair } from '../../vault/scrub.ts';

// The test's own model of the forms a value can take in a response, written independently of
// vault/scrub-forms.ts: whatever the scrubber emits must contain none of them.

/** Indexes [start, end) of the base64 characters made only of the value's bits, at byte offset k. */
function determinedSpan(offset: number, byteLength: number): [number, number] {
  const indexes: number[] = [];
  for (let i = 0; 6 * i + 6 <= 8 * (offset + byteLength); i++) if (6 * i >= 8 * offset) indexes.push(i);
  return [indexes[0] ?? 0, (indexes.at(-1) ?? -1) + 1];
}

function base64FormsOf(value: string): string[] {
  const bytes = Buffer.from(value);
  return [0, 1, 2].flatMap((offset) => {
    const [start, end] = determinedSpan(offset, bytes.length);
    const blob = Buffer.concat([Buffer.alloc(offset), bytes]);
    return [blob.toString('base64').slice(start, end), blob.toString('base64url').slice(start, end)];
  });
}

function formsOf(value: string): string[] {
  const lowerHex = (s: string) => s.replace(/%[0-9A-F]{2}/g, (x) => x.toLowerCase());
  const json = JSON.stringify(value).slice(1, -1);
  const forms = [value, json, json.replaceAll('/', '\\/'), ...base64FormsOf(value).filter((f) => f.length >= 8)];
  if (value.isWellFormed()) {
    const uri = encodeURIComponent(value);
    const form = new URLSearchParams({ v: value }).toString().slice(2);
    forms.push(uri, lowerHex(uri), form, lowerHex(form));
  }
  return forms;
}

function expectNoFormOf(output: Buffer | string, value: string): void {
  const bytes = Buffer.from(output);
  const present = formsOf(value).filter((form) => bytes.includes(Buffer.from(form)));
  expect(present, `forms of ${JSON.stringify(value)} left in the output`).toEqual([]);
}

/** A random letters-and-digits stub with the same UTF-8 byte length as `value`, like vault/stubs.ts. */
function stubFor(value: string, keepFirstChar = false): string {
  const length = Buffer.byteLength(value);
  const random = randomBytes(length * 2).toString('base64').replace(/[+/=]/g, '').slice(0, length);
  return keepFirstChar ? value[0] + random.slice(1) : random;
}

async function scrubChunks(chunks: readonly Buffer[], pairs: readonly ScrubPair[]): Promise<Buffer> {
  const scrubber = createScrubber(pairs);
  const output: Buffer[] = [];
  scrubber.on('data', (chunk: Buffer) => output.push(chunk));
  for (const chunk of chunks) scrubber.write(chunk);
  scrubber.end();
  await finished(scrubber);
  return Buffer.concat(output);
}

function python(code: string, arg: string): string {
  return execFileSync('python3', ['-c', `import sys, json, urllib.parse\nsys.stdout.write(${code})`, arg], {
    encoding: 'utf8',
  });
}

const NASTY = 'ghp_a+b/c=d&e"f\\g h~*\'(é)€😀<x>';

describe('every form of a value is replaced by the same form of its stub', () => {
  const stub = stubFor(NASTY);
  const pairs = [{ value: NASTY, stub }];
  const lowerHex = (s: string) => s.replace(/%[0-9A-F]{2}/g, (x) => x.toLowerCase());
  const encoders: Array<[string, (s: string) => string]> = [
    ['raw', (s) => s],
    ['encodeURIComponent', encodeURIComponent],
    ['encodeURIComponent, lower-case hex', (s) => lowerHex(encodeURIComponent(s))],
    ['URLSearchParams form encoding', (s) => new URLSearchParams({ v: s }).toString().slice(2)],
    ['form encoding, lower-case hex', (s) => lowerHex(new URLSearchParams({ v: s }).toString().slice(2))],
    ['JSON.stringify', (s) => JSON.stringify(s).slice(1, -1)],
    ['JSON with \\/', (s) => JSON.stringify(s).slice(1, -1).replaceAll('/', '\\/')],
    ['Go-style HTML-safe JSON', (s) => JSON.stringify(s).slice(1, -1).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)],
    ['python json.dumps (ASCII-only)', (s) => python('json.dumps(sys.argv[1])[1:-1]', s)],
    ['python urllib quote_plus', (s) => python('urllib.parse.quote_plus(sys.argv[1])', s)],
    ["python urllib quote(safe='')", (s) => python("urllib.parse.quote(sys.argv[1], safe='')", s)],
    ['UTF-8 read as latin1 (a parsed header)', (s) => Buffer.from(s).toString('latin1')],
  ];

  it.each(encoders)('%s', async (_name, encode) => {
    const text = `before ${encode(NASTY)} after`;
    const expected = `before ${encode(stub)} after`;
    expect(encode(NASTY)).not.toBe(encode(stub));
    expect(scrubText(text, pairs)).toBe(expected);
    expect((await scrubChunks([Buffer.from(text)], pairs)).toString()).toBe(expected);
    expectNoFormOf(scrubText(text, pairs), NASTY);
  });

  const alignments = [0, 1, 2, 3, 4, 5].flatMap((prefixLength) =>
    [0, 1, 2, 3].flatMap((suffixLength) =>
      (['base64', 'base64url'] as const).flatMap((alphabet) =>
        [true, false].map((padded) => ({ prefixLength, suffixLength, alphabet, padded })),
      ),
    ),
  );

  it.each(alignments)(
    'base64 inside a larger blob: $prefixLength bytes before, $suffixLength after, $alphabet, padded $padded',
    ({ prefixLength, suffixLength, alphabet, padded }) => {
      const prefix = Buffer.from('user:'.padEnd(prefixLength, '#').slice(0, prefixLength));
      const suffix = Buffer.alloc(suffixLength, 0xa5); // top bits set: never mistaken for zero fill
      const encode = (secret: string) => {
        const blob = Buffer.concat([prefix, Buffer.from(secret), suffix]).toString(alphabet);
        return padded ? blob : blob.replace(/=+$/, '');
      };
      const original = encode(NASTY);
      const stubbed = encode(stub);
      const [start, end] = determinedSpan(prefixLength % 3, Buffer.byteLength(NASTY)).map((i) => i + Math.floor(prefixLength / 3) * 4);
      // Determined characters come from the stub; so does the zero-filled tail when the value ends the blob.
      const expected = [...original]
        .map((char, i) => ((i >= start! && i < end!) || (suffixLength === 0 && i >= start!) ? stubbed[i] : char))
        .join('');

      const output = scrubText(`Authorization: Basic ${original}\r\n`, pairs);
      expect(output).toBe(`Authorization: Basic ${expected}\r\n`);
      expectNoFormOf(output, NASTY);
    },
  );

  it('catches Basic base64("x-access-token:" + token) echoed in a JSON body, exactly', async () => {
    const token = `ghp_${randomBytes(27).toString('base64url').slice(0, 36)}`;
    const tokenStub = stubFor(token, true);
    const basic = (t: string) => `Basic ${Buffer.from(`x-access-token:${t}`).toString('base64')}`;
    const body = JSON.stringify({ echoed: { authorization: basic(token) } });
    const output = (await scrubChunks([Buffer.from(body)], [{ value: token, stub: tokenStub }])).toString();
    expect(output).toBe(JSON.stringify({ echoed: { authorization: basic(tokenStub) } }));
    expectNoFormOf(output, token);
  });

  it('replaces base64 at every alignment exactly when the stub keeps the first character', () => {
    const token = 'sk-ant-api03-0123456789abcdefghijklmnopqrstuv';
    const tokenStub = stubFor(token, true);
    for (const user of ['u:', 'us:', 'use:']) {
      const basic = (t: string) => Buffer.from(`${user}${t}`).toString('base64');
      expect(scrubText(basic(token), [{ value: token, stub: tokenStub }])).toBe(basic(tokenStub));
    }
  });

  it('with a stub of another byte length, still replaces the value base64-encoded on its own', () => {
    const value = 'sk-0123456789abcdefghij';
    const longerStub = 'sk-STUBSTUBSTUBSTUBSTUBSTUBSTUB';
    for (const alphabet of ['base64', 'base64url'] as const) {
      const alone = (s: string) => Buffer.from(s).toString(alphabet);
      const text = `a=${alone(value)}; b=${alone(value).replace(/=+$/, '')};`;
      expect(scrubText(text, [{ value, stub: longerStub }])).toBe(
        `a=${alone(longerStub)}; b=${alone(longerStub).replace(/=+$/, '')};`,
      );
    }
  });
});

describe('pairs', () => {
  it('scrubs several values in one text', () => {
    const pairs = [
      { value: 'first-secret-1234', stub: stubFor('first-secret-1234') },
      { value: 'xoxb-second/secret+', stub: stubFor('xoxb-second/secret+') },
    ];
    const text = `${pairs[0]!.value} & ${encodeURIComponent(pairs[1]!.value)} & ${btoa(pairs[0]!.value)}`;
    const output = scrubText(text, pairs);
    expect(output).toBe(`${pairs[0]!.stub} & ${encodeURIComponent(pairs[1]!.stub)} & ${btoa(pairs[0]!.stub)}`);
    for (const { value } of pairs) expectNoFormOf(output, value);
  });

  it('replaces the longer of two overlapping values whole, not half', () => {
    const pairs = [
      { value: 'secret-1234567', stub: 'STUB-A-1234567' },
      { value: 'xx-secret-1234567-yy', stub: 'STUB-B-longer-value' },
    ];
    expect(scrubText('[xx-secret-1234567-yy] [secret-1234567]', pairs)).toBe('[STUB-B-longer-value] [STUB-A-1234567]');
  });

  it('skips empty values and values equal to their stub', () => {
    expect(scrubText('same-as-stub and more', [{ value: '', stub: 'x' }, { value: 'same-as-stub', stub: 'same-as-stub' }])).toBe(
      'same-as-stub and more',
    );
  });

  it('refuses malformed pairs with an error naming the field', () => {
    expect(() => scrubText('x', [{ value: 'ok', stub: 'ok' }, { value: 5 } as unknown as ScrubPair])).toThrow(
      'scrub pairs[1].value: expected a string',
    );
    expect(() => createScrubber([{ value: 'v' } as unknown as ScrubPair])).toThrow('scrub pairs[0].stub: expected a string');
    expect(() => createScrubber(null as unknown as ScrubPair[])).toThrow('scrub pairs: expected an array');
  });

  it('createByteScrubber scrubs a whole buffer, binary-safe', () => {
    const value = 'tok_0123456789abcdef';
    const stub = stubFor(value);
    const around = [Buffer.from([0xff, 0x00, 0xc3]), Buffer.from([0xfe, 0x80, 0x00])];
    const scrub = createByteScrubber([{ value, stub }]);
    expect(scrub(Buffer.concat([around[0]!, Buffer.from(value), around[1]!]))).toEqual(
      Buffer.concat([around[0]!, Buffer.from(stub), around[1]!]),
    );
  });
});

describe('streaming', () => {
  const value = 'ghp_Secret+/=&"\\é😀0123456789';
  const stub = stubFor(value);
  const pairs = [{ value, stub }];
  const template = (secret: string) =>
    Buffer.from(
      `{"raw":"${secret}","json":${JSON.stringify(secret)},"url":"${encodeURIComponent(secret)}",` +
        `"b64":"${Buffer.from(`x-access-token:${secret}`).toString('base64')}","end":"${secret}`,
    );
  const text = template(value);

  it('scrubs a value split at every possible chunk boundary', async () => {
    const whole = scrubText(text.toString(), pairs);
    expect(whole).toBe(template(stub).toString()); // a letters-and-digits stub is the same in every form
    expectNoFormOf(whole, value);
    for (let cut = 0; cut <= text.length; cut++) {
      const output = await scrubChunks([text.subarray(0, cut), text.subarray(cut)], pairs);
      expect(output.toString(), `cut at byte ${cut}`).toBe(whole);
    }
  });

  it('scrubs a stream of 1-byte chunks, including a value that ends the stream', async () => {
    const chunks = [...text].map((byte) => Buffer.from([byte]));
    const output = await scrubChunks(chunks, pairs);
    expect(output.toString()).toBe(scrubText(text.toString(), pairs));
    expect(output.toString().endsWith(`"end":"${stub}`)).toBe(true);
  });

  it('is binary-safe', async () => {
    const noise = [randomBytes(5000), randomBytes(3000)];
    const input = Buffer.concat([noise[0]!, Buffer.from(value), noise[1]!]);
    const chunks = [input.subarray(0, 5003), input.subarray(5003, 5010), input.subarray(5010)];
    expect(await scrubChunks(chunks, pairs)).toEqual(Buffer.concat([noise[0]!, Buffer.from(stub), noise[1]!]));
  });

  it('emits output before the input ends and holds back no more than the longest form', async () => {
    const scrubber = createScrubber(pairs);
    let emitted = 0;
    scrubber.on('data', (chunk: Buffer) => (emitted += chunk.length));
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const longestForm = 3 * Buffer.byteLength(value) + 4; // every byte percent-encoded, or base64 + padding
    for (let written = chunk.length; written <= 32 * chunk.length; written += chunk.length) {
      scrubber.write(chunk);
      await new Promise(setImmediate);
      expect(emitted).toBeGreaterThanOrEqual(written - longestForm);
    }
    scrubber.end();
    await finished(scrubber);
    expect(emitted).toBe(32 * chunk.length);
  });

  it('passes bytes through unchanged when there are no pairs', async () => {
    const input = randomBytes(10_000);
    expect(await scrubChunks([input.subarray(0, 1), input.subarray(1)], [])).toEqual(input);
  });
});

describe('property: no form of any value survives, however the stream is chunked', () => {
  const special = fc.constantFrom(...'+/=&"\\ ~*\'<>é€😀\n'.split(/(?:)/u));
  const valueArb = fc
    .array(fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }), special), { minLength: 8, maxLength: 24 })
    .map((parts) => parts.join(''));
  const stubChars = fc.noBias(fc.integer({ min: 0, max: 61 }));
  const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const pairArb = valueArb.chain((value) =>
    fc
      .array(stubChars, { minLength: Buffer.byteLength(value), maxLength: Buffer.byteLength(value) })
      .map((indexes) => ({ value, stub: indexes.map((i) => alnum[i]).join('') })),
  );
  const encodings: Array<(value: string, prefix: Buffer, suffix: Buffer) => string> = [
    (v) => v,
    (v) => encodeURIComponent(v),
    (v) => new URLSearchParams({ v }).toString().slice(2).toLowerCase(),
    (v) => JSON.stringify(v).slice(1, -1),
    (v) => JSON.stringify(v).slice(1, -1).replaceAll('/', '\\/'),
    (v, prefix, suffix) => Buffer.concat([prefix, Buffer.from(v), suffix]).toString('base64'),
    (v, prefix, suffix) => Buffer.concat([prefix, Buffer.from(v), suffix]).toString('base64url'),
  ];
  const pieceArb = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 30 }).map((text) => ({ text })),
    fc.record({
      pairIndex: fc.nat(),
      encoding: fc.nat(encodings.length - 1),
      prefix: fc.uint8Array({ maxLength: 5 }),
      suffix: fc.uint8Array({ maxLength: 5 }),
    }),
  );

  it('holds for random values, stubs, surrounding text and chunkings', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(pairArb, { minLength: 1, maxLength: 3 }),
        fc.array(pieceArb, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (pairs, pieces, cutSeeds) => {
          const text = pieces
            .map((piece) => {
              if ('text' in piece) return piece.text;
              const { value } = pairs[piece.pairIndex % pairs.length]!;
              return encodings[piece.encoding]!(value, Buffer.from(piece.prefix), Buffer.from(piece.suffix));
            })
            .join(' ');
          const input = Buffer.from(text);
          const cuts = [...new Set(cutSeeds.map((seed) => seed % (input.length + 1)))].sort((a, b) => a - b);
          const chunks = [0, ...cuts].map((from, i) => input.subarray(from, cuts[i] ?? input.length));
          const output = await scrubChunks(chunks, pairs);
          for (const { value } of pairs) expectNoFormOf(output, value);
          expect(output).toEqual(createByteScrubber(pairs)(input));
        },
      ),
      { numRuns: 300 },
    );
  });
});
