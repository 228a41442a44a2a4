// The session routes of DESIGN.md §5, under /api/v1/managed_agents. The TTY WebSocket itself is
// answered by tty-proxy.ts at the HTTP server's upgrade event; its GET here documents it and
// answers 426 to a request that is not an upgrade.
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { envVarsSchema } from '../api/schemas/env.ts';
import type { GatewayEnv } from '../api/env.ts';
import { ApiError } from '../api/errors.ts';
import { defineRoute, type RouteSpec } from '../api/route.ts';
import type { SessionEventLog } from './event-log.ts';
import type { SessionService } from './service.ts';
import type { TicketBook } from './tickets.ts';
import { eventView, sessionEventSchema, sessionSchema, sessionView } from './views.ts';

const BASE = '/api/v1/managed_agents';
const TAG = 'Sessions';
const WAIT_LIMIT_MS = 120_000;
const EVENT_PAGE = 1000;
const SSE_HEARTBEAT_MS = 15_000;

const idParams = z.object({ id: z.string().min(1).max(64) });
const createBody = z.strictObject({
  title: z.string().max(500).nullable().optional(),
  env_vars: envVarsSchema.optional().describe('Per-session credentials: each value goes to the vault, the sandbox sees a stub'),
  cols: z.int().min(1).max(1000).optional().describe('Initial terminal size'),
  rows: z.int().min(1).max(500).optional(),
});
const boolQuery = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const listQuery = z.object({
  agent_id: z.string().max(64).optional(),
  status: z.enum(['creating', 'ready', 'failed', 'dead']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  after: z.string().max(64).optional().describe('The `next` of the previous page'),
});
const eventsQuery = z.object({
  after: z.coerce.number().int().min(0).default(0).describe('Only events with a larger seq (SSE: Last-Event-ID wins)'),
  limit: z.coerce.number().int().min(1).max(EVENT_PAGE).default(EVENT_PAGE),
});
const errorResponses = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, { description: ERROR_TEXT[s] ?? 'error' }]));
const ERROR_TEXT: Record<number, string> = { 400: 'Invalid request', 404: 'No such session (or not yours)', 409: 'Not possible in the current status', 426: 'Not a WebSocket upgrade', 429: 'The gateway runs as many live sessions as it may (LAP_MAX_SESSIONS)' };
const listSchema = z.object({ data: z.array(sessionSchema), next: z.string().nullable() }).meta({ id: 'SessionList' });
const eventsSchema = z.object({ data: z.array(sessionEventSchema), last_seq: z.number().int() }).meta({ id: 'SessionEventList' });

