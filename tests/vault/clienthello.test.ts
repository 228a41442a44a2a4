import { execFile } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority } from '../../vault/ca.ts';
import { parseClientHello, peekClientHello, type ClientHelloParse } from '../../vault/clienthello.ts';

const servers: net.Server[] = [];

afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/**
 * Records what a real client sends first. Real clients put the whole hello in one record, so the
 * record's own length field (not the parser under test) says when it has all arrived.
 */
async function captureFirstRecord(connect: (port: number) => void): Promise<Buffer> {
  let received = Buffer.alloc(0);
  const captured = new Promise<Buffer>((resolve) => {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.on('data', (chunk) => {
        received = Buffer.concat([received, chunk]);
        if (received.length >= 5 && received.length >= 5 + received.readUInt16BE(3)) {
          socket.destroy();
          resolve(received);
        }
      });
    });
    listen(server).then(connect);
  });
  return captured;
}

function captureNodeHello(options: tls.ConnectionOptions): Promise<Buffer> {
  return captureFirstRecord((port) => {
    tls.connect({ host: '127.0.0.1', port, ...options }).on('error', () => {});
  });
}

/** Re-frames one handshake message into records carrying at most `size` bytes each. */
function reframe(hello: Buffer, size: number): Buffer {
  const message = hello.subarray(5, 5 + hello.readUInt16BE(3));
  const records: Buffer[] = [];
  for (let offset = 0; offset < message.length; offset += size) {
    const payload = message.subarray(offset, offset + size);
    const header = Buffer.from([22, 3, 1, 0, 0]);
    header.writeUInt16BE(payload.length, 3);
    records.push(header, payload);
  }
  return Buffer.concat(records);
}

function expectEveryPrefixIncomplete(bytes: Buffer): void {
  for (let end = 0; end < bytes.length; end++) {
    const parse = parseClientHello(bytes.subarray(0, end));
    if (parse.kind !== 'incomplete') throw new Error(`prefix of ${end} bytes gave ${JSON.stringify(parse)}`);
  }
}

let nodeHello: Buffer;

beforeAll(async () => {
  nodeHello = await captureNodeHello({ servername: 'api.anthropic.com', ALPNProtocols: ['h2', 'http/1.1'] });
});

describe('parseClientHello on real clients', () => {
  it('reads SNI and ALPN from a Node client', () => {
    expect(parseClientHello(nodeHello)).toEqual({
      kind: 'hello',
      serverName: 'api.anthropic.com',
      alpn: ['h2', 'http/1.1'],
    });
  });

  it('gives a null serverName when the client connects by IP without SNI', async () => {
    const hello = await captureNodeHello({ servername: '' });
    expect(parseClientHello(hello)).toEqual({ kind: 'hello', serverName: null, alpn: [] });
  });

  it('lowercases and strips the trailing dot of an SNI sent by openssl s_client', async () => {
    const hello = await captureFirstRecord((port) => {
      const child = execFile(
        'openssl',
        ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'API.GitHub.COM.', '-alpn', 'http/1.1'],
        () => {},
      );
      child.stdin?.end();
    });
    expect(parseClientHello(hello)).toEqual({ kind: 'hello', serverName: 'api.github.com', alpn: ['http/1.1'] });
  });

  it('says incomplete for every strict prefix of the hello', () => {
    expectEveryPrefixIncomplete(nodeHello);
  });

  it.each([1, 3, 4, 5, 64, 1000])('reads a hello split into records of %i bytes, at any cut', (size) => {
    const split = reframe(nodeHello, size);
    expect(parseClientHello(split)).toEqual(parseClientHello(nodeHello));
    expectEveryPrefixIncomplete(split);
  });
});

function notTls(bytes: Buffer): string {
  const parse = parseClientHello(bytes);
  if (parse.kind !== 'not-tls') throw new Error(`expected not-tls, got ${JSON.stringify(parse)}`);
  return parse.reason;
}

