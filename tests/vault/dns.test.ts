// Real queries over loopback UDP and TCP, from a dns-packet client and from the real `dig`.
import { execFile, execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import dnsPacket from 'dns-packet';
import type { DecodedPacket, RecordType, StringAnswer } from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer } from '../../vault/dns.ts';
import type { DnsServer } from '../../vault/dns.ts';
import type { EgressPolicy } from '../../vault/types.ts';

const SYNTHETIC = '198.18.0.1';
const POLICY: EgressPolicy = { default: 'deny', allow: ['api.example.com', '*.allowed.test'], deny: [], allowPrivate: [] };
/** Bound on how long a test waits for one answer, so a lost packet fails the test instead of hanging it. */
const ANSWER_WAIT_MS = 5_000;

let server: DnsServer;
const queries: { name: string; type: string; answered: boolean }[] = [];

beforeAll(async () => {
  server = await startDnsServer({
    address: '127.0.0.1',
    port: 0,
    syntheticAddress: SYNTHETIC,
    policy: () => POLICY,
    onQuery: (q) => queries.push(q),
  });
});

afterAll(async () => {
  await server?.close();
});

let nextId = 1;
/** `type` is a string so that types missing from @types/dns-packet (ANY) can be asked too. */
function query(name: string, type: string, flags = dnsPacket.RECURSION_DESIRED): Buffer {
  nextId = (nextId % 65535) + 1;
  const question = { type: type as RecordType, name, class: 'IN' as const };
  return dnsPacket.encode({ type: 'query', id: nextId, flags, questions: [question] });
}

/** dns-packet decodes the rcode, but its type declarations leave it out. */
type Reply = DecodedPacket & { rcode: string };
function decode(message: Buffer): Reply {
  return dnsPacket.decode(message) as Reply;
}

function firstAddress(reply: DecodedPacket): string | undefined {
  return (reply.answers?.[0] as StringAnswer | undefined)?.data;
}

/** Sends raw datagrams from one socket and collects every reply until `until` is satisfied. */
async function udpExchange(port: number, messages: Buffer[], until: (replies: Buffer[]) => boolean): Promise<Buffer[]> {
  const socket = dgram.createSocket('udp4');
  const replies: Buffer[] = [];
  try {
    return await new Promise<Buffer[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no complete answer on udp/${port}`)), ANSWER_WAIT_MS);
      socket.on('message', (reply) => {
        replies.push(reply);
        if (until(replies)) {
          clearTimeout(timer);
          resolve(replies);
        }
      });
      socket.on('error', reject);
      for (const message of messages) socket.send(message, port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

async function udpQuery(message: Buffer): Promise<Reply> {
  const [reply] = await udpExchange(server.udpPort, [message], (r) => r.length === 1);
  return decode(reply!);
}

/** One TCP connection; sends each message length-framed and reads that many framed replies. */
async function tcpExchange(port: number, frames: Buffer[], expectedReplies: number): Promise<Buffer[]> {
  const socket = net.connect(port, '127.0.0.1');
  const replies: Buffer[] = [];
  let pending = Buffer.alloc(0);
  try {
    return await new Promise<Buffer[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no complete answer on tcp/${port}`)), ANSWER_WAIT_MS);
      socket.on('error', reject);
      socket.on('close', () => reject(new Error(`connection closed after ${replies.length} replies`)));
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
          replies.push(pending.subarray(2, 2 + pending.readUInt16BE(0)));
          pending = pending.subarray(2 + pending.readUInt16BE(0));
        }
        if (replies.length >= expectedReplies) {
          clearTimeout(timer);
          resolve(replies);
        }
      });
      socket.write(Buffer.concat(frames));
    });
  } finally {
    socket.destroy();
  }
}

function framed(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  return Buffer.concat([length, message]);
}

