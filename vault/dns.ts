// The vault's DNS listener (DESIGN.md §3.9): answers names the egress policy allows with one synthetic
// address (the name routes, not the address), says NXDOMAIN to the rest, and never forwards a query.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { DecodedPacket, Packet, Question } from 'dns-packet';
import { decideEgress } from './policy.ts';
import type { EgressPolicy } from './types.ts';

export interface DnsServerOptions {
  address: string;
  /** 0 = ephemeral. */
  port: number;
  syntheticAddress: string;
  policy: () => EgressPolicy;
  /** Seconds; default 5. */
  ttl?: number;
  /** Called once per well-formed query; `answered` is false when the name was refused (NXDOMAIN). */
  onQuery?: (q: { name: string; type: string; answered: boolean }) => void;
}

export interface DnsServer {
  readonly udpPort: number;
  readonly tcpPort: number;
  close(): Promise<void>;
}

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4 } as const;
const QR = 0x8000;
const OPCODE_MASK = 0x7800;
const HEADER_BYTES = 12;
/** Largest DNS message accepted over TCP; real queries are a few hundred bytes. */
const MAX_TCP_MESSAGE = 4096;
const TCP_IDLE_MS = 10_000;
const MAX_TCP_CONNECTIONS = 128;

export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  validateOptions(opts);
  const answer = (query: Buffer): Buffer | null => answerQuery(query, opts);
  const udp = await bindUdp(opts.address, opts.port, answer);
  let tcp: TcpListener;
  try {
    tcp = await listenTcpNextToUdp(opts, udp.address().port, answer);
  } catch (error) {
    udp.close();
    throw error;
  }
  return {
    udpPort: udp.address().port,
    tcpPort: tcp.port,
    close: async () => {
      await Promise.all([new Promise<void>((resolve) => udp.close(() => resolve())), tcp.close()]);
    },
  };
}

function validateOptions(opts: DnsServerOptions): void {
  if (net.isIP(opts.address) === 0) throw new TypeError(`address: not an IP address: ${JSON.stringify(opts.address)}`);
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    throw new TypeError(`port: must be an integer from 0 to 65535, got ${String(opts.port)}`);
  }
  if (!net.isIPv4(opts.syntheticAddress)) {
    throw new TypeError(`syntheticAddress: not an IPv4 address: ${JSON.stringify(opts.syntheticAddress)}`);
  }
  if (opts.ttl !== undefined && (!Number.isInteger(opts.ttl) || opts.ttl < 0 || opts.ttl > 2 ** 31 - 1)) {
    throw new TypeError(`ttl: must be a non-negative integer number of seconds, got ${String(opts.ttl)}`);
  }
  if (typeof opts.policy !== 'function') throw new TypeError('policy: must be a function returning the egress policy');
}

// ---- answering ----

/** The response to one query message, or null when the message gets no response at all. Never throws. */
export function answerQuery(message: Buffer, opts: DnsServerOptions): Buffer | null {
  if (message.length < 2) return null; // not even an id to answer to
  const flags = message.length >= 4 ? message.readUInt16BE(2) : 0;
  if (flags & QR) return null; // a response sent to us: answering could start a loop between servers
  let query: DecodedPacket;
  try {
    query = dnsPacket.decode(message);
  } catch {
    return headerOnly(message.readUInt16BE(0), flags, RCODE.FORMERR);
  }
  const question = query.questions?.[0];
  if (!question) return headerOnly(query.id ?? 0, flags, RCODE.FORMERR);
  // Only standard queries in class IN are implemented; anything else gets no name information back.
  const standardQuery = (flags & OPCODE_MASK) === 0 && (question.class ?? 'IN') === 'IN';
  if (!standardQuery) return headerOnly(query.id ?? 0, flags, RCODE.NOTIMP);
  try {
    return respondToQuestion(query, question, opts);
  } catch {
    return headerOnly(query.id ?? 0, flags, RCODE.SERVFAIL);
  }
}