function withRecordLength(hello: Buffer, length: number): Buffer {
  const copy = Buffer.from(hello);
  copy.writeUInt16BE(length, 3);
  return copy;
}

function withHandshakeLength(hello: Buffer, length: number): Buffer {
  const copy = Buffer.from(hello);
  copy.writeUIntBE(length, 6, 3);
  return copy;
}

function vector(lengthBytes: 1 | 2, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const length = Buffer.alloc(lengthBytes);
  length.writeUIntBE(body.length, 0, lengthBytes);
  return Buffer.concat([length, body]);
}

function extension(type: number, data: Buffer): Buffer {
  const header = Buffer.alloc(2);
  header.writeUInt16BE(type);
  return Buffer.concat([header, vector(2, data)]);
}

function sni(...names: [type: number, name: string][]): Buffer {
  const entries = names.map(([type, name]) => Buffer.concat([Buffer.from([type]), vector(2, Buffer.from(name))]));
  return extension(0, vector(2, ...entries));
}

function alpn(...protocols: string[]): Buffer {
  return extension(16, vector(2, ...protocols.map((p) => vector(1, Buffer.from(p)))));
}

/** A minimal TLS 1.2-style ClientHello in one record; `extensions` null leaves the block out entirely. */
function buildClientHello(extensions: Buffer[] | null): Buffer {
  const body = Buffer.concat([
    Buffer.from([3, 3]),
    Buffer.alloc(32, 7),
    vector(1),
    vector(2, Buffer.from([0x13, 0x01])),
    vector(1, Buffer.from([0])),
    extensions === null ? Buffer.alloc(0) : vector(2, ...extensions),
  ]);
  const handshake = Buffer.concat([Buffer.from([1, 0, 0, 0]), body]);
  handshake.writeUIntBE(body.length, 1, 3);
  const record = Buffer.from([22, 3, 1, 0, 0]);
  record.writeUInt16BE(handshake.length, 3);
  return Buffer.concat([record, handshake]);
}

describe('parseClientHello on built hellos', () => {
  it('reads a hello with no extensions block', () => {
    expect(parseClientHello(buildClientHello(null))).toEqual({ kind: 'hello', serverName: null, alpn: [] });
  });

  it('skips server names of unknown type and reads the host_name', () => {
    const hello = buildClientHello([sni([7, 'whatever'], [0, 'Example.ORG.']), alpn('h2')]);
    expect(parseClientHello(hello)).toEqual({ kind: 'hello', serverName: 'example.org', alpn: ['h2'] });
  });

  it.each([
    ['a repeated extension', [sni([0, 'a.example']), sni([0, 'b.example'])], /appears twice/],
    ['two host_names', [sni([0, 'a.example'], [0, 'b.example'])], /two host_name/],
    ['a host_name that is not a DNS name', [sni([0, 'a example'])], /not a DNS name/],
    ['a host_name of only a dot', [sni([0, '.'])], /empty/],
    ['an empty server_name list', [extension(0, vector(2))], /server_name list is empty/],
    ['an empty ALPN protocol', [alpn('h2', '')], /ALPN protocol name is empty/],
    ['an extension running past the block', [Buffer.from([0, 0, 0, 9, 1])], /runs past the end/],
  ])('refuses %s', (_what, extensions, reason) => {
    expect(notTls(buildClientHello(extensions))).toMatch(reason);
  });
});

