// Sends requests through an HTTP server in memory before real clients arrive, so that the first real
// request finds its whole path (HTTP parsing, routing, body reading, JSON, the checks)
// compiled: V8 compiles a function at its first call, which is most of a fresh process's first
// request. Used by the vault (its control API) and the sandbox agent (the claim) while they wait warm.
import type { Server } from 'node:http';
import { duplexPair } from 'node:stream';

export interface WarmUpRequest {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** A warm-up that does not finish in time is dropped: it only ever saves the first request a few ms. */
const WARM_UP_TIMEOUT_MS = 2_000;

export async function warmUpServer(server: Server, requests: readonly WarmUpRequest[]): Promise<void> {
  for (const request of requests) await sendInMemory(server, request);
}

function sendInMemory(server: Server, { method, path, headers, body = '' }: WarmUpRequest): Promise<void> {
  const [client, serverSide] = duplexPair();
  const head = [`${method} ${path} HTTP/1.1`, 'host: warm-up', 'connection: close', `content-length: ${Buffer.byteLength(body)}`];
  for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.destroy();
      resolve();
    };
    const timer = setTimeout(done, WARM_UP_TIMEOUT_MS);
    client.resume().once('end', done).once('close', done).once('error', done);
    server.emit('connection', serverSide);
    client.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  });
}
