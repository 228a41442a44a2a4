import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import { upgradeAuthorized } from './auth.ts';
import type { AgentState } from './state.ts';

/** The WebSocket side (ws) loads at the first TTY connection: an agent nobody watches never carries it. */
const loadTtyUpgrade = () => import('./tty/websocket.ts');

/** The HTTP API (`createAgentApp`) plus the TTY WebSocket upgrade (auth checked on the raw request, 401 before upgrading). */
export function createAgentServer(app: Hono, state: AgentState, token: string): Server {
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (!upgradeAuthorized(req, token)) return refuse(socket, 401, 'missing or wrong bearer token');
    if (new URL(req.url ?? '/', 'http://agent').pathname !== '/v1/tty') return refuse(socket, 404, `no WebSocket route ${req.url}`);
    loadTtyUpgrade()
      .then(({ handleTtyUpgrade }) => handleTtyUpgrade(state, req, socket, head))
      .catch(() => socket.destroy());
  });
  return server;
}

function refuse(socket: Duplex, status: number, message: string) {
  const body = JSON.stringify({ error: { code: status === 401 ? 'unauthorized' : 'not_found', message, details: [] } });
  socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Not Found'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