export function sessionRoutes(service: SessionService, events: SessionEventLog, tickets: TicketBook): RouteSpec[] {
  const key = (c: Context<GatewayEnv>) => c.get('key');
  return [
    defineRoute({
      method: 'post', path: `${BASE}/agents/{id}/session`, tag: TAG, auth: 'key',
      summary: 'Start a session of an agent: from a warm sandbox when the pool has one. With ?wait=true, answers once it is ready or failed',
      params: idParams, query: z.object({ wait: boolQuery.optional() }), body: createBody,
      responses: { 201: { description: 'The session (creating, or ready/failed with wait)', schema: sessionSchema }, ...errorResponses(400, 404, 409, 429) },
      handler: async (c, { params, query, body }) => {
        const created = service.create(key(c), params.id, body);
        const session = query.wait ? await service.settled(created.id, WAIT_LIMIT_MS) : created;
        return c.json(sessionView(session), 201);
      },
    }),
    defineRoute({
      method: 'get', path: `${BASE}/sessions`, tag: TAG, auth: 'key',
      summary: "List sessions, newest first: the caller's own (all of them for an admin key)",
      query: listQuery,
      responses: { 200: { description: 'A page of sessions', schema: listSchema }, ...errorResponses(400) },
      handler: (c, { query }) => {
        const page = service.list(key(c), { agentId: query.agent_id, status: query.status, limit: query.limit, after: query.after });
        return c.json({ data: page.sessions.map(sessionView), next: page.next });
      },
    }),
    defineRoute({
      method: 'get', path: `${BASE}/sessions/{id}`, tag: TAG, auth: 'key', summary: 'One session',
      params: idParams,
      responses: { 200: { description: 'The session', schema: sessionSchema }, ...errorResponses(404) },
      handler: (c, { params }) => c.json(sessionView(service.get(key(c), params.id))),
    }),
    defineRoute({
      method: 'delete', path: `${BASE}/sessions/{id}`, tag: TAG, auth: 'key',
      summary: 'Stop the session and remove its sandbox; the record, events and audit trail stay',
      params: idParams,
      responses: { 200: { description: 'The session, now dead', schema: sessionSchema }, ...errorResponses(404) },
      handler: async (c, { params }) => c.json(sessionView(await service.delete(key(c), params.id))),
    }),
    defineRoute({
      method: 'post', path: `${BASE}/sessions/{id}/restart`, tag: TAG, auth: 'key',
      summary: 'Restart the harness in the same sandbox (also after it exited)',
      params: idParams,
      responses: { 200: { description: 'The session, ready again', schema: sessionSchema }, ...errorResponses(404, 409) },
      handler: async (c, { params }) => c.json(sessionView(await service.restart(key(c), params.id))),
    }),
    defineRoute({
      method: 'get', path: `${BASE}/sessions/{id}/events`, tag: TAG, auth: 'key',
      summary: 'The session event log: JSON, or SSE (id = seq, honours Last-Event-ID) with Accept: text/event-stream',
      params: idParams, query: eventsQuery,
      responses: { 200: { description: 'Events after `after`', schema: eventsSchema, contentType: 'application/json, text/event-stream' }, ...errorResponses(400, 404) },
      handler: (c, { params, query }) => {
        const session = service.get(key(c), params.id);
        if (c.req.header('accept')?.includes('text/event-stream')) {
          const after = Number(c.req.header('last-event-id') ?? query.after);
          return streamEvents(c, events, session.id, Number.isSafeInteger(after) && after >= 0 ? after : query.after, () => service.isLive(session.id));
        }
        const data = events.since(session.id, query.after, query.limit);
        return c.json({ data: data.map(eventView), last_seq: data.at(-1)?.seq ?? query.after });
      },
    }),
    defineRoute({
      method: 'get', path: `${BASE}/sessions/{id}/audit`, tag: TAG, auth: 'key',
      summary: "The vault's audit trail of the session: every request (vault.request) and refusal (vault.blocked), kept after the sandbox is gone",
      params: idParams, query: eventsQuery,
      responses: { 200: { description: 'Audit events after `after`', schema: eventsSchema }, ...errorResponses(400, 404) },
      handler: (c, { params, query }) => {
        const session = service.get(key(c), params.id);
        const data = events.since(session.id, query.after, query.limit, 'vault.');
        return c.json({ data: data.map(eventView), last_seq: data.at(-1)?.seq ?? query.after });
      },
    }),
    defineRoute({
      method: 'post', path: `${BASE}/sessions/{id}/tty_ticket`, tag: TAG, auth: 'key',
      summary: 'A single-use ticket (30 s) for browsers: GET …/tty?ticket=… instead of an Authorization header',
      params: idParams,
      responses: { 201: { description: 'The ticket', schema: z.object({ ticket: z.string(), expires_at: z.string() }) }, ...errorResponses(404) },
      handler: (c, { params }) => {
        const session = service.get(key(c), params.id);
        const { ticket, expiresAt } = tickets.issue(session.id, key(c));
        return c.json({ ticket, expires_at: expiresAt }, 201);
      },
    }),
    defineRoute({
      method: 'get', path: `${BASE}/sessions/{id}/tty`, tag: TAG, auth: 'key',
      summary: 'WebSocket to the session terminal (DESIGN.md §4): binary frames are terminal bytes, text frames JSON control ({"type":"resize",cols,rows}); first a hello and the current screen',
      params: idParams,
      responses: { 101: { description: 'Switching to the WebSocket protocol' }, ...errorResponses(404, 409, 426) },
      handler: (c, { params }) => {
        service.get(key(c), params.id);
        throw new ApiError(426, 'upgrade_required', 'this path is a WebSocket: send Connection: Upgrade, Upgrade: websocket', [], { upgrade: 'websocket' });
      },
    }),
  ];
}

/**
 * Replays from `after`, then follows live. Both read the store a page at a time; a new event only
 * wakes the loop. So a client that reads slowly costs one page of memory however fast events come,
 * and it never misses one: whatever arrived while it was written to is in the next page.
 */
function streamEvents(c: Context<GatewayEnv>, events: SessionEventLog, sessionId: string, after: number, live: () => boolean) {
  return streamSSE(c, async (stream) => {
    let pending = true;
    let wake: (() => void) | undefined;
    const unsubscribe = events.subscribe(sessionId, () => {
      pending = true;
      wake?.();
    });
    const heartbeat = setInterval(() => void stream.write(': keep-alive\n\n'), SSE_HEARTBEAT_MS);
    stream.onAbort(() => wake?.());
    try {
      for (let last = after; !stream.aborted; ) {
        if (!pending) {
          if (!live()) break;
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        pending = false;
        for (let page = events.since(sessionId, last, EVENT_PAGE); page.length > 0 && !stream.aborted; page = events.since(sessionId, last, EVENT_PAGE)) {
          for (const e of page) await stream.writeSSE({ id: String(e.seq), event: e.type, data: JSON.stringify(eventView(e)) });
          last = page.at(-1)!.seq;
        }
      }
    } finally {
      clearInterval(heartbeat);
      unsubscribe();
    }
  });
}
