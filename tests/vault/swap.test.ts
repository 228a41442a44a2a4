import { once } from 'node:events';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { generateStub } from '../../vault/stubs.ts';
import {
  StubBlockedError,
  createBodySwapper,
  swapHeaders,
  swapTarget,
  type SwapContext,
} from '../../vault/swap.ts';
import type { Credential } from '../../vault/types.ts';

function credential(name: string, value: string, hosts: string[], places: Credential['places']): Credential {
  return { name, value, stub: generateStub(value), hosts, places };
}

const github = credential('GITHUB_TOKEN', 'ghp_' + 'R3alGitHubT0ken'.repeat(3).slice(0, 36), ['api.github.com', '*.githubusercontent.com'], ['header']);
const mapsKey = credential('MAPS_KEY', 'Ab+c/d=e&f?g h%2Fi+/=&' + 'x'.repeat(20), ['maps.example.com'], ['query', 'header']);
const upload = credential('UPLOAD_TOKEN', 'up_' + 'Upl0adS3cret'.repeat(4), ['upload.example.com'], ['header', 'body']);
const credentials = [github, mapsKey, upload];

function context(host: string, plainHttp = false, creds: readonly Credential[] = credentials): SwapContext {
  return { credentials: creds, host, plainHttp };
}

function blockedBy(action: () => unknown): StubBlockedError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(StubBlockedError);
    return error as StubBlockedError;
  }
  throw new Error('expected a StubBlockedError, nothing was thrown');
}

function basic(userPass: Buffer | string): string {
  return 'Basic ' + Buffer.from(userPass).toString('base64');
}

function decodeBasic(header: string): Buffer {
  return Buffer.from(header.replace(/^Basic /, ''), 'base64');
}