describe('DNS over UDP (dns-packet client)', () => {
  it('answers an allowed name with one A record holding the synthetic address, echoing the question', async () => {
    const reply = await udpQuery(query('API.example.com', 'A'));
    expect(reply.rcode).toBe('NOERROR');
    expect(reply.flag_qr).toBe(true);
    expect(reply.flag_rd).toBe(true);
    expect(reply.flag_ra).toBe(false);
    expect(reply.questions).toEqual([{ name: 'API.example.com', type: 'A', class: 'IN' }]);
    expect(reply.answers).toEqual([
      { name: 'API.example.com', type: 'A', class: 'IN', ttl: 5, flush: false, data: SYNTHETIC },
    ]);
  });

  it('echoes RD as sent: clear when the query did not ask for recursion', async () => {
    const reply = await udpQuery(query('api.example.com', 'A', 0));
    expect(reply.flag_rd).toBe(false);
    expect(reply.answers).toHaveLength(1);
  });

  it.each(['AAAA', 'TXT', 'MX', 'ANY'])('answers %s for an allowed name with NODATA', async (type) => {
    const reply = await udpQuery(query('deep.sub.allowed.test', type));
    expect(reply.rcode).toBe('NOERROR');
    expect(reply.answers).toEqual([]);
  });

  it('says NXDOMAIN, with no answers, to a name the policy refuses', async () => {
    for (const name of ['evil.com', 'allowed.test', 'exfil-c2VjcmV0.evil.com']) {
      const reply = await udpQuery(query(name, 'A'));
      expect(reply.rcode).toBe('NXDOMAIN');
      expect(reply.answers).toEqual([]);
    }
  });

  it('reports each query to onQuery', async () => {
    await udpQuery(query('onquery.allowed.test', 'AAAA'));
    await udpQuery(query('onquery.evil.com', 'A'));
    expect(queries).toContainEqual({ name: 'onquery.allowed.test', type: 'AAAA', answered: true });
    expect(queries).toContainEqual({ name: 'onquery.evil.com', type: 'A', answered: false });
  });

  it('answers only the first question', async () => {
    const twoQuestions = dnsPacket.encode({
      type: 'query',
      id: 4242,
      questions: [
        { type: 'A', name: 'api.example.com' },
        { type: 'A', name: 'x.allowed.test' },
      ],
    });
    const reply = await udpQuery(twoQuestions);
    expect(reply.id).toBe(4242);
    expect(reply.questions?.map((q) => q.name)).toEqual(['api.example.com']);
    expect(reply.answers?.map((a) => a.name)).toEqual(['api.example.com']);
  });

  it('answers a query with no question with FORMERR', async () => {
    const reply = await udpQuery(dnsPacket.encode({ type: 'query', id: 777, questions: [] }));
    expect(reply).toMatchObject({ id: 777, rcode: 'FORMERR', flag_qr: true });
  });

  it('answers garbage with FORMERR when it has an id, drops it when not, and keeps serving', async () => {
    const garbage = Buffer.concat([Buffer.from([0x12, 0x34]), Buffer.from(' this is not dns at all')]);
    const tooShort = Buffer.from([0x01]);
    const good = query('api.example.com', 'A');
    const replies = await udpExchange(server.udpPort, [garbage, tooShort, good], (r) =>
      r.some((reply) => reply.readUInt16BE(0) === good.readUInt16BE(0)),
    );
    const decoded = replies.map((reply) => decode(reply));
    expect(decoded.map((reply) => [reply.id, reply.rcode])).toEqual([
      [0x1234, 'FORMERR'],
      [good.readUInt16BE(0), 'NOERROR'],
    ]);
    expect(decoded[1]?.answers?.[0]).toMatchObject({ data: SYNTHETIC });
  });

  it('never answers a DNS response sent to it (no reflection loops)', async () => {
    const response = dnsPacket.encode({ type: 'response', id: 9, questions: [{ type: 'A', name: 'api.example.com' }] });
    const good = query('api.example.com', 'A');
    const replies = await udpExchange(server.udpPort, [response, good], (r) => r.length >= 1);
    expect(replies.map((reply) => reply.readUInt16BE(0))).toEqual([good.readUInt16BE(0)]);
  });

  it('keeps working through 500 queries in a row', async () => {
    let answered = 0;
    for (let i = 0; i < 500; i++) {
      const allowed = i % 2 === 0;
      const reply = await udpQuery(query(allowed ? `n${i}.allowed.test` : `n${i}.evil.com`, 'A'));
      if (reply.rcode === (allowed ? 'NOERROR' : 'NXDOMAIN')) answered++;
    }
    expect(answered).toBe(500);
  });
});

