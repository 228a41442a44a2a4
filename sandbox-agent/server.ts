import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { requireBearer, tokenMatches } from '../vault/http/bearer.ts';
import { refuseUpgrade } from '../vault/http/reply.ts';
import { createRouterServer } from '../vault/http/router.ts';
import { agentRoutes } from './app.ts';
import type { AgentState } from './state.ts';

/** The WebSocket side (ws) loads at the first TTY connection: an agent nobody watches never carries it. */
const loadTtyUpgrade = () => import('./tty/websocket.ts');

/** The HTTP API (`agentRoutes`, every route behind the per-sandbox token) plus the TTY WebSocket upgrade. */
export function createAgentServer(state: AgentState, token: string): Server {
  const server = createRouterServer(agentRoutes(state), { guards: [requireBearer(token)] });
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    // Checked on the raw request, so an unauthorized client gets 401 before any upgrade.
    if (!tokenMatches(req.headers.authorization, token)) return refuseUpgrade(socket, 401, 'unauthorized', 'missing or wrong bearer token');
    if (URL.parse(req.url ?? '/', 'http://agent')?.pathname !== '/v1/tty') return refuseUpgrade(socket, 404, 'not_found', `no WebSocket route ${req.url}`);
    loadTtyUpgrade()
      .then(({ handleTtyUpgrade }) => handleTtyUpgrade(state, req, socket, head))
      .catch(() => socket.destroy());
  });
  return server;
}
