// The bench's HTTPS upstream, forked by main.ts so it never shares an event loop with the vault or
// the load client. HTTP/2 with HTTP/1.1 fallback, like most real APIs: the load client speaks
// HTTP/1.1 to it directly, the vault's upstream pool speaks HTTP/2.
//   GET /small  ~200 bytes of JSON (401 unless the real credential arrived: proves the vault swapped it)
//   GET /sse    one event at once, a second one and the end 200 ms later
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { mintUpstreamCertificate } from './upstream-cert.ts';

export interface UpstreamSetup {
  domain: string;
  /** The Authorization header value the upstream accepts: `Bearer <real value>`. */
  expectedAuthorization: string;
}

export type UpstreamReply = { ready: { port: number; caPem: string } } | { error: string };

const SSE_END_AFTER_MS = 200;
const SMALL_JSON = Buffer.from(JSON.stringify({
  id: 583231, login: 'octocat', name: 'The Octocat', company: '@github', location: 'San Francisco',
  public_repos: 8, followers: 9000, created_at: '2011-01-25T18:44:36Z', plan: { name: 'pro', seats: 1 },
}));

async function startUpstream(setup: UpstreamSetup): Promise<{ port: number; caPem: string }> {
  const cert = await mintUpstreamCertificate(setup.domain);
  const server = createSecureServer({ allowHTTP1: true, noDelay: true, key: cert.keyPem, cert: cert.certPem }, (req, res) => route(setup, req, res));
  server.on('sessionError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return { port: (server.address() as AddressInfo).port, caPem: cert.caPem };
}

function route(setup: UpstreamSetup, req: Http2ServerRequest, res: Http2ServerResponse): void {
  if (req.headers.authorization !== setup.expectedAuthorization) {
    res.writeHead(401, { 'content-type': 'text/plain' });
    return void res.end('the real credential did not arrive\n');
  }
  if (req.url === '/small') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': SMALL_JSON.length });
    return void res.end(SMALL_JSON);
  }
  if (req.url === '/sse') return streamEvents(res);
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
}

function streamEvents(res: Http2ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
  res.write('event: first\ndata: {"n":1}\n\n');
  const timer = setTimeout(() => res.end('event: last\ndata: {"n":2}\n\n'), SSE_END_AFTER_MS);
  res.once('close', () => clearTimeout(timer));
}

const send = (reply: UpstreamReply) => process.send?.(reply);
process.once('message', (setup: UpstreamSetup) => {
  startUpstream(setup).then(
    (ready) => send({ ready }),
    (err: Error) => {
      send({ error: err.message });
      process.exit(1);
    },
  );
});
// The orchestrator gone (even killed) means the bench is over.
process.once('disconnect', () => process.exit(0));
