import { createServer as createHttp1Server, type IncomingMessage, type Server as Http1Server, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2Server } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { VaultLimits } from '../config.ts';
import type { Logger } from '../log.ts';
import type { VaultState } from '../state.ts';
import type { Arrival } from './admit.ts';
import { forwardRequest } from './forward.ts';
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
export function createHttpServers(state: VaultState, agent: Dispatcher, limits: VaultLimits, log: Logger): HttpServers {
  const arrivalOf = (socket: unknown): Arrival => {
    const servername = (socket as { servername?: string | false }).servername;
    return typeof servername === 'string' ? { scheme: 'https', sni: servername } : { scheme: 'http', sni: null };
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    forwardRequest(state, agent, arrivalOf(req.socket), req, res).catch((err: Error) => log.error({ err: err.message }, 'request relay failed'));
  };
  const http1 = createHttp1Server({ maxHeaderSize: limits.maxHeaderBytes, headersTimeout: limits.headersTimeoutMs, requestTimeout: 0, keepAliveTimeout: 5_000 }, onRequest);
  http1.timeout = limits.idleTimeoutMs;
  http1.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    relayUpgrade(state, arrivalOf(req.socket), req, socket, head).catch((err: Error) => log.error({ err: err.message }, 'upgrade relay failed'));
  });
  http1.on('clientError', (_err, socket) => socket.destroy());

  const http2 = createHttp2Server({ maxSessionMemory: 32, settings: { maxHeaderListSize: limits.maxHeaderBytes } });
  http2.on('request', (req, res) => {
    forwardRequest(state, agent, arrivalOf(req.socket), req, res).catch((err: Error) => log.error({ err: err.message }, 'request relay failed'));
  });
  http2.setTimeout(limits.idleTimeoutMs);
  http2.on('sessionError', () => {});
  return { http1, http2 };
}
