import { errorReply, json } from '../vault/http/reply.ts';
import { Router } from '../vault/http/router.ts';
import { claimRoutes } from './routes/claim.ts';
import { eventRoutes } from './routes/events.ts';
import { execRoutes } from './routes/exec.ts';
import { fileRoutes } from './routes/files.ts';
import { messageRoutes } from './routes/messages.ts';
import type { AgentState } from './state.ts';

/** The agent's HTTP API; server.ts adds the bearer check and the TTY WebSocket. */
export function agentRoutes(state: AgentState): Router {
  return new Router()
    .get('/healthz', () => json({ status: 'ok' }))
    .get('/readyz', () => {
      const terminal = state.terminal;
      if (!state.claim) return errorReply(503, 'not_ready', 'warm: waiting for a claim');
      if (!terminal?.running) return errorReply(503, 'not_ready', 'the harness is not running');
      return json({ ready: true, session: state.claim.session, harness: terminal.harness, pid: terminal.pid });
    })
    .mount('/v1', eventRoutes(state))
    .mount('/v1', claimRoutes(state))
    .mount('/v1', execRoutes(state))
    .mount('/v1', fileRoutes(state))
    .mount('/v1', messageRoutes(state));
}
