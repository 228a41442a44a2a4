// The message API of message harnesses (opencode, claude-agent-sdk): POST …/sessions/{id}/message
// runs one turn in the sandbox and answers its normalized events, as SSE (Accept: text/event-stream)
// or, at the end, as JSON; POST …/sessions/{id}/abort stops a running turn. The events also reach the
// session's event log through the event pump, like every agent event, so they outlive the sandbox.
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { readLines } from '../../sandbox-agent/lines.ts';
import { TURN_EVENT_TYPES, type TurnEvent } from '../../sandbox-agent/protocol.ts';
import type { GatewayEnv } from '../api/env.ts';
import { defineRoute, type RouteSpec } from '../api/route.ts';
import type { SessionEventLog } from './event-log.ts';
import { agentApiError, agentControl } from './control-client.ts';
import type { SessionService } from './service.ts';

const BASE = '/api/v1/managed_agents';
const MAX_MESSAGE_BYTES = 1024 * 1024;
const SSE_HEARTBEAT_MS = 15_000;
/** How long an answer waits for the event pump to store the turn's last event (it copies within ms). */
const STORED_WAIT_MS = 5_000;
const idParams = z.object({ id: z.string().min(1).max(64) });
const messageBody = z.strictObject({ content: z.string().min(1).max(MAX_MESSAGE_BYTES).describe("The user's message") });

const usageSchema = z.object({ input_tokens: z.number().int(), output_tokens: z.number().int() });
export const turnEventSchema = z
  .object({ type: z.enum(['message.user', 'turn.started', 'message.delta', 'tool.started', 'tool.finished', 'turn.finished', 'error']), data: z.record(z.string(), z.unknown()) })
  .meta({ id: 'TurnEvent' });
const replySchema = z
  .object({
    message: z.object({ role: z.literal('assistant'), text: z.string(), usage: usageSchema }).nullable().describe('The reply; null when the turn failed'),
    events: z.array(turnEventSchema),
    error: z.object({ message: z.string(), aborted: z.boolean() }).optional().describe('Present when the turn ended in an error (or was aborted)'),
  })
  .meta({ id: 'MessageReply' });

export function messageRoutes(service: SessionService, log: SessionEventLog): RouteSpec[] {
  return [
    defineRoute({
      method: 'post', path: `${BASE}/sessions/{id}/message`, tag: 'Sessions', auth: 'key',
      summary: 'Send a message to a message harness (opencode, claude-agent-sdk) and get the reply; with Accept: text/event-stream the turn streams as SSE (event = type, data = {type, data}) and ends after turn.finished or error',
      params: idParams, body: messageBody, bodyLimit: MAX_MESSAGE_BYTES * 2,
      responses: {
        200: { description: 'The reply and the turn events (JSON), or the events as SSE', schema: replySchema, contentType: 'application/json, text/event-stream' },
        400: { description: 'Invalid request' }, 404: { description: 'No such session (or not yours)' },
        409: { description: 'Not ready, not a message harness, or a turn is already running' }, 503: { description: "The sandbox's agent did not answer" },
      },
      handler: async (c, { params, body }) => {
        // Whether the harness has a message API is the agent's to say (409 not_a_message_harness).
        const { session, handle } = service.readySandbox(c.get('key'), params.id, 'a message');
        service.touch(session.id);
        const stored = watchStoredTurnEnds(log, session.id);
        try {
          const response = await agentControl.message(handle, { text: body.content }, c.req.raw.signal).catch((err: unknown) => {
            throw agentApiError(err);
          });
          const events = turnEvents(response, stored, c.req.raw.signal);
          return c.req.header('accept')?.includes('text/event-stream') ? streamTurn(c, events, stored) : c.json(await collectTurn(events, stored));
        } catch (err) {
          stored.stop();
          throw err;
        }
      },
    }),
    defineRoute({
      method: 'post', path: `${BASE}/sessions/{id}/abort`, tag: 'Sessions', auth: 'key',
      summary: "Abort the session's running turn; it ends with an error event {aborted: true}. `aborted` is false when no turn was running",
      params: idParams,
      responses: {
        200: { description: 'Whether a turn was running and is being stopped', schema: z.object({ aborted: z.boolean(), turn: z.string().nullable() }) },
        404: { description: 'No such session (or not yours)' }, 409: { description: 'Not ready, or not a message harness' }, 503: { description: "The sandbox's agent did not answer" },
      },
      handler: async (c, { params }) => {
        const { session, handle } = service.readySandbox(c.get('key'), params.id, 'abort');
        service.touch(session.id);
        return c.json(await agentControl.abortTurn(handle).catch((err: unknown) => {
          throw agentApiError(err);
        }));
      },
    }),
  ];
}

