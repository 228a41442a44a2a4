// bench/vault's floor: the least a TLS-intercepting proxy built from the vault's parts does per
// request — node:https terminates TLS and parses the request, an undici Agent (HTTP/2 where the
// upstream offers it, as the vault's) forwards it on a pooled connection, the answer streams back —
// with nothing of the vault's own: no swap, no scrub, no policy, no audit, no log. Its throughput
// beside the direct path bounds what any vault on this stack can reach on this machine.
// Forked by setup.ts; answers { ready: { port, caPem } } once it listens.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, LookupFunction } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { Agent } from 'undici';
import { endToEndHeaders, type HeaderMap } from '../../vault/intercept/headers.ts';
import { mintUpstreamCertificate } from './upstream-cert.ts';

export interface FloorSetup {
  domain: string;
  upstreamPort: number;
  upstreamCaPem: string;
  http2: boolean;
}

/** The request's end-to-end headers, as the vault forwards them; undici names the host from the origin. */
function forwardedHeaders(headers: IncomingHttpHeaders): HeaderMap {
  const { host: _host, ...forwarded } = endToEndHeaders(headers);
  return forwarded;
}

async function forward(agent: Agent, port: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const answer = await agent.request({
      origin: `https://${req.headers.host}:${port}`, path: req.url ?? '/', method: req.method as 'GET',
      headers: forwardedHeaders(req.headers), body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
    });
    res.writeHead(answer.statusCode, answer.headers as Record<string, string>);
    await pipeline(answer.body, res);
  } catch (err) {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`floor proxy: ${(err as Error).message}\n`);
  }
}

async function start(setup: FloorSetup): Promise<{ port: number; caPem: string }> {
  const cert = await mintUpstreamCertificate(setup.domain);
  const loopback: LookupFunction = (_name, options, done) =>
    options.all ? done(null, [{ address: '127.0.0.1', family: 4 }]) : done(null, '127.0.0.1', 4);
  const agent = new Agent({ allowH2: setup.http2, keepAliveTimeout: 30_000, connections: 64, connect: { ca: setup.upstreamCaPem, lookup: loopback } });
  const server = createServer({ key: cert.keyPem, cert: cert.certPem, noDelay: true, keepAliveTimeout: 5_000 }, (req, res) => void forward(agent, setup.upstreamPort, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return { port: (server.address() as AddressInfo).port, caPem: cert.caPem };
}

process.once('message', (setup: FloorSetup) => {
  start(setup).then((ready) => process.send?.({ ready }), (err: Error) => {
    process.send?.({ error: err.message });
    process.exit(1);
  });
});
// The orchestrator gone (even killed) means the bench is over.
process.once('disconnect', () => process.exit(0));