describe('DNS over TCP (dns-packet client)', () => {
  it('listens on the same port number as UDP', () => {
    expect(server.tcpPort).toBe(server.udpPort);
  });

  it('answers several framed queries on one connection, including after garbage', async () => {
    const messages = [
      query('api.example.com', 'A'),
      query('api.example.com', 'AAAA'),
      Buffer.concat([Buffer.from([0xab, 0xcd]), Buffer.from('garbage!!')]),
      query('evil.com', 'A'),
    ];
    const replies = (await tcpExchange(server.tcpPort, messages.map(framed), 4)).map((r) => decode(r));
    expect(replies.map((r) => [r.rcode, r.answers?.length])).toEqual([
      ['NOERROR', 1],
      ['NOERROR', 0],
      ['FORMERR', 0],
      ['NXDOMAIN', 0],
    ]);
    expect(replies[0]?.answers?.[0]).toMatchObject({ type: 'A', data: SYNTHETIC });
    expect(replies[2]?.id).toBe(0xabcd);
  });

  it('reassembles a query split across TCP segments', async () => {
    const message = framed(query('split.allowed.test', 'A'));
    const socket = net.connect(server.tcpPort, '127.0.0.1');
    const reply = await new Promise<Buffer>((resolve, reject) => {
      socket.on('error', reject);
      socket.once('data', resolve);
      socket.write(message.subarray(0, 1));
      setTimeout(() => socket.write(message.subarray(1, 9)), 20);
      setTimeout(() => socket.write(message.subarray(9)), 40);
    });
    socket.destroy();
    expect(decode(reply.subarray(2)).answers).toHaveLength(1);
  });

  it('closes a connection that announces an oversized message', async () => {
    const socket = net.connect(server.tcpPort, '127.0.0.1');
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    socket.write(Buffer.from([0xff, 0xff, 0, 0, 0, 0]));
    await closed;
    expect(socket.destroyed).toBe(true);
  });

  it('answers 500 pipelined queries on one connection', async () => {
    const messages = Array.from({ length: 500 }, (_, i) => framed(query(`p${i}.allowed.test`, 'A')));
    const replies = (await tcpExchange(server.tcpPort, messages, 500)).map((r) => decode(r));
    expect(replies.filter((r) => firstAddress(r) === SYNTHETIC)).toHaveLength(500);
  });
});

describe('startDnsServer options', () => {
  it('binds UDP and TCP on the given port', async () => {
    const udp = dgram.createSocket('udp4');
    const port = await new Promise<number>((resolve) => udp.bind(0, '127.0.0.1', () => resolve(udp.address().port)));
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    const fixed = await startDnsServer({ address: '127.0.0.1', port, syntheticAddress: SYNTHETIC, policy: () => POLICY });
    try {
      expect([fixed.udpPort, fixed.tcpPort]).toEqual([port, port]);
      const [reply] = await udpExchange(port, [query('api.example.com', 'A')], (r) => r.length === 1);
      expect(decode(reply!).answers).toHaveLength(1);
    } finally {
      await fixed.close();
    }
  });

  it('reads the policy on every query', async () => {
    let current: EgressPolicy = { default: 'allow', allow: [], deny: [], allowPrivate: [] };
    const live = await startDnsServer({ address: '127.0.0.1', port: 0, syntheticAddress: SYNTHETIC, policy: () => current, ttl: 60 });
    try {
      const ask = async () => {
        const [r] = await udpExchange(live.udpPort, [query('later.example', 'A')], (x) => x.length === 1);
        return decode(r!);
      };
      expect((await ask()).answers?.[0]).toMatchObject({ ttl: 60, data: SYNTHETIC });
      current = { ...current, deny: ['later.example'] };
      expect((await ask()).rcode).toBe('NXDOMAIN');
    } finally {
      await live.close();
    }
  });

  it('refuses bad options, naming the field', async () => {
    const base = { address: '127.0.0.1', port: 0, syntheticAddress: SYNTHETIC, policy: () => POLICY };
    await expect(startDnsServer({ ...base, syntheticAddress: '::1' })).rejects.toThrow(/syntheticAddress/);
    await expect(startDnsServer({ ...base, address: 'localhost' })).rejects.toThrow(/address/);
    await expect(startDnsServer({ ...base, port: 70000 })).rejects.toThrow(/port/);
    await expect(startDnsServer({ ...base, ttl: -1 })).rejects.toThrow(/ttl/);
  });
});