function respondToQuestion(query: DecodedPacket, question: Question, opts: DnsServerOptions): Buffer {
  const allowed = isNameAllowed(opts.policy(), question.name);
  notify(opts, { name: question.name, type: question.type, answered: allowed });
  const response: Packet = {
    id: query.id ?? 0,
    type: 'response',
    flags: responseFlags(query.flags ?? 0, allowed ? RCODE.NOERROR : RCODE.NXDOMAIN),
    questions: [question],
    answers: allowed && question.type === 'A' ? [syntheticA(question, opts)] : [],
  };
  return dnsPacket.encode(response);
}

function isNameAllowed(policy: EgressPolicy, name: string): boolean {
  try {
    return decideEgress(policy, name).allowed;
  } catch {
    return false; // a name the host rules cannot even read is not one the policy allows
  }
}

function syntheticA(question: Question, opts: DnsServerOptions): dnsPacket.Answer {
  return { type: 'A', class: 'IN', name: question.name, ttl: opts.ttl ?? 5, data: opts.syntheticAddress };
}

function notify(opts: DnsServerOptions, q: { name: string; type: string; answered: boolean }): void {
  try {
    opts.onQuery?.(q);
  } catch {
    // An observer's bug must not stop name resolution for the sandbox.
  }
}

/** Authoritative, recursion not available, RD echoed. */
function responseFlags(queryFlags: number, rcode: number): number {
  return dnsPacket.AUTHORITATIVE_ANSWER | (queryFlags & dnsPacket.RECURSION_DESIRED) | rcode;
}

function headerOnly(id: number, queryFlags: number, rcode: number): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(QR | (queryFlags & OPCODE_MASK) | (queryFlags & dnsPacket.RECURSION_DESIRED) | rcode, 2);
  return header;
}

// ---- transports ----

interface TcpListener {
  port: number;
  close(): Promise<void>;
}

function bindUdp(address: string, port: number, answer: (q: Buffer) => Buffer | null): Promise<dgram.Socket> {
  const socket = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
  socket.on('message', (message, peer) => {
    const response = answer(message);
    if (response) socket.send(response, peer.port, peer.address, () => {});
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      socket.on('error', () => {}); // a send to a vanished peer must not take the listener down
      resolve(socket);
    });
  });
}

/** Same port number as UDP; when the caller let the port float and TCP's twin is taken, any port. */
async function listenTcpNextToUdp(
  opts: DnsServerOptions,
  udpPort: number,
  answer: (q: Buffer) => Buffer | null,
): Promise<TcpListener> {
  try {
    return await listenTcp(opts.address, udpPort, answer);
  } catch (error) {
    if (opts.port !== 0 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    return listenTcp(opts.address, 0, answer);
  }
}

function listenTcp(address: string, port: number, answer: (q: Buffer) => Buffer | null): Promise<TcpListener> {
  const connections = new Set<net.Socket>();
  const server = net.createServer((socket) => serveTcpConnection(socket, connections, answer));
  server.maxConnections = MAX_TCP_CONNECTIONS;
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      connections.forEach((socket) => socket.destroy()); // server.close() alone waits for idle clients
    });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve({ port: (server.address() as net.AddressInfo).port, close });
    });
  });
}

/** RFC 7766 framing: each message is preceded by its 2-byte length; several per connection. */
function serveTcpConnection(socket: net.Socket, connections: Set<net.Socket>, answer: (q: Buffer) => Buffer | null): void {
  connections.add(socket);
  socket.on('close', () => connections.delete(socket));
  socket.on('error', () => {});
  socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
  // Backpressure: a client that sends queries without reading answers stops being read.
  socket.on('drain', () => socket.resume());
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2) {
      const length = pending.readUInt16BE(0);
      if (length > MAX_TCP_MESSAGE) {
        socket.destroy();
        return;
      }
      if (pending.length < 2 + length) return;
      const response = answer(pending.subarray(2, 2 + length));
      pending = pending.subarray(2 + length);
      if (response && !socket.write(frame(response))) socket.pause();
    }
  });
}

function frame(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length, 0);
  return Buffer.concat([length, message]);
}
