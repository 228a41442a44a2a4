// A fake upstream for vault tests: HTTPS (HTTP/2 and HTTP/1.1) and plain HTTP on loopback, with
// certificates from a test CA, recording what it received and echoing it back in the forms a
// leaky API might (headers, JSON, gzip, base64, URL-encoded), plus SSE and a WebSocket echo.
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { WebSocketServer } from 'ws';
import { createCertificateAuthority } from '../../vault/ca.ts';

export interface ReceivedRequest {
  method: string;
  path: string;
  httpVersion: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface FakeUpstream {
  readonly caPem: string;
  readonly httpsPort: number;
  readonly httpPort: number;
  readonly received: ReceivedRequest[];
  /** Lets a held SSE stream (/sse/held) send its last event and finish. */
  releaseSse(): void;
  close(): Promise<void>;
}

type Req = IncomingMessage | Http2ServerRequest;
type Res = { writeHead(status: number, headers?: Record<string, string | number>): unknown; write(chunk: string | Buffer): boolean; end(chunk?: string | Buffer): unknown };

export async function startFakeUpstream(): Promise<FakeUpstream> {
  const ca = await createCertificateAuthority({ commonName: 'LAP test upstream CA' });
  const received: ReceivedRequest[] = [];
  let release: () => void = () => {};
  const released = new Promise<void>((r) => (release = r));

  const handle = (req: Req, res: Res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const record: ReceivedRequest = {
        method: req.method ?? '', path: req.url ?? '', httpVersion: req.httpVersion,
        headers: { ...req.headers }, body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(record);
      route(record, res, released);
    });
  };
  const https: Http2SecureServer = createSecureServer({
    allowHTTP1: true,
    SNICallback: (name, done) => void ca.secureContextFor(name).then((c) => done(null, c), done),
  }, (req: Http2ServerRequest, res: Http2ServerResponse) => handle(req, res as unknown as Res));
  const http: Server = createHttpServer((req, res) => handle(req, res));
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (ws, req) => ws.on('message', (data) => ws.send(`echo:${data.toString()}|auth:${req.headers.authorization ?? ''}`)));
  for (const server of [https, http]) {
    server.on('upgrade', (req: IncomingMessage, socket, head) => {
      received.push({ method: req.method ?? '', path: req.url ?? '', httpVersion: req.httpVersion, headers: { ...req.headers }, body: '' });
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
  }
  await Promise.all([listen(https), listen(http)]);
  return {
    caPem: ca.certificatePem,
    httpsPort: (https.address() as AddressInfo).port,
    httpPort: (http.address() as AddressInfo).port,
    received,
    releaseSse: () => release(),
    close: async () => {
      release();
      for (const ws of wss.clients) ws.terminate();
      await Promise.all([https, http].map((s) => new Promise((r) => { s.close(r); (s as Server).closeAllConnections?.(); })));
    },
  };
}

function route(req: ReceivedRequest, res: Res, released: Promise<void>) {
  const auth = String(req.headers.authorization ?? '');
  const token = auth.replace(/^(Bearer|token) /i, '');
  const path = req.path.split('?')[0];
  const json = (status: number, body: unknown, extra: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', ...extra });
    res.end(text);
  };
  switch (path) {
    case '/user': // GitHub-like: echoes the token in a header, plain body, JSON, base64 and URL-encoded forms
      return json(200, {
        login: 'octocat', seen_token: token, seen_query: req.path.split('?')[1] ?? '', seen_body: req.body,
        b64: Buffer.from(token).toString('base64'), urlenc: encodeURIComponent(token), basic: Buffer.from(`x-access-token:${token}`).toString('base64'),
      }, { 'x-echo-token': token });
    case '/gzip': {
      const body = gzipSync(JSON.stringify({ seen_token: token }));
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length });
      return res.end(body);
    }
    case '/sse/held':
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(`data: first ${token}\n\n`);
      return void released.then(() => res.end('data: last\n\n'));
    default:
      return json(404, { message: 'Not Found', path });
  }
}

function listen(server: Server | Http2SecureServer): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
}
