// Abuse of the vault's interception listeners (DESIGN.md §3): garbage, a half ClientHello, slow-loris
// clients, oversized headers, too many connections, upstreams that reset or never answer. Each must
// cost only the abusive connection: a keep-alive client opened before the abuse keeps its connection
// and a fresh client is served afterwards. The last suite repeats the worst of it against the real
// vault process and checks that it is still alive.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect as connectHttp2 } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, connect as connectTcp, createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connect as connectTls } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority } from '../../vault/ca.ts';
import { type CountingClient, type LoopbackVault, connectThroughVault, startLoopbackVault, writeTempFile } from '../support/loopback-vault.ts';
import { type VaultControl, setPolicy, waitForAudit } from '../support/vault-client.ts';

const API = 'api.test';
const PLAIN = 'plain.test';
const LIMITS = { maxConnections: 64, maxHeaderBytes: 4096, idleTimeoutMs: 10_000, headersTimeoutMs: 500, upstreamHeadersTimeoutMs: 1_000 };
/** Upper bound on waiting for the vault to act; far above every configured limit. */
const GUARD_MS = 10_000;

interface AbuseUpstream {
  caPem: string;
  httpsPort: number;
  httpPort: number;
  close(): Promise<void>;
}

/** A small upstream, HTTPS and plain HTTP, with routes that misbehave on purpose. */
async function startAbuseUpstream(): Promise<AbuseUpstream> {
  const ca = await createCertificateAuthority({ commonName: 'LAP robustness upstream CA' });
  // TLS sockets cannot send a TCP reset themselves: keep each connection's TCP socket, by client port.
  const tcpByPort = new Map<number | undefined, Socket>();
  const resetConnection = (req: IncomingMessage) => (tcpByPort.get(req.socket.remotePort) ?? req.socket).resetAndDestroy();
  const https = createHttpsServer({ SNICallback: (name, done) => void ca.secureContextFor(name).then((c) => done(null, c), done) }, (req, res) => answer(req, res, resetConnection));
  https.on('connection', (tcp: Socket) => tcpByPort.set(tcp.remotePort, tcp));
  const http = createHttpServer((req, res) => answer(req, res, resetConnection));
  await Promise.all([https, http].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
  return {
    caPem: ca.certificatePem,
    httpsPort: (https.address() as AddressInfo).port,
    httpPort: (http.address() as AddressInfo).port,
    close: async () => {
      await Promise.all([https, http].map((s) => new Promise((resolve) => { s.close(resolve); s.closeAllConnections(); })));
    },
  };
}

function answer(req: IncomingMessage, res: ServerResponse, resetConnection: (req: IncomingMessage) => void) {
  switch (req.url) {
    case '/ok':
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end('ok');
    case '/reset': // before any response byte
      return resetConnection(req);
    case '/reset-mid-body':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
      return void res.write('the first bytes of a body that never ends', () => setTimeout(() => resetConnection(req), 100));
    case '/hang': // reads the request, never answers
      return;
    case '/stream': { // an endless event stream, like a long model reply
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const timer = setInterval(() => res.write('data: more\n\n'), 20);
      return void res.once('close', () => clearInterval(timer));
    }
    default:
      res.writeHead(404);
      return res.end();
  }
}

/** Resolves once the peer has closed `socket`; fails the test if that takes longer than GUARD_MS. */
function closedByPeer(socket: Socket): Promise<{ received: string }> {
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the vault left an abusive connection open for ${GUARD_MS} ms`)), GUARD_MS);
    socket.on('error', () => {});
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ received });
    });
  });
}

function openTcp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Writes `text` one byte every 100 ms until the connection closes or the text runs out. */
function trickle(socket: Socket, text: string): { finished: () => boolean } {
  let sent = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || sent === text.length) return clearInterval(timer);
    socket.write(text[sent++]!);
  }, 100);
  socket.once('close', () => clearInterval(timer));
  return { finished: () => sent === text.length };
}

/** A real ClientHello for `servername`, as Node's TLS client sends it, captured by a local listener. */
async function captureClientHello(servername: string): Promise<Buffer> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const hello = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', (d: Buffer) => { resolve(d); s.destroy(); })));
  const client = connectTls({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', servername });
  client.on('error', () => {});
  const bytes = await hello;
  client.destroy();
  server.close();
  return bytes;
}

type Attempt = { status: number; body: string } | { error: string };

async function attempt(client: CountingClient, path: string): Promise<Attempt> {
  try {
    return await client.get(path);
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

describe('the vault under abuse (in-process, loopback)', () => {
  let upstream: AbuseUpstream;
  let v: LoopbackVault;

  beforeAll(async () => {
    upstream = await startAbuseUpstream();
    v = await startLoopbackVault({
      hosts: { [API]: `127.0.0.1:${upstream.httpsPort}`, [PLAIN]: `127.0.0.1:${upstream.httpPort}` },
      upstreamCaPem: upstream.caPem,
      limits: LIMITS,
    });
    await setPolicy(v, { default: 'allow', allowPrivate: [API, PLAIN] });
  });

  afterAll(async () => {
    await v?.close();
    await upstream?.close();
  });

  const tlsPort = () => v.vault.ports.tls;
  const httpPort = () => v.vault.ports.http;

  /**
   * Runs `abuse` while a keep-alive client on each listener holds an open connection; afterwards both
   * still work on that same connection and fresh clients are served.
   */
  async function expectOnlyTheAbuserHurt(abuse: () => Promise<void>) {
    const healthy = [connectThroughVault('https', API, tlsPort(), v.caPem), connectThroughVault('http', PLAIN, httpPort(), v.caPem)];
    for (const client of healthy) expect(await client.get('/ok')).toEqual({ status: 200, body: 'ok' });
    await abuse();
    const fresh = [connectThroughVault('https', API, tlsPort(), v.caPem), connectThroughVault('http', PLAIN, httpPort(), v.caPem)];
    for (const client of [...healthy, ...fresh]) expect(await client.get('/ok')).toEqual({ status: 200, body: 'ok' });
    for (const client of healthy) expect({ connects: client.connects(), disconnects: client.disconnects() }).toEqual({ connects: 1, disconnects: 0 });
    await Promise.all([...healthy, ...fresh].map((c) => c.client.close()));
  }

  it('closes a connection that sends garbage to the TLS port', async () => {
    await expectOnlyTheAbuserHurt(async () => {
      const socket = await openTcp(tlsPort());
      socket.write(Buffer.concat([Buffer.from('GARBAGE\xff\xfe', 'latin1'), randomBytes(4096)]));
      expect((await closedByPeer(socket)).received).toBe('');
    });
  });

  it('closes a connection that sends garbage to the plain HTTP port, without relaying anything', async () => {
    await expectOnlyTheAbuserHurt(async () => {
      const socket = await openTcp(httpPort());
      socket.write(Buffer.concat([Buffer.from('GARBAGE \x00\x01\r\n', 'latin1'), randomBytes(4096)]));
      expect((await closedByPeer(socket)).received).not.toMatch(/^HTTP\/1\.1 2/);
    });
  });

  it('closes a connection that sends half a ClientHello and then nothing', async () => {
    const hello = await captureClientHello(API);
    await expectOnlyTheAbuserHurt(async () => {
      const socket = await openTcp(tlsPort());
      socket.write(hello.subarray(0, Math.floor(hello.length / 2)));
      expect((await closedByPeer(socket)).received).toBe('');
    });
  });

  it('closes a plain HTTP connection that never sends a byte', async () => {
    await expectOnlyTheAbuserHurt(async () => {
      expect((await closedByPeer(await openTcp(httpPort()))).received).not.toContain('200 OK');
    });
  });

  it('closes a connection that completes the TLS handshake and then sends nothing', async () => {
    await expectOnlyTheAbuserHurt(async () => {
      const socket = connectTls({ port: tlsPort(), host: '127.0.0.1', servername: API, ca: v.caPem, ALPNProtocols: ['http/1.1'] });
      await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      expect((await closedByPeer(socket)).received).not.toContain('200 OK');
    });
  });

  it('closes a plain HTTP slow-loris client once the headers timeout has passed', async () => {
    await expectOnlyTheAbuserHurt(async () => {
      const socket = await openTcp(httpPort());
      const slow = trickle(socket, `GET /ok HTTP/1.1\r\nHost: ${PLAIN}\r\nX-Slow: ${'a'.repeat(200)}\r\n\r\n`);
      const { received } = await closedByPeer(socket);
      expect(slow.finished()).toBe(false);
      expect(received).not.toContain('200 OK');
    });
  });

  it('closes a slow-loris client inside TLS once the headers timeout has passed', async () => {
    await expectOnlyTheAbuserHurt(async () => {
      const socket = connectTls({ port: tlsPort(), host: '127.0.0.1', servername: API, ca: v.caPem, ALPNProtocols: ['http/1.1'] });
      await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      const slow = trickle(socket, `GET /ok HTTP/1.1\r\nHost: ${API}\r\nX-Slow: ${'a'.repeat(200)}\r\n\r\n`);
      const { received } = await closedByPeer(socket);
      expect(slow.finished()).toBe(false);
      expect(received).not.toContain('200 OK');
    });
  });

  it('refuses HTTP/1.1 headers larger than maxHeaderBytes with 431 or a closed connection', async () => {
    await expectOnlyTheAbuserHurt(async () => {
      const socket = await openTcp(httpPort());
      socket.write(`GET /ok HTTP/1.1\r\nHost: ${PLAIN}\r\nX-Big: ${'a'.repeat(LIMITS.maxHeaderBytes * 2)}\r\n\r\n`);
      const { received } = await closedByPeer(socket);
      expect(received === '' || received.startsWith('HTTP/1.1 431')).toBe(true);
    });
  });

  it('refuses HTTP/2 headers larger than maxHeaderBytes with 431 or a reset stream, before and after SETTINGS are acknowledged', async () => {
    await expectOnlyTheAbuserHurt(async () => {
      const session = connectHttp2(`https://127.0.0.1:${tlsPort()}`, { ca: v.caPem, servername: API });
      session.on('error', () => {});
      const send = (extra: Record<string, string>) =>
        new Promise<string>((resolve) => {
          const stream = session.request({ ':path': '/ok', ':authority': API, ...extra });
          stream.on('response', (headers) => resolve(`status ${headers[':status']}`));
          stream.on('error', () => {});
          stream.on('close', () => resolve(`reset ${stream.rstCode}`));
          stream.resume();
        });
      const oversized = { 'x-big': 'a'.repeat(LIMITS.maxHeaderBytes * 2) };
      // The first request goes out before the client has the vault's SETTINGS; the second after.
      expect(await send(oversized)).toMatch(/^(status 431|reset [1-9]\d*)$/);
      expect(await send(oversized)).toMatch(/^(status 431|reset [1-9]\d*)$/);
      expect(await send({})).toBe('status 200');
      session.destroy();
    });
  });

  it('gives the client a 502 or a closed stream when the upstream resets before answering, audits an error, and serves the next request', async () => {
    await expectOnlyTheAbuserHurt(async () => {
      const client = connectThroughVault('https', API, tlsPort(), v.caPem);
      const result = await attempt(client, '/reset');
      expect('error' in result || result.status === 502).toBe(true);
      expect(await waitForAudit(v, (e) => e.path === '/reset')).toMatchObject({ decision: 'error', status: 502 });
      expect(await attempt(client, '/ok')).toEqual({ status: 200, body: 'ok' });
      await client.client.close();
    });
  });

  it('cuts the client off when the upstream resets in the middle of a body, audits an error, and serves the next request', async () => {
    await expectOnlyTheAbuserHurt(async () => {
      const client = connectThroughVault('https', API, tlsPort(), v.caPem);
      const result = await attempt(client, '/reset-mid-body');
      expect('error' in result || result.status === 502).toBe(true);
      expect(await waitForAudit(v, (e) => e.path === '/reset-mid-body')).toMatchObject({ decision: 'error' });
      expect(await attempt(client, '/ok')).toEqual({ status: 200, body: 'ok' });
      await client.client.close();
    });
  });

  it('audits a stream the client stops reading (HTTP/2 RST_STREAM, as Codex does) as the upstream answered it, not as an upstream failure', async () => {
    await expectOnlyTheAbuserHurt(async () => {
      const session = connectHttp2(`https://127.0.0.1:${tlsPort()}`, { ca: v.caPem, servername: API });
      session.on('error', () => {});
      const stream = session.request({ ':path': '/stream', ':authority': API });
      const status = await new Promise((resolve) => stream.once('response', (headers) => resolve(headers[':status'])));
      await new Promise((resolve) => stream.once('data', resolve));
      stream.close();
      expect(status).toBe(200);
      expect(await waitForAudit(v, (e) => e.path === '/stream')).toMatchObject({ decision: 'allow', status: 200, reason: 'the client closed the response before its end' });
      session.close();
    });
  });

  it('answers 502 when the upstream never sends headers, after upstreamHeadersTimeoutMs, while others are served', async () => {
    await expectOnlyTheAbuserHurt(async () => {
      const waiting = connectThroughVault('https', API, tlsPort(), v.caPem);
      const hung = waiting.get('/hang');
      const bystander = connectThroughVault('http', PLAIN, httpPort(), v.caPem);
      expect(await bystander.get('/ok')).toEqual({ status: 200, body: 'ok' });
      const result = await hung;
      expect(result.status).toBe(502);
      expect(result.body).toMatch(/timeout/i);
      expect(await waitForAudit(v, (e) => e.path === '/hang')).toMatchObject({ decision: 'error', status: 502 });
      await Promise.all([waiting.client.close(), bystander.client.close()]);
    });
  });
});