describe('parseClientHello on what is not a ClientHello', () => {
  it('refuses plain HTTP from its first byte', () => {
    expect(notTls(Buffer.from('GET / HTTP/1.1\r\n'))).toMatch(/content type 71/);
    expect(notTls(Buffer.from('G'))).toMatch(/not handshake/);
  });

  it('refuses an SSLv2-format hello', () => {
    expect(notTls(Buffer.from([0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15]))).toMatch(/SSLv2/);
  });

  it('refuses TLS records that are not a ClientHello', () => {
    expect(notTls(Buffer.from([21, 3, 3, 0, 2, 2, 40]))).toMatch(/content type 21/);
    expect(notTls(Buffer.from([23, 3, 3, 0, 1, 0]))).toMatch(/content type 23/);
    expect(notTls(Buffer.from([22, 3, 3, 0, 4, 2]))).toMatch(/not ClientHello/);
    expect(notTls(Buffer.from([22, 9, 9]))).toMatch(/version major 9/);
    const thenAlert = Buffer.concat([reframe(nodeHello, 64).subarray(0, 69), Buffer.from([21, 3, 3, 0, 2])]);
    expect(notTls(thenAlert)).toMatch(/content type 21/);
  });

  it('refuses record and handshake lengths that cannot be true', () => {
    expect(notTls(withRecordLength(nodeHello, 0))).toMatch(/record length 0/);
    expect(notTls(withRecordLength(nodeHello, 16 * 1024 + 1))).toMatch(/record length 16385/);
    expect(notTls(withHandshakeLength(nodeHello, 0xffffff))).toMatch(/ClientHello length/);
    const shorter = nodeHello.readUIntBE(6, 3) - 1;
    expect(notTls(withHandshakeLength(nodeHello, shorter))).toMatch(/malformed ClientHello/);
  });

  it('waits for more bytes when the handshake length claims more than has arrived', () => {
    const longer = nodeHello.readUIntBE(6, 3) + 1;
    expect(parseClientHello(withHandshakeLength(nodeHello, longer))).toEqual({ kind: 'incomplete' });
  });

  it('reads a whole hello even when its record claims more bytes than have arrived', () => {
    expect(parseClientHello(withRecordLength(nodeHello, nodeHello.length))).toEqual(parseClientHello(nodeHello));
  });

  it('never throws on any single corrupted byte of a real hello', () => {
    for (let index = 0; index < nodeHello.length; index++) {
      for (const value of [0x00, 0x01, 0x7f, 0xff]) {
        const corrupted = Buffer.from(nodeHello);
        corrupted[index] = value;
        expect(['incomplete', 'not-tls', 'hello']).toContain(parseClientHello(corrupted).kind);
      }
    }
  });

  it('never throws on random bytes, nor on random bytes behind a valid header', () => {
    const kinds: ClientHelloParse['kind'][] = ['incomplete', 'not-tls', 'hello'];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        expect(kinds).toContain(parseClientHello(Buffer.from(bytes)).kind);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 0, max: 700 }), (body, claimed) => {
        const header = Buffer.from([22, 3, 1, 0, 0, 1, 0, 0, 0, 3, 3]);
        header.writeUInt16BE(Math.min(body.length + 6, 16384), 3);
        header.writeUIntBE(claimed, 6, 3);
        expect(kinds).toContain(parseClientHello(Buffer.concat([header, body])).kind);
      }),
      { numRuns: 2000 },
    );
  });
});

/** A connected pair on loopback: the test writes on `client`, the code under test reads `server`. */
async function socketPair(): Promise<{ client: net.Socket; server: net.Socket }> {
  let accept!: (socket: net.Socket) => void;
  const accepted = new Promise<net.Socket>((resolve) => (accept = resolve));
  const port = await listen(net.createServer(accept));
  const client = net.connect(port, '127.0.0.1');
  client.on('error', () => {});
  const server = await accepted;
  return { client, server };
}

const PEEK_EVENTS = ['data', 'end', 'close', 'error'] as const;

function listenerCounts(socket: net.Socket): number[] {
  return PEEK_EVENTS.map((event) => socket.listenerCount(event));
}

/** Node itself keeps some listeners on a socket: peeking must leave exactly those. */
function expectLeftAlone(socket: net.Socket, countsBefore: number[]): void {
  expect(socket.isPaused()).toBe(true);
  expect(listenerCounts(socket)).toEqual(countsBefore);
}