const digPath = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v dig'], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
})();
if (!digPath) console.warn('SKIPPING dig tests: `dig` is not installed (apt-get install -y dnsutils)');

interface DigAnswer {
  status: string;
  flags: string[];
  answers: string[];
}

/** Splits dig's output into one entry per query (a batch file gives several). */
function parseDig(output: string): DigAnswer[] {
  return output
    .split(/^;; ->>HEADER<<-/m)
    .slice(1)
    .map((block) => ({
      status: /status: (\w+)/.exec(block)?.[1] ?? '',
      flags: (/^;; flags: ([a-z ]*);/m.exec(block)?.[1] ?? '').trim().split(' '),
      answers: (/;; ANSWER SECTION:\n([\s\S]*?)\n\n/.exec(block)?.[1] ?? '').split('\n').filter(Boolean),
    }));
}

const execDig = promisify(execFile);
async function dig(...args: string[]): Promise<DigAnswer[]> {
  const base = ['@127.0.0.1', '-p', String(server.udpPort), '+tries=1', '+time=5', '+noedns'];
  const { stdout } = await execDig(digPath, [...base, ...args], { maxBuffer: 16 * 1024 * 1024 });
  return parseDig(stdout);
}

function viaTransport(transport: string): string[] {
  return transport === 'tcp' ? ['+tcp'] : [];
}

describe.skipIf(!digPath)('DNS with the real dig', () => {
  it.each(['udp', 'tcp'])('answers an allowed name with the synthetic address over %s', async (transport) => {
    const [answer] = await dig(...viaTransport(transport), 'api.example.com', 'A');
    expect(answer?.status).toBe('NOERROR');
    expect(answer?.flags).not.toContain('ra');
    expect(answer?.answers).toHaveLength(1);
    expect(answer?.answers[0]).toMatch(/^api\.example\.com\.\s+5\s+IN\s+A\s+198\.18\.0\.1$/);
  });

  it.each([
    ['AAAA', 'udp'],
    ['AAAA', 'tcp'],
    ['TXT', 'udp'],
    ['TXT', 'tcp'],
  ])('answers %s for an allowed name with no records over %s', async (type, transport) => {
    const [answer] = await dig(...viaTransport(transport), 'x.allowed.test', type);
    expect(answer).toEqual({ status: 'NOERROR', flags: expect.any(Array), answers: [] });
  });

  it.each(['udp', 'tcp'])('says NXDOMAIN to a denied name over %s', async (transport) => {
    const [answer] = await dig(...viaTransport(transport), 'evil.com', 'A');
    expect(answer?.status).toBe('NXDOMAIN');
    expect(answer?.answers).toEqual([]);
  });

  it('still answers dig after a garbage packet', async () => {
    await udpExchange(server.udpPort, [Buffer.concat([Buffer.from([0, 1]), Buffer.from('garbage!!!')])], (r) => r.length === 1);
    const [answer] = await dig('api.example.com', 'A');
    expect(answer?.status).toBe('NOERROR');
    expect(answer?.answers).toHaveLength(1);
  });

  it('answers a batch of 500 dig queries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lap-dns-'));
    try {
      const batch = join(dir, 'batch.txt');
      const lines = Array.from({ length: 500 }, (_, i) => (i % 2 ? `q${i}.allowed.test A` : `q${i}.evil.com A`));
      writeFileSync(batch, lines.join('\n') + '\n');
      const answers = await dig('-f', batch);
      expect(answers).toHaveLength(500);
      const expected = lines.map((_, i) => (i % 2 ? ['NOERROR', 1] : ['NXDOMAIN', 0]));
      expect(answers.map((a) => [a.status, a.answers.length])).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