describe('the vault at its connection limit', () => {
  const MAX = 3;
  let upstream: AbuseUpstream;
  let v: LoopbackVault;

  beforeAll(async () => {
    upstream = await startAbuseUpstream();
    v = await startLoopbackVault({ hosts: { [API]: `127.0.0.1:${upstream.httpsPort}` }, upstreamCaPem: upstream.caPem, limits: { ...LIMITS, maxConnections: MAX } });
    await setPolicy(v, { default: 'allow', allowPrivate: [API] });
  });

  afterAll(async () => {
    await v?.close();
    await upstream?.close();
  });

  /** A TLS handshake with the vault: 'secure' when it completes, 'refused' when the vault drops it. */
  function handshake(): Promise<'secure' | 'refused'> {
    return new Promise((resolve) => {
      const socket = connectTls({ port: v.vault.ports.tls, host: '127.0.0.1', servername: API, ca: v.caPem });
      socket.once('secureConnect', () => {
        socket.destroy();
        resolve('secure');
      });
      socket.once('error', () => resolve('refused'));
      socket.once('close', () => resolve('refused'));
    });
  }

  it('refuses connections beyond maxConnections while the first ones keep working, and accepts again once one closes', async () => {
    const first = Array.from({ length: MAX }, () => connectThroughVault('https', API, v.vault.ports.tls, v.caPem));
    for (const client of first) expect(await client.get('/ok')).toEqual({ status: 200, body: 'ok' });
    expect(await handshake()).toBe('refused');
    expect(await handshake()).toBe('refused');
    for (const client of first) expect(await client.get('/ok')).toEqual({ status: 200, body: 'ok' });
    for (const client of first) expect(client.connects()).toBe(1);

    await first[0]!.client.close();
    let again: 'secure' | 'refused' = 'refused';
    for (let i = 0; i < 50 && again === 'refused'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      again = await handshake();
    }
    expect(again).toBe('secure');
    await Promise.all(first.slice(1).map((c) => c.client.close()));
  });
});

