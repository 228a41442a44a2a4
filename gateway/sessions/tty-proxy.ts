// GET …/sessions/{id}/tty: the user's WebSocket joined to the agent's /v1/tty (DESIGN.md §4). The
// gateway authenticates the request, then opens the agent's WebSocket with the client's own handshake
// key, hands the agent's 101 back to the client and from then on relays bytes without parsing a frame:
// frames pass unchanged both ways (the client's masked, the agent's not, as WebSocket requires), and
// pipe()'s backpressure makes a slow client slow the agent's stream, where its flow control takes over.
import type { IncomingMessage } from 'node:http';
import { connect as connectTcp, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { refuseUpgrade } from '../../vault/http/reply.ts';
import { ApiError } from '../api/errors.ts';
import type { ApiKeyRecord } from '../store/types.ts';
import type { SessionService } from './service.ts';
import type { TicketBook } from './tickets.ts';

const TTY_PATH = /^\/api\/v1\/managed_agents\/sessions\/([^/]+)\/tty$/;
const HANDSHAKE_TIMEOUT_MS = 10_000;
const MAX_HEAD_BYTES = 16 * 1024;

export interface TtyProxyDeps {
  service: SessionService;
  tickets: TicketBook;
  authenticate(token: string): ApiKeyRecord | undefined;
  log: Logger;
}

const INTERNAL = { status: 500, code: 'internal', message: 'internal error: this is a bug, and it has been logged', details: [] };

/** Answers every upgrade request: the terminal route is relayed, anything else is refused with a JSON error. */
export function createTtyProxy(deps: TtyProxyDeps) {
  const open = new Set<Duplex>();
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // Node drops its own error listener from an upgraded socket: a client reset mid-handshake must not crash us.
    socket.on('error', () => socket.destroy());
    connect(deps, open, req, socket, head).catch((err: unknown) => refuse(socket, err, deps.log));
  };
  const close = () => {
    for (const socket of open) socket.destroy();
  };
  return { upgrade, close };
}

async function connect(deps: TtyProxyDeps, open: Set<Duplex>, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const { sessionId, url } = ttyTarget(req);
  const key = authenticate(deps, req, sessionId, url);
  const session = deps.service.get(key, sessionId);
  const handle = deps.service.handleOf(session);
  if (!handle || session.status === 'creating') {
    throw new ApiError(409, 'conflict', `session ${sessionId} is ${session.status}; its terminal is not available`);
  }
  const clientKey = req.headers['sec-websocket-key'];
  if (req.headers.upgrade?.toLowerCase() !== 'websocket' || typeof clientKey !== 'string' || req.headers['sec-websocket-version'] !== '13') {
    throw new ApiError(400, 'invalid_request', 'not a WebSocket upgrade: send Upgrade: websocket, Sec-WebSocket-Key and Sec-WebSocket-Version: 13');
  }
  const { upstream, accept, rest } = await openUpstream(new URL(handle.agentUrl), handle.agentToken, clientKey);
  if (socket.destroyed) return void upstream.destroy();
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  if (rest.length > 0) socket.write(rest);
  if (head.length > 0) upstream.write(head);
  splice(socket, upstream, open, () => deps.service.touch(sessionId));
}

/** The session a request's path names; any other path, or one that does not decode, is refused. */
function ttyTarget(req: IncomingMessage): { sessionId: string; url: URL } {
  const url = URL.parse(req.url ?? '/', 'http://gateway');
  const match = url && TTY_PATH.exec(url.pathname);
  if (!url || !match) throw new ApiError(404, 'not_found', `no WebSocket route ${req.method} ${req.url}`);
  try {
    return { sessionId: decodeURIComponent(match[1]!), url };
  } catch {
    throw new ApiError(400, 'invalid_request', 'the session id in the path is not valid percent-encoding', [{ field: 'id', message: 'not valid percent-encoding' }]);
  }
}

function authenticate(deps: TtyProxyDeps, req: IncomingMessage, sessionId: string, url: URL): ApiKeyRecord {
  const ticket = url.searchParams.get('ticket');
  const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const key = ticket ? deps.tickets.redeem(ticket, sessionId) : bearer ? deps.authenticate(bearer) : undefined;
  if (!key) throw new ApiError(401, 'unauthorized', ticket ? 'the ticket is unknown, spent, expired or for another session' : 'send Authorization: Bearer <key> or ?ticket=<ticket>');
  return key;
}

/**
 * The agent's side, opened with the client's handshake key so the agent's Sec-WebSocket-Accept answers
 * the client. No extension is offered, so none is negotiated: frames stay uncompressed end to end.
 */
function openUpstream(agent: URL, token: string, clientKey: string): Promise<{ upstream: Socket; accept: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const upstream = connectTcp(Number(agent.port), agent.hostname);
    const fail = (err: ApiError) => {
      clearTimeout(timer);
      upstream.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new ApiError(503, 'unavailable', "the sandbox's terminal did not answer in time")), HANDSHAKE_TIMEOUT_MS);
    let received = Buffer.alloc(0);
    upstream.setNoDelay(true);
    upstream.once('connect', () => upstream.write(`GET /v1/tty HTTP/1.1\r\nHost: ${agent.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${clientKey}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${token}\r\n\r\n`));
    upstream.on('data', function readHead(chunk: Buffer) {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return void (received.length > MAX_HEAD_BYTES && fail(new ApiError(503, 'unavailable', "the sandbox's terminal sent an oversized answer")));
      upstream.off('data', readHead);
      upstream.pause();
      clearTimeout(timer);
      const head = received.subarray(0, end).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      const accept = /\r\nsec-websocket-accept: *([^\r]+)/i.exec(head)?.[1];
      if (status !== 101 || !accept) return fail(new ApiError(status === 409 ? 409 : 503, 'unavailable', `the sandbox's terminal answered ${status || 'something that is not HTTP'}`));
      resolve({ upstream, accept, rest: received.subarray(end + 4) });
    });
    upstream.once('error', (err) => fail(new ApiError(503, 'unavailable', `the sandbox's terminal is unreachable: ${err.message}`)));
  });
}

/** Bytes both ways; either side closing closes the other. Every chunk counts as activity (idle reaping). */
function splice(client: Duplex, upstream: Socket, open: Set<Duplex>, onActivity: () => void): void {
  for (const socket of [client, upstream]) {
    open.add(socket);
    socket.on('data', onActivity);
    socket.on('error', () => {});
    socket.once('close', () => {
      open.delete(socket);
      client.destroy();
      upstream.destroy();
    });
  }
  (client as Partial<Socket>).setNoDelay?.(true);
  client.pipe(upstream);
  upstream.pipe(client);
}

function refuse(socket: Duplex, err: unknown, log: TtyProxyDeps['log']): void {
  if (!(err instanceof ApiError)) log.error({ err }, 'unhandled error opening a terminal');
  const { status, code, message, details } = err instanceof ApiError ? err : INTERNAL;
  refuseUpgrade(socket, status, code, message, details as unknown[], status === 401 ? { 'www-authenticate': 'Bearer' } : {});
}
