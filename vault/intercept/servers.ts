import { createServer as createHttp1Server, type IncomingMessage, type Server as Http1Server, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2Server } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { VaultLimits } from '../config.ts';
import type { Logger } from '../log.ts';
import type { VaultState } from '../state.ts';
import type { Arrival } from './admit.ts';
import { forwardRequest } from './forward.ts';
import type { Upstream } from './upstream.ts';
import { relayUpgrade } from './websocket.ts';

export interface HttpServers {
  http1: Http1Server;
  http2: Http2Server;
}

/**
 * The HTTP layers above the interception sockets. They never listen themselves: the TLS and plain
 * listeners hand them connections that have already been checked. The TLS server name is read from
 * the socket each request arrived on, so one pair of servers serves every SNI host.
 */
export function createHttpServers(state: VaultState, upstream: Upstream, limits: VaultLimits, log: Logger): HttpServers {
  const arrivalOf = (socket: unknown): Arrival => {
    const servername = (socket as { servername?: string | false }).servername;
    return typeof servername === 'string' ? { scheme: 'https', sni: servername } : { scheme: 'http', sni: null };
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    forwardRequest(state, upstream, arrivalOf(req.socket), req, res).catch((err: Error) => log.error({ err: err.message }, 'request relay failed'));
  };
  const http1 = createHttp1Server({
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: 0,
    keepAliveTimeout: 5_000,
    connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
  }, onRequest);
  http1.timeout = limits.idleTimeoutMs;
  // Node enforces headersTimeout only once a server has emitted 'listening'; this one never listens
  // itself (the listeners hand it sockets), so without this a slow-loris client would never be cut off.
  http1.emit('listening');
  http1.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    relayUpgrade(state, arrivalOf(req.socket), req, socket, head).catch((err: Error) => log.error({ err: err.message }, 'upgrade relay failed'));
  });
  http1.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket));

  const http2 = createHttp2Server({ maxSessionMemory: 32, settings: { maxHeaderListSize: limits.maxHeaderBytes } });
  http2.on('request', (req, res) => {
    if (headerListSize(req.rawHeaders) > limits.maxHeaderBytes) {
      res.writeHead(431, { 'content-type': 'text/plain; charset=utf-8', 'x-lap-vault': 'refused' });
      return void res.end(`request headers exceed the vault's limit of ${limits.maxHeaderBytes} bytes\n`);
    }
    forwardRequest(state, upstream, arrivalOf(req.socket), req, res).catch((err: Error) => log.error({ err: err.message }, 'request relay failed'));
  });
  http2.setTimeout(limits.idleTimeoutMs);
  http2.on('sessionError', () => {});
  return { http1, http2 };
}

/**
 * RFC 9113 §6.5.2 size of a header list. HTTP/2 enforces maxHeaderListSize only once the client has
 * acknowledged the vault's SETTINGS, so a request sent before that is checked here.
 */
function headerListSize(rawHeaders: string[]): number {
  let size = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) size += rawHeaders[i]!.length + (rawHeaders[i + 1]?.length ?? 0) + 32;
  return size;
}

const CLIENT_ERROR_STATUS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/** A malformed, oversized or too-slow request gets a status line a person can read, then the close. */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy();
  const status = CLIENT_ERROR_STATUS[err.code ?? ''] ?? '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\nx-lap-vault: refused\r\n\r\n`);
}