/** vault/main.ts as its own process, the way the gateway starts it; "vault ready" gives the ports. */
async function startVaultProcess(config: Record<string, unknown>): Promise<{ child: ChildProcess; ports: { tls: number; http: number; control: number }; control: VaultControl }> {
  const dir = mkdtempSync(join(tmpdir(), 'lap-vault-process-'));
  const controlToken = randomBytes(32).toString('hex');
  const tokenFile = join(dir, 'control-token');
  writeFileSync(tokenFile, controlToken, { mode: 0o600 });
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ ...config, tokenFile }), { mode: 0o600 });
  const main = fileURLToPath(new URL('../../vault/main.ts', import.meta.url));
  const child = spawn(process.execPath, [main, '--config', configFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ports = await new Promise<{ tls: number; http: number; control: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no "vault ready" line within 20 s')), 20_000);
    child.once('exit', (code, signal) => reject(new Error(`the vault exited before it was ready (${signal ?? code})`)));
    // Read every line for the process's whole life: a full stdout pipe would stall its logging.
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = readyLine(line);
      if (!entry?.ports) return;
      clearTimeout(timer);
      resolve(entry.ports);
    });
  });
  return { child, ports, control: { controlUrl: `http://127.0.0.1:${ports.control}`, controlToken } };
}