/**
 * Which turns' last events the session's event log has stored (the event pump copies them from the
 * agent): an answer waits for its turn's, so a delete right after the reply loses none of the turn.
 */
export interface StoredTurnEnds {
  until(turn: string): Promise<void>;
  stop(): void;
}

export function watchStoredTurnEnds(log: SessionEventLog, sessionId: string): StoredTurnEnds {
  const ended = new Set<string>();
  const waiters = new Map<string, () => void>();
  const unsubscribe = log.subscribe(sessionId, (event) => {
    if (event.type !== 'turn.finished' && event.type !== 'error') return;
    const turn = String(event.data.turn);
    ended.add(turn);
    waiters.get(turn)?.();
  });
  return {
    async until(turn) {
      if (!ended.has(turn)) {
        await new Promise<void>((resolve) => {
          waiters.set(turn, resolve);
          setTimeout(resolve, STORED_WAIT_MS).unref();
        });
      }
      unsubscribe();
    },
    stop: unsubscribe,
  };
}

/**
 * The agent's NDJSON TurnEvents (blank keep-alive lines skipped), ending after the turn's last event
 * once it is stored. A stream that breaks off first (the sandbox died) ends with an `error` of our own,
 * unless the client itself went away (`signal`).
 */
export async function* turnEvents(response: Response, stored: StoredTurnEnds, signal: AbortSignal): AsyncGenerator<TurnEvent> {
  let turn = '';
  try {
    for await (const line of readLines(response.body!)) {
      if (!line.trim()) continue;
      const { type, data } = JSON.parse(line) as TurnEvent;
      if (!TURN_EVENT_TYPES.includes(type) || typeof data?.turn !== 'string') throw new Error(`an event that is not a turn event (${String(type).slice(0, 64)})`);
      turn = data.turn;
      const last = type === 'turn.finished' || type === 'error';
      if (last) await stored.until(turn);
      yield { type, data } as TurnEvent;
      if (last) return;
    }
  } catch (err) {
    if (signal.aborted) return;
    yield { type: 'error', data: { turn: turn || 'unknown', message: `the stream from the sandbox broke off: ${(err as Error).message}; GET …/events has what the turn did` } };
    return;
  }
  yield { type: 'error', data: { turn: turn || 'unknown', message: "the sandbox's agent ended the stream before the turn ended; GET …/events has what the turn did" } };
}

function streamTurn(c: Context<GatewayEnv>, events: AsyncGenerator<TurnEvent>, stored: StoredTurnEnds): Response {
  return streamSSE(c, async (stream) => {
    const heartbeat = setInterval(() => void stream.write(': keep-alive\n\n'), SSE_HEARTBEAT_MS);
    stream.onAbort(() => void events.return(undefined));
    try {
      for await (const event of events) await stream.writeSSE({ event: event.type, data: JSON.stringify(event) });
    } finally {
      clearInterval(heartbeat);
      stored.stop();
    }
  });
}

async function collectTurn(events: AsyncGenerator<TurnEvent>, stored: StoredTurnEnds): Promise<z.infer<typeof replySchema>> {
  const all: TurnEvent[] = [];
  try {
    for await (const event of events) all.push(event);
  } finally {
    stored.stop();
  }
  const last = all.at(-1);
  if (last?.type === 'turn.finished') return { message: { role: 'assistant', text: last.data.text, usage: last.data.usage }, events: all };
  const error = last?.type === 'error' ? last.data : { message: 'the turn ended without a result', aborted: false };
  return { message: null, events: all, error: { message: error.message, aborted: error.aborted === true } };
}
