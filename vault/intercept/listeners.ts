import { type AddressInfo, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { CertificateAuthority } from '../ca.ts';
import { peekClientHello } from '../clienthello.ts';
import type { VaultLimits } from '../config.ts';
import type { Logger } from '../log.ts';
import type { AuditLog } from '../audit.ts';
import type { HttpServers } from './servers.ts';

/** A bound interception port. close() also ends the connections still open on it. */
export interface InterceptionListener {
  readonly port: number;
  close(): Promise<void>;
}

export interface ListenerOptions {
  address: string;
  port: number;
  /** When set, connections from any other address are dropped: only this sandbox may use this vault. */
  sandboxAddress?: string;
  limits: VaultLimits;
  log: Logger;
}

// A fatal unrecognized_name alert, so a client without SNI gets a clear TLS error, not a reset.
const UNRECOGNIZED_NAME_ALERT = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70]);

/**
 * Port 443 traffic: peek at the ClientHello (no SNI, no service), then terminate TLS with a leaf for
 * that name and pass the decrypted stream to HTTP/2 or HTTP/1.1 by the ALPN the client agreed to.
 */
export function listenTls(opts: ListenerOptions, ca: CertificateAuthority, servers: HttpServers, audit: AuditLog, session: string): Promise<InterceptionListener> {
  const tlsServer = createTlsServer({
    ALPNProtocols: ['h2', 'http/1.1'],
    handshakeTimeout: opts.limits.headersTimeoutMs,
    SNICallback: (name, done) => void ca.secureContextFor(name).then((ctx) => done(null, ctx), (err: Error) => done(err)),
  });
  tlsServer.on('secureConnection', (socket: TLSSocket) => {
    socket.on('error', () => socket.destroy());
    if (socket.alpnProtocol === 'h2') servers.http2.emit('connection', socket);
    else servers.http1.emit('connection', socket);
  });
  tlsServer.on('tlsClientError', (err, socket) => {
    opts.log.warn({ err: err.message }, 'TLS handshake with the sandbox failed; the client may not trust the vault CA');
    socket.destroy();
  });
  const refuseNoSni = (socket: Socket) => {
    socket.end(UNRECOGNIZED_NAME_ALERT);
    audit.record({
      ts: new Date().toISOString(), session, method: '', host: '', path: '', status: 0, bytes: 0, ms: 0,
      credentials: [], decision: 'block', reason: 'TLS connection without SNI refused: the vault routes by name',
    });
  };
  return listen(opts, async (socket) => {
    const { hello, bytes } = await peekClientHello(socket, { timeoutMs: opts.limits.headersTimeoutMs });
    if (hello.kind !== 'hello') return void socket.destroy();
    if (!hello.serverName) return refuseNoSni(socket);
    socket.unshift(bytes);
    tlsServer.emit('connection', socket);
  });
}

/** Port 80 traffic: plain HTTP straight to the HTTP/1.1 layer. */
export function listenPlain(opts: ListenerOptions, servers: HttpServers): Promise<InterceptionListener> {
  return listen(opts, async (socket) => {
    servers.http1.emit('connection', socket);
    socket.resume();
  });
}

function listen(opts: ListenerOptions, accept: (socket: Socket) => Promise<void>): Promise<InterceptionListener> {
  const open = new Set<Socket>();
  // noDelay: responses go out in pieces (head, chunks, end); Nagle plus the client's delayed ACK
  // would hold each piece ~40 ms.
  const server = createNetServer({ pauseOnConnect: true, noDelay: true }, (socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
    if (opts.sandboxAddress && socket.remoteAddress !== opts.sandboxAddress) {
      opts.log.warn({ remote: socket.remoteAddress }, 'dropped a connection that did not come from this vault\'s sandbox');
      return socket.destroy();
    }
    accept(socket).catch(() => socket.destroy());
  });
  server.maxConnections = opts.limits.maxConnections;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.address, () => resolve({ port: (server.address() as AddressInfo).port, close: () => closeListener(server, open) }));
  });
}

// A held SSE stream or WebSocket would otherwise keep a stopping vault alive until it is killed.
function closeListener(server: NetServer, open: Set<Socket>): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const socket of open) socket.destroy();
  return closed;
}