function readyLine(line: string): { ports?: { tls: number; http: number; control: number } } | undefined {
  try {
    const entry = JSON.parse(line) as { msg?: string; ports?: { tls: number; http: number; control: number } };
    return entry.msg === 'vault ready' ? entry : undefined;
  } catch {
    return undefined;
  }
}

describe('the vault process under abuse (node vault/main.ts)', () => {
  let upstream: AbuseUpstream;
  let vault: Awaited<ReturnType<typeof startVaultProcess>>;
  let caPem: string;

  beforeAll(async () => {
    upstream = await startAbuseUpstream();
    vault = await startVaultProcess({
      session: 'robustness',
      listen: { address: '127.0.0.1', tlsPort: 0, httpPort: 0, dnsPort: 0 },
      control: { host: '127.0.0.1', port: 0 },
      syntheticAddress: '127.0.0.1',
      upstream: { extraCaFiles: [writeTempFile('upstream-ca.pem', upstream.caPem)], hosts: { [API]: `127.0.0.1:${upstream.httpsPort}`, [PLAIN]: `127.0.0.1:${upstream.httpPort}` } },
      limits: LIMITS,
    });
    await setPolicy(vault.control, { default: 'allow', allowPrivate: [API, PLAIN] });
    caPem = await (await fetch(`${vault.control.controlUrl}/v1/ca.pem`, { headers: { authorization: `Bearer ${vault.control.controlToken}` } })).text();
  });

  afterAll(async () => {
    const child = vault?.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await upstream?.close();
  });

  const alive = () => vault.child.exitCode === null && vault.child.signalCode === null;

  it('survives garbage on both ports and upstream resets, and keeps serving', async () => {
    const healthy = connectThroughVault('https', API, vault.ports.tls, caPem);
    expect(await healthy.get('/ok')).toEqual({ status: 200, body: 'ok' });

    for (const port of [vault.ports.tls, vault.ports.http]) {
      const socket = await openTcp(port);
      socket.write(Buffer.concat([Buffer.from('GARBAGE\xff\r\n', 'latin1'), randomBytes(4096)]));
      await closedByPeer(socket);
    }
    const victim = connectThroughVault('https', API, vault.ports.tls, caPem);
    for (const path of ['/reset', '/reset-mid-body']) {
      const result = await attempt(victim, path);
      expect('error' in result || result.status === 502).toBe(true);
    }
    await waitForAudit(vault.control, (e) => e.path === '/reset-mid-body' && e.decision === 'error');

    expect(alive()).toBe(true);
    expect(await healthy.get('/ok')).toEqual({ status: 200, body: 'ok' });
    expect(healthy.connects()).toBe(1);
    const fresh = connectThroughVault('http', PLAIN, vault.ports.http, caPem);
    expect(await fresh.get('/ok')).toEqual({ status: 200, body: 'ok' });
    await Promise.all([healthy, victim, fresh].map((c) => c.client.close()));
    expect(alive()).toBe(true);
  });

  it('still stops cleanly on SIGTERM afterwards', async () => {
    const exited = new Promise<number | null>((resolve) => vault.child.once('exit', (code) => resolve(code)));
    vault.child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('stopping the vault', () => {
  it('ends connections still open on its listeners, so a held stream cannot keep it running', async () => {
    const v = await startLoopbackVault({ hosts: {}, limits: { idleTimeoutMs: 600_000, headersTimeoutMs: 600_000 } });
    const held = connectTls({ host: '127.0.0.1', port: v.vault.ports.tls, servername: API, ca: v.caPem });
    await new Promise<void>((resolve, reject) => held.once('secureConnect', resolve).once('error', reject));
    const heldClosed = new Promise<void>((resolve) => held.once('close', () => resolve()));
    held.on('error', () => {});
    await v.close(); // would wait for the idle client (10 minutes here) if open connections were left
    await heldClosed;
    expect(held.destroyed).toBe(true);
  });
});