describe('swapHeaders', () => {
  it('swaps a Bearer stub and any other header value toward an allowed host', () => {
    const result = swapHeaders(context('api.github.com'), {
      authorization: `Bearer ${github.stub}`,
      'x-token': `token=${github.stub};again=${github.stub}`,
    });
    expect(result.headers).toEqual({
      authorization: `Bearer ${github.value}`,
      'x-token': `token=${github.value};again=${github.value}`,
    });
    expect(result.used).toEqual(['GITHUB_TOKEN']);
  });

  it('swaps toward a wildcard host at any depth, and every item of an array value', () => {
    const result = swapHeaders(context('a.b.githubusercontent.com'), { 'x-multi': [github.stub, 'plain', `x${github.stub}`] });
    expect(result.headers['x-multi']).toEqual([github.value, 'plain', `x${github.value}`]);
    expect(result.used).toEqual(['GITHUB_TOKEN']);
  });

  it('keeps header order, drops undefined values, never swaps names, and does not mutate the input', () => {
    const input = {
      'x-first': 'one',
      [`x-${github.stub}`]: 'name holds a stub',
      authorization: `Bearer ${github.stub}`,
      'x-missing': undefined,
      'x-last': 'last',
    };
    const snapshot = structuredClone(input);
    const result = swapHeaders(context('api.github.com'), input);
    expect(Object.keys(result.headers)).toEqual(['x-first', `x-${github.stub}`, 'authorization', 'x-last']);
    expect(result.headers[`x-${github.stub}`]).toBe('name holds a stub');
    expect(input).toEqual(snapshot);
  });

  it('round-trips Basic credentials: decodes user:pass, swaps, re-encodes', () => {
    const result = swapHeaders(context('api.github.com'), { Authorization: basic(`x-access-token:${github.stub}`) });
    const header = result.headers.Authorization as string;
    expect(header.startsWith('Basic ')).toBe(true);
    expect(decodeBasic(header).toString()).toBe(`x-access-token:${github.value}`);
    expect(result.used).toEqual(['GITHUB_TOKEN']);
  });

  it('keeps every byte of a non-ASCII user and secret through the Basic round trip', () => {
    const utf8Secret = credential('UTF8_SECRET', 'pässwörd-€-' + 'k'.repeat(30), ['api.github.com'], ['header']);
    const user = Buffer.from([0x75, 0xe9, 0x72]); // "uér" in latin1: not valid UTF-8
    const input = Buffer.concat([user, Buffer.from(`:${utf8Secret.stub}`)]);
    const result = swapHeaders(context('api.github.com', false, [utf8Secret]), { authorization: basic(input) });
    const expected = Buffer.concat([user, Buffer.from(':'), Buffer.from(utf8Secret.value, 'utf8')]);
    expect(decodeBasic(result.headers.authorization as string)).toEqual(expected);
  });

  it('leaves a Basic header untouched when it holds no stub', () => {
    const header = basic('user:password');
    expect(swapHeaders(context('api.github.com'), { authorization: header }).headers.authorization).toBe(header);
  });

  it('leaves an in-scope stub alone in a header when the credential does not list header', () => {
    const queryOnly = credential('QUERY_ONLY', 'q-' + 'v'.repeat(40), ['api.github.com'], ['query']);
    const result = swapHeaders(context('api.github.com', false, [queryOnly]), {
      'x-key': queryOnly.stub,
      authorization: basic(`u:${queryOnly.stub}`),
    });
    expect(result.headers['x-key']).toBe(queryOnly.stub);
    expect(decodeBasic(result.headers.authorization as string).toString()).toBe(`u:${queryOnly.stub}`);
    expect(result.used).toEqual([]);
  });

  it('blocks a stub sent to another host, naming the credential and the host', () => {
    const error = blockedBy(() => swapHeaders(context('evil.example.com'), { authorization: `Bearer ${github.stub}` }));
    expect(error.credential).toBe('GITHUB_TOKEN');
    expect(error.host).toBe('evil.example.com');
    expect(error.place).toBe('header');
    expect(error.message).toBe(
      'credential GITHUB_TOKEN may not be sent to evil.example.com (allowed: api.github.com, *.githubusercontent.com)',
    );
  });

  it.each([
    ['github.com', 'the bare domain of an exact host'],
    ['githubusercontent.com', 'the bare suffix of a wildcard'],
    ['api.github.com.evil.com', 'a look-alike suffix'],
    ['evilgithub.com', 'a look-alike name'],
  ])('blocks toward %s (%s)', (host) => {
    expect(blockedBy(() => swapHeaders(context(host), { 'x-token': github.stub })).credential).toBe('GITHUB_TOKEN');
  });

  it('blocks an out-of-scope stub hidden in Basic credentials', () => {
    const error = blockedBy(() => swapHeaders(context('api.github.com'), { authorization: basic(`u:${upload.stub}`) }));
    expect(error.credential).toBe('UPLOAD_TOKEN');
    expect(error.place).toBe('header');
  });

  it('blocks an out-of-scope stub in a header name', () => {
    const error = blockedBy(() => swapHeaders(context('api.github.com'), { [`x-${upload.stub}`]: '1' }));
    expect(error.credential).toBe('UPLOAD_TOKEN');
  });

  it('blocks even when another in-scope stub sits in the same request', () => {
    const error = blockedBy(() =>
      swapHeaders(context('api.github.com'), { authorization: `Bearer ${github.stub}`, 'x-other': mapsKey.stub }),
    );
    expect(error.credential).toBe('MAPS_KEY');
  });

  it('never swaps over plain HTTP, even toward the credential’s own host', () => {
    const error = blockedBy(() => swapHeaders(context('api.github.com', true), { authorization: `Bearer ${github.stub}` }));
    expect(error.credential).toBe('GITHUB_TOKEN');
    expect(error.host).toBe('api.github.com');
    expect(error.message).toBe('credential GITHUB_TOKEN is never sent over plain HTTP (request to api.github.com)');
    const clean = swapHeaders(context('api.github.com', true), { accept: '*/*' });
    expect(clean).toEqual({ headers: { accept: '*/*' }, used: [] });
  });

  it('refuses a credential with an empty stub, naming it', () => {
    const broken = { ...github, stub: '' };
    expect(() => swapHeaders(context('api.github.com', false, [broken]), {})).toThrow('credential GITHUB_TOKEN: stub');
  });
});