describe('peekClientHello', () => {
  it('resolves with the hello and every byte read, across separate writes', async () => {
    const { client, server } = await socketPair();
    const before = listenerCounts(server);
    const peeked = peekClientHello(server);
    client.write(nodeHello.subarray(0, 7));
    setTimeout(() => client.write(nodeHello.subarray(7)), 20);
    const { hello, bytes } = await peeked;
    expect(hello).toMatchObject({ kind: 'hello', serverName: 'api.anthropic.com' });
    expect(bytes.equals(nodeHello)).toBe(true);
    expectLeftAlone(server, before);
    client.destroy();
  });

  it('resolves not-tls for plain HTTP', async () => {
    const { client, server } = await socketPair();
    client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const { hello, bytes } = await peekClientHello(server);
    expect(hello.kind).toBe('not-tls');
    expect(bytes.toString()).toMatch(/^GET \//);
    client.destroy();
  });

  it('rejects when half a hello arrives and the client stalls', async () => {
    const { client, server } = await socketPair();
    const before = listenerCounts(server);
    client.write(nodeHello.subarray(0, nodeHello.length >> 1));
    await expect(peekClientHello(server, { timeoutMs: 200 })).rejects.toThrow(/no complete ClientHello within 200 ms/);
    expectLeftAlone(server, before);
    client.destroy();
  });

  it('rejects when the client hangs up mid-hello', async () => {
    const { client, server } = await socketPair();
    const peeked = peekClientHello(server);
    client.end(nodeHello.subarray(0, 20));
    await expect(peeked).rejects.toThrow(/(ended|closed) after 20 bytes/);
    server.destroy();
  });

  it('rejects a hello that would need more than maxBytes', async () => {
    const { client, server } = await socketPair();
    const peeked = peekClientHello(server, { maxBytes: 64 });
    client.write(Buffer.concat([Buffer.from([22, 3, 1, 0x40, 0x00, 1, 0, 0x3f, 0xfb]), Buffer.alloc(200)]));
    await expect(peeked).rejects.toThrow(/first 64 bytes/);
    client.destroy();
    server.destroy();
  });

  it('rejects bad options, naming them', async () => {
    const { client, server } = await socketPair();
    await expect(peekClientHello(server, { maxBytes: 0 })).rejects.toThrow(/maxBytes/);
    await expect(peekClientHello(server, { timeoutMs: -1 })).rejects.toThrow(/timeoutMs/);
    client.destroy();
    server.destroy();
  });

  it('hands the socket, bytes unshifted, to a real TLS server that completes the handshake', async () => {
    const ca = await createCertificateAuthority({ commonName: 'peek handoff test' });
    const tlsServer = new tls.Server({
      ALPNProtocols: ['http/1.1'],
      SNICallback: (name, cb) => ca.secureContextFor(name).then((ctx) => cb(null, ctx), cb),
    });
    tlsServer.on('secureConnection', (socket) => socket.on('data', (d) => socket.end(`pong:${d}`)));
    const port = await listen(
      net.createServer(async (raw) => {
        const { hello, bytes } = await peekClientHello(raw);
        if (hello.kind !== 'hello' || hello.serverName !== 'api.anthropic.com') return raw.destroy();
        raw.unshift(bytes);
        tlsServer.emit('connection', raw);
      }),
    );
    const client = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'api.anthropic.com',
      ca: ca.certificatePem,
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    await new Promise((resolve, reject) => client.once('secureConnect', resolve).once('error', reject));
    expect(client.authorized).toBe(true);
    expect(client.alpnProtocol).toBe('http/1.1');
    client.write('ping');
    const reply = await new Promise<string>((resolve) => {
      let text = '';
      client.on('data', (d) => (text += d)).on('end', () => resolve(text));
    });
    expect(reply).toBe('pong:ping');
  }, 10_000);
});
