// The API's HTTP server. Requests refused before any route sees them still get the API's error shape
// instead of an empty default answer: those Node's HTTP parser refuses (headers or URL over the size
// limit, malformed request lines) and those it passes but that make no URL (`GET http://[ HTTP/1.1`).
import type { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { getRequestListener, RequestError } from '@hono/node-server';
import { errorResponse } from './errors.ts';
import type { ErrorLog } from './route.ts';

/** Hono's fetch on node:http, answering in the API's error shape even before a route. */
export function createApiServer(fetch: (request: Request) => Response | Promise<Response>, log: ErrorLog): Server {
  const server = createServer(getRequestListener(fetch, { errorHandler: (err) => requestFailed(err, log) }));
  answerClientErrors(server);
  return server;
}

const REFUSALS: Record<string, [number, string, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'headers_too_large', 'the request line or headers are larger than the server accepts'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'request_timeout', 'the request was not received in time'],
};
const MALFORMED: [number, string, string, string] = [400, 'Bad Request', 'malformed_request', 'the request is not valid HTTP'];

function answerClientErrors(server: EventEmitter): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || (socket as Duplex & { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    const [status, reason, code, message] = REFUSALS[error.code ?? ''] ?? MALFORMED;
    const body = JSON.stringify({ error: { code, message, details: [] } });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}

/** @hono/node-server's errorHandler: a request it could not turn into a Request, or a fetch that threw. */
function requestFailed(error: unknown, log: ErrorLog): Response {
  if (error instanceof RequestError) return errorResponse(400, 'malformed_request', 'the request target is not a valid URL');
  log.error({ err: error }, 'unhandled error in the API');
  return errorResponse(500, 'internal', 'internal error: this is a bug, and it has been logged');
}
