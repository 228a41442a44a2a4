import { errorReply, json } from '../../vault/http/reply.ts';
import type { HttpRequest } from '../../vault/http/request.ts';
import { Router } from '../../vault/http/router.ts';
import { harnessEnvironment } from '../claim/env.ts';
import { claimPaths } from '../claim/paths.ts';
import { findHarness } from '../harnesses/index.ts';
import { Conversation } from '../messages/conversation.ts';
import { isMessageHarness } from '../messages/driver.ts';
import { type AgentEvent, type ClaimRequest, TURN_EVENT_TYPES } from '../protocol.ts';
import type { AgentState } from '../state.ts';
import { Reader, invalidRequest, unknownKeys, withoutNul } from '../validation.ts';

export const MAX_MESSAGE_BYTES = 1024 * 1024;
/** A blank line this often keeps idle proxies and the gateway's body timeout from closing a long turn. */
const KEEP_ALIVE_MS = 15_000;
const TURN_TYPES: ReadonlySet<string> = new Set(TURN_EVENT_TYPES);

/**
 * POST /message {text}: one turn of a message harness, streamed as NDJSON TurnEvents until
 * turn.finished or error. The turn belongs to the agent, not the request: a client that goes away
 * stops reading, not the turn. POST /message/abort stops it (docs/agent-api.md).
 */
export function messageRoutes(state: AgentState): Router {
  let conversation: { session: string; value: Conversation } | null = null;
  const conversationOf = (claim: ClaimRequest): Conversation | string => {
    if (conversation?.session === claim.session) return conversation.value;
    const harness = findHarness(claim.harness);
    if (!isMessageHarness(harness)) return `harness ${claim.harness} has no message API; talk to it through its terminal`;
    const env = harnessEnvironment(claim.env, claimPaths(state.workspace).home, harness.environment?.(claim.env));
    conversation = { session: claim.session, value: new Conversation(harness.messageDriver({ env, workspace: claimPaths(state.workspace).workspace }), state.events) };
    return conversation.value;
  };

  const postMessage = async (req: HttpRequest) => {
    const text = await readText(req);
    if (!state.claim) return errorReply(409, 'not_claimed', 'warm: there is no harness until a claim arrives');
    const target = conversationOf(state.claim);
    if (typeof target === 'string') return errorReply(409, 'not_a_message_harness', target);
    if (!state.terminal?.running) return errorReply(409, 'harness_not_running', `the harness ${state.claim.harness} is not running; restart it (POST /v1/harness/restart)`);
    if (target.runningTurn) return errorReply(409, 'turn_running', `turn ${target.runningTurn} is still running; wait for it or abort it (POST /v1/message/abort)`);
    return { status: 200, headers: { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' }, body: turnStream(state, target, text) };
  };

  const abort = () => {
    if (state.claim && !isMessageHarness(findHarness(state.claim.harness))) {
      return errorReply(409, 'not_a_message_harness', `harness ${state.claim.harness} has no message API, so no turn to abort`);
    }
    const running = conversation?.session === state.claim?.session ? conversation?.value : undefined;
    const turn = running?.runningTurn ?? null;
    return json({ aborted: running?.abort() ?? false, turn });
  };
  return new Router().post('/message', postMessage).post('/message/abort', abort);
}

async function readText(req: HttpRequest): Promise<string> {
  const body = await req.json(MAX_MESSAGE_BYTES + 1024, { tooLarge: `a message is at most ${MAX_MESSAGE_BYTES} bytes`, invalid: 'request body must be JSON: {"text": "…"}' });
  const r = new Reader();
  const object = r.object(body, []);
  const text = object ? r.string(object.text, ['text'], { min: 1, max: MAX_MESSAGE_BYTES, check: withoutNul }) : undefined;
  for (const key of object ? unknownKeys(object, ['text']) : []) r.fail([key], 'is not a message field');
  if (text === undefined || r.issues.length > 0) throw invalidRequest(r.issues);
  return text;
}

/** The turn's events as NDJSON, from message.user to its last event; subscribed before the turn starts. */
function turnStream(state: AgentState, conversation: Conversation, text: string): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let stop = () => {};
  return new ReadableStream({
    start(controller) {
      const seen: AgentEvent[] = [];
      let turnId: string | null = null;
      const write = (event: AgentEvent) => {
        if (!TURN_TYPES.has(event.type) || event.data.turn !== turnId) return;
        controller.enqueue(encoder.encode(`${JSON.stringify({ seq: event.seq, type: event.type, data: event.data })}\n`));
        if (event.type === 'turn.finished' || event.type === 'error') {
          stop();
          controller.close();
        }
      };
      const unsubscribe = state.events.subscribe((event) => (turnId === null ? seen.push(event) : write(event)));
      const keepAlive = setInterval(() => controller.enqueue(encoder.encode('\n')), KEEP_ALIVE_MS);
      stop = () => {
        clearInterval(keepAlive);
        unsubscribe();
      };
      turnId = conversation.start(text);
      for (const event of seen) write(event);
    },
    cancel() {
      stop();
    },
  });
}
