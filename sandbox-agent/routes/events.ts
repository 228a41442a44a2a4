import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { AgentEvent } from '../protocol.ts';
import type { AgentState } from '../state.ts';

/** GET /events?after=N as JSON; GET /events/stream as SSE (id = seq, honours Last-Event-ID). */
export function eventRoutes(state: AgentState): Hono {
  const app = new Hono();
  app.get('/events', (c) => c.json({ events: state.events.since(afterSeq(c.req.query('after'))), lastActivity: new Date(state.events.lastActivity).toISOString() }));
  app.get('/events/stream', (c) =>
    streamSSE(c, async (stream) => {
      const queue: AgentEvent[] = state.events.since(afterSeq(c.req.header('last-event-id') ?? c.req.query('after')));
      let wake: (() => void) | undefined;
      const unsubscribe = state.events.subscribe((e) => {
        queue.push(e);
        wake?.();
      });
      stream.onAbort(() => wake?.());
      try {
        while (!stream.aborted) {
          const event = queue.shift();
          if (event) await stream.writeSSE({ id: String(event.seq), event: event.type, data: JSON.stringify(event) });
          else await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        unsubscribe();
      }
    }),
  );
  return app;
}

function afterSeq(value: string | undefined): number {
  const n = Number(value ?? 0);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}
