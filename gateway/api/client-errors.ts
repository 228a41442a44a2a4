// Requests Node's HTTP parser refuses before any route sees them (headers or URL over the size limit,
// malformed request lines) still get the API's error shape instead of Node's empty default answer.
import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';

const REFUSALS: Record<string, [number, string, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'headers_too_large', 'the request line or headers are larger than the server accepts'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'request_timeout', 'the request was not received in time'],
};
const MALFORMED: [number, string, string, string] = [400, 'Bad Request', 'malformed_request', 'the request is not valid HTTP'];

/** Install on the gateway's HTTP server (node:http, or what @hono/node-server's serve returns). */
export function answerClientErrors(server: EventEmitter): void {
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
