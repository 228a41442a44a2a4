import { afterSeq, eventStreamReply } from '../../vault/http/event-stream.ts';
import { json } from '../../vault/http/reply.ts';
import { Router } from '../../vault/http/router.ts';
import type { AgentState } from '../state.ts';

/** GET /events?after=N as JSON; GET /events/stream as SSE (id = seq, honours Last-Event-ID). */
export function eventRoutes(state: AgentState): Router {
  return new Router()
    .get('/events', (req) => json({ events: state.events.since(afterSeq(req.query('after'))), lastActivity: new Date(state.events.lastActivity).toISOString() }))
    .get('/events/stream', (req) => eventStreamReply(state.events, afterSeq(req.header('last-event-id') ?? req.query('after')), (event) => event.type));
}