describe('swapTarget', () => {
  it('swaps a query stub with the percent-encoded real value', () => {
    const result = swapTarget(context('maps.example.com'), `/geocode?key=${mapsKey.stub}&q=a+b`);
    expect(result.target).toBe(`/geocode?key=${encodeURIComponent(mapsKey.value)}&q=a+b`);
    const parsed = new URL(result.target, 'https://maps.example.com');
    expect(parsed.searchParams.get('key')).toBe(mapsKey.value);
    expect(parsed.searchParams.get('q')).toBe('a b');
    expect(result.used).toEqual(['MAPS_KEY']);
  });

  it('never swaps the path, even for an in-scope query credential', () => {
    const target = `/keys/${mapsKey.stub}/info?x=${mapsKey.stub}`;
    const result = swapTarget(context('maps.example.com'), target);
    expect(result.target).toBe(`/keys/${mapsKey.stub}/info?x=${encodeURIComponent(mapsKey.value)}`);
  });

  it('leaves a target without query or stubs unchanged', () => {
    expect(swapTarget(context('maps.example.com'), '/a/b')).toEqual({ target: '/a/b', used: [] });
    expect(swapTarget(context('maps.example.com'), '/a?')).toEqual({ target: '/a?', used: [] });
  });

  it('leaves an in-scope stub in the query when the credential does not list query', () => {
    const result = swapTarget(context('api.github.com'), `/search?token=${github.stub}`);
    expect(result).toEqual({ target: `/search?token=${github.stub}`, used: [] });
  });

  it.each([
    ['query', (stub: string) => `/collect?k=${stub}`],
    ['path', (stub: string) => `/collect/${stub}`],
    ['path', (stub: string) => `/collect/%${stub.charCodeAt(0).toString(16)}${stub.slice(1)}`],
    ['query', (stub: string) => `/collect?k=%${stub.charCodeAt(0).toString(16).toUpperCase()}${stub.slice(1)}`],
  ])('blocks an out-of-scope stub in the %s', (place, target) => {
    const error = blockedBy(() => swapTarget(context('evil.example.com'), target(github.stub)));
    expect(error.credential).toBe('GITHUB_TOKEN');
    expect(error.host).toBe('evil.example.com');
    expect(error.place).toBe(place);
    expect(error.message).toContain('GITHUB_TOKEN');
    expect(error.message).toContain('evil.example.com');
  });

  it('never swaps a query over plain HTTP', () => {
    const error = blockedBy(() => swapTarget(context('maps.example.com', true), `/geocode?key=${mapsKey.stub}`));
    expect(error.message).toMatch(/never sent over plain HTTP/);
  });
});

/** Writes `chunks` through a fresh body swapper; resolves with what it emitted and how it ended. */
async function runBody(ctx: SwapContext, chunks: readonly Buffer[], contentType?: string) {
  const swapper = createBodySwapper(ctx, { contentType });
  const emitted: Buffer[] = [];
  swapper.on('data', (chunk: Buffer) => emitted.push(chunk));
  let error: unknown = null;
  try {
    await pipeline(Readable.from(chunks), swapper);
  } catch (caught) {
    error = caught;
  }
  return { output: Buffer.concat(emitted), error, used: [...swapper.used] };
}

function splitAt(body: Buffer, position: number): Buffer[] {
  return [body.subarray(0, position), body.subarray(position)];
}

function bytewise(body: Buffer): Buffer[] {
  return [...body].map((byte) => Buffer.from([byte]));
}

