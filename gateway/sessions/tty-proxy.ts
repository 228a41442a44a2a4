// GET …/sessions/{id}/tty: the user's WebSocket joined to the agent's /v1/tty (DESIGN.md §4). Frames
// pass through unchanged in both directions, text stays text and binary stays binary; each side's
// unsent bytes pause the other side, so a slow client slows the agent's stream (where the agent's
// own flow control takes over) instead of growing the gateway's memory.
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { ApiError } from '../api/errors.ts';
import type { ApiKeyRecord } from '../store/types.ts';
import type { SessionService } from './service.ts';
import type { TicketBook } from './tickets.ts';

const TTY_PATH = /^\/api\/v1\/managed_agents\/sessions\/([^/]+)\/tty$/;
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;
const MAX_FRAME = 1024 * 1024;

export interface TtyProxyDeps {
  service: SessionService;
  tickets: TicketBook;
  authenticate(token: string): ApiKeyRecord | undefined;
}

export function createTtyProxy(deps: TtyProxyDeps) {
  const server = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME });
  const open = new Set<WebSocket>();
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const match = TTY_PATH.exec(url.pathname);
    if (!match) return false;
    void connect(deps, server, open, req, socket, head, decodeURIComponent(match[1]!), url).catch((err: unknown) => refuse(socket, err));
    return true;
  };
  const close = () => {
    for (const ws of open) ws.terminate();
  };
  return { upgrade, close };
}

async function connect(deps: TtyProxyDeps, server: WebSocketServer, open: Set<WebSocket>, req: IncomingMessage, socket: Duplex, head: Buffer, sessionId: string, url: URL): Promise<void> {
  const key = authenticate(deps, req, sessionId, url);
  const session = deps.service.get(key, sessionId);
  const handle = deps.service.handleOf(session);
  if (!handle || session.status === 'creating') {
    throw new ApiError(409, 'conflict', `session ${sessionId} is ${session.status}; its terminal is not available`);
  }
  const { upstream, early } = await openUpstream(`${handle.agentUrl.replace(/^http/, 'ws')}/v1/tty`, handle.agentToken);
  server.handleUpgrade(req, socket, head, (client) => {
    open.add(client);
    client.once('close', () => open.delete(client));
    upstream.removeAllListeners('message');
    for (const [data, isBinary] of early) client.send(data, { binary: isBinary });
    join(client, upstream, () => deps.service.touch(sessionId));
  });
}

function authenticate(deps: TtyProxyDeps, req: IncomingMessage, sessionId: string, url: URL): ApiKeyRecord {
  const ticket = url.searchParams.get('ticket');
  const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const key = ticket ? deps.tickets.redeem(ticket, sessionId) : bearer ? deps.authenticate(bearer) : undefined;
  if (!key) throw new ApiError(401, 'unauthorized', ticket ? 'the ticket is unknown, spent, expired or for another session' : 'send Authorization: Bearer <key> or ?ticket=<ticket>');
  return key;
}

type Frame = [data: RawData, isBinary: boolean];

/**
 * The agent sends its hello and screen right after the upgrade, often in the same TCP read as the
 * 101: ws emits those messages before an awaiting caller runs, so they are held from the start.
 */
function openUpstream(url: string, token: string): Promise<{ upstream: WebSocket; early: Frame[] }> {
  return new Promise((resolve, reject) => {
    const upstream = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, maxPayload: 64 * 1024 * 1024, perMessageDeflate: false });
    const early: Frame[] = [];
    upstream.on('message', function hold(data: RawData, isBinary: boolean) {
      early.push([data, isBinary]);
    });
    upstream.once('open', () => resolve({ upstream, early }));
    upstream.once('unexpected-response', (_req, res) => {
      reject(new ApiError(res.statusCode === 409 ? 409 : 503, 'unavailable', `the sandbox's terminal answered ${res.statusCode}`));
      upstream.terminate();
    });
    upstream.once('error', (err) => reject(new ApiError(503, 'unavailable', `the sandbox's terminal is unreachable: ${err.message}`)));
  });
}

/** Frames both ways; the receiving side's unsent bytes pause the sending side. */
function join(client: WebSocket, upstream: WebSocket, onActivity: () => void): void {
  relay(upstream, client, onActivity);
  relay(client, upstream, onActivity);
  client.once('close', () => upstream.close());
  upstream.once('close', (code, reason) => client.close(sendableCode(code), reason));
  client.on('error', () => upstream.terminate());
  upstream.on('error', () => client.terminate());
}

function relay(from: WebSocket, to: WebSocket, onActivity: () => void): void {
  let unsent = 0;
  from.on('message', (data: RawData, isBinary: boolean) => {
    onActivity();
    if (to.readyState !== WebSocket.OPEN) return;
    const size = byteLength(data);
    unsent += size;
    if (unsent > HIGH_WATER && !from.isPaused) from.pause();
    to.send(data, { binary: isBinary }, () => {
      unsent -= size;
      if (unsent < LOW_WATER && from.isPaused) from.resume();
    });
  });
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

/** 1005/1006 describe a close without a code; they may not be sent. */
function sendableCode(code: number): number {
  return code === 1005 || code === 1006 ? 1011 : code;
}

function refuse(socket: Duplex, err: unknown): void {
  const status = err instanceof ApiError ? err.status : 500;
  const body = JSON.stringify({ error: { code: err instanceof ApiError ? err.code : 'internal', message: (err as Error).message, details: null } });
  const reason = STATUS_CODES[status] ?? 'Error';
  const auth = status === 401 ? 'www-authenticate: Bearer\r\n' : '';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\n${auth}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
