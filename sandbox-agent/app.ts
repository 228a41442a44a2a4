import { Hono } from 'hono';
import { requireBearer } from './auth.ts';
import { errorJson } from './errors.ts';
import { claimRoutes } from './routes/claim.ts';
import { eventRoutes } from './routes/events.ts';
import { execRoutes } from './routes/exec.ts';
import { fileRoutes } from './routes/files.ts';
import { messageRoutes } from './routes/messages.ts';
import type { AgentState } from './state.ts';

/** The agent's HTTP API. Every route needs the per-sandbox token; the TTY WebSocket is in server.ts. */
export function createAgentApp(state: AgentState, token: string): Hono {
  const app = new Hono();
  app.use('*', requireBearer(token));
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) => {
    const terminal = state.terminal;
    if (!state.claim) return errorJson(c, 503, 'not_ready', 'warm: waiting for a claim');
    if (!terminal?.running) return errorJson(c, 503, 'not_ready', 'the harness is not running');
    return c.json({ ready: true, session: state.claim.session, harness: terminal.harness, pid: terminal.pid });
  });
  app.route('/v1', eventRoutes(state));
  app.route('/v1', claimRoutes(state));
  app.route('/v1', execRoutes(state));
  app.route('/v1', fileRoutes(state));
  app.route('/v1', messageRoutes(state));
  app.notFound((c) => errorJson(c, 404, 'not_found', `no route ${c.req.method} ${c.req.path}`));
  app.onError((err, c) => errorJson(c, 500, 'internal', err.message));
  return app;
}