describe('createBodySwapper', () => {
  const before = Buffer.from([0x00, 0xff, 0xfe, 0x80, ...Buffer.from('{"token":"')]);
  const after = Buffer.from([...Buffer.from('"}'), 0xc3, 0x28, 0x00]);
  const inScopeBody = Buffer.concat([before, Buffer.from(upload.stub), after]);
  const swappedBody = Buffer.concat([before, Buffer.from(upload.value), after]);

  it('swaps a stub split at every possible chunk boundary, binary-safe', async () => {
    for (let position = 0; position <= inScopeBody.length; position++) {
      const result = await runBody(context('upload.example.com'), splitAt(inScopeBody, position));
      expect(result.error).toBeNull();
      expect(result.output).toEqual(swappedBody);
      expect(result.used).toEqual(['UPLOAD_TOKEN']);
    }
  });

  it('swaps a stub delivered one byte per chunk', async () => {
    const result = await runBody(context('upload.example.com'), bytewise(inScopeBody));
    expect(result.output).toEqual(swappedBody);
  });

  it('swaps back-to-back and overlapping-looking occurrences', async () => {
    const body = Buffer.from(`${upload.stub}${upload.stub}${upload.stub.slice(0, 5)}${upload.stub}`);
    const expected = Buffer.from(`${upload.value}${upload.value}${upload.stub.slice(0, 5)}${upload.value}`);
    for (let position = 0; position <= body.length; position += 7) {
      expect((await runBody(context('upload.example.com'), splitAt(body, position))).output).toEqual(expected);
    }
  });

  it('leaves the stub of an in-scope credential that does not list body', async () => {
    const body = Buffer.from(`token=${github.stub}`);
    const result = await runBody(context('api.github.com'), bytewise(body));
    expect(result).toEqual({ output: body, error: null, used: [] });
  });

  it('fails before emitting any byte of an out-of-scope stub, at every split position', async () => {
    const stubAt = before.length;
    for (let position = 0; position <= inScopeBody.length; position++) {
      const result = await runBody(context('evil.example.com'), splitAt(inScopeBody, position));
      expect(result.error).toBeInstanceOf(StubBlockedError);
      const error = result.error as StubBlockedError;
      expect([error.credential, error.host, error.place]).toEqual(['UPLOAD_TOKEN', 'evil.example.com', 'body']);
      expect(result.output.length).toBeLessThanOrEqual(stubAt);
    }
    const bytes = await runBody(context('evil.example.com'), bytewise(inScopeBody));
    expect(bytes.error).toBeInstanceOf(StubBlockedError);
    expect(bytes.output.length).toBeLessThanOrEqual(stubAt);
  });

  it('blocks a body stub over plain HTTP even toward the credential’s own host', async () => {
    const result = await runBody(context('upload.example.com', true), [inScopeBody]);
    expect((result.error as StubBlockedError).message).toMatch(/UPLOAD_TOKEN is never sent over plain HTTP/);
    expect(result.output.includes(Buffer.from(upload.stub))).toBe(false);
  });

  it('handles many credentials at once: swaps the in-scope ones, blocks a foreign one', async () => {
    const many = Array.from({ length: 200 }, (_, index) =>
      credential(`KEY_${index}`, `sk-${index}-` + 'm'.repeat(30 + (index % 17)), [`svc${index % 2}.example.com`], ['body']),
    );
    const inScope = many.filter((_, index) => index % 2 === 0);
    const body = Buffer.from(inScope.map((c) => `${c.name}=${c.stub}`).join('&'));
    const expected = Buffer.from(inScope.map((c) => `${c.name}=${c.value}`).join('&'));
    const chunks = Array.from({ length: Math.ceil(body.length / 7) }, (_, i) => body.subarray(i * 7, i * 7 + 7));
    const result = await runBody(context('svc0.example.com', false, many), chunks);
    expect(result.output).toEqual(expected);
    expect(result.used.sort()).toEqual(inScope.map((c) => c.name).sort());

    const foreign = Buffer.concat([body, Buffer.from(`&x=${many[1]!.stub}`)]);
    const blocked = await runBody(context('svc0.example.com', false, many), [foreign]);
    expect((blocked.error as StubBlockedError).credential).toBe('KEY_1');
  });

  it('encodes the real value for form and JSON bodies', async () => {
    const awkward = credential('AWKWARD', 'a+b/c=d&e"f\\g' + 'h'.repeat(20), ['upload.example.com'], ['body']);
    const ctx = context('upload.example.com', false, [awkward]);
    const form = await runBody(ctx, [Buffer.from(`k=${awkward.stub}&x=1`)], 'application/x-www-form-urlencoded');
    expect(new URLSearchParams(form.output.toString()).get('k')).toBe(awkward.value);
    const json = await runBody(ctx, [Buffer.from(`{"k":"${awkward.stub}"}`)], 'application/json; charset=utf-8');
    expect(JSON.parse(json.output.toString()).k).toBe(awkward.value);
    const raw = await runBody(ctx, [Buffer.from(awkward.stub)], 'application/octet-stream');
    expect(raw.output.toString()).toBe(awkward.value);
  });

  it('streams a large body: output starts before the end is written, chunks stay small', async () => {
    const chunkSize = 64 * 1024;
    const chunkCount = 64; // 4 MiB
    const swapper = createBodySwapper(context('upload.example.com'));
    const emittedSizes: number[] = [];
    let emittedBeforeEnd = 0;
    let endWritten = false;
    const collected: Buffer[] = [];
    swapper.on('data', (chunk: Buffer) => {
      collected.push(chunk);
      emittedSizes.push(chunk.length);
      if (!endWritten) emittedBeforeEnd += chunk.length;
    });
    const written: Buffer[] = [];
    for (let index = 0; index < chunkCount; index++) {
      const filler = Buffer.alloc(chunkSize - upload.stub.length, 0x61 + (index % 26));
      // Rotated so each chunk ends with the start of a stub and the next one begins with its rest.
      const plain = Buffer.concat([filler, Buffer.from(upload.stub)]);
      const rotated = Buffer.concat([plain.subarray(-10), plain.subarray(0, -10)]);
      written.push(rotated);
      if (!swapper.write(rotated)) await once(swapper, 'drain');
    }
    endWritten = true;
    swapper.end();
    await once(swapper, 'end');
    const input = Buffer.concat(written);
    const want = Buffer.from(input.toString('latin1').replaceAll(upload.stub, upload.value), 'latin1');
    const output = Buffer.concat(collected);
    expect(output.length).toBe(want.length);
    expect(output.equals(want)).toBe(true); // toEqual walks a 4 MiB buffer byte by byte, far too slowly
    expect(emittedBeforeEnd).toBeGreaterThan(input.length / 2);
    expect(Math.max(...emittedSizes)).toBeLessThanOrEqual(chunkSize + upload.value.length);
  });
});

describe('body swapper in front of a real loopback upload', () => {
  async function postThroughSwapper(ctx: SwapContext, body: Buffer): Promise<{ received: Buffer; error: unknown }> {
    const received: Buffer[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      req.on('data', (chunk: Buffer) => received.push(chunk));
      req.on('end', () => res.end('ok'));
      req.on('error', () => undefined);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const outgoing = request({ host: '127.0.0.1', port, method: 'POST', path: '/upload' });
    outgoing.on('error', () => undefined);
    const answered = new Promise<void>((resolve) => {
      outgoing.on('response', (res) => res.resume().on('end', resolve));
      outgoing.on('close', resolve);
    });
    const pieces = Array.from({ length: Math.ceil(body.length / 5) }, (_, i) => body.subarray(i * 5, i * 5 + 5));
    let error: unknown = null;
    try {
      await pipeline(Readable.from(pieces), createBodySwapper(ctx), outgoing);
    } catch (caught) {
      error = caught;
    }
    await answered;
    await new Promise((resolve) => server.close(resolve));
    return { received: Buffer.concat(received), error };
  }

  const body = Buffer.from(`{"upload_token":"${upload.stub}","data":"${'z'.repeat(200)}"}`);

  it('the upstream receives the real value toward the allowed host', async () => {
    const result = await postThroughSwapper(context('upload.example.com'), body);
    expect(result.error).toBeNull();
    expect(result.received.toString()).toBe(body.toString().replace(upload.stub, upload.value));
  });

  it('the upstream never sees the stub sent toward another host', async () => {
    const result = await postThroughSwapper(context('evil.example.com'), body);
    expect(result.error).toBeInstanceOf(StubBlockedError);
    expect(result.received.includes(Buffer.from(upload.stub))).toBe(false);
    expect(result.received.includes(Buffer.from(upload.stub.slice(0, 3)))).toBe(false);
  });
});
