// The driver of the opencode harness: `opencode serve` listens on the sandbox's loopback; a turn is
// POST /session/{id}/prompt_async, followed on its GET /event stream until the session is idle again,
// then the reply read back from GET /session/{id}/message. (The blocking POST …/message would send no
// byte until the turn ends, and a turn may take longer than any sane header timeout.)
import { type MessageDriver, TurnError } from './driver.ts';
import { parseJson, readSseData, waitUntilListening } from './loopback.ts';
import { type MessageInfo, OpencodeTurnMapper, errorText, replyText } from './opencode-events.ts';

/** opencode starts in a few seconds; the first turn after a claim waits this long for it. */
const START_TIMEOUT_MS = 60_000;
/** After an abort, how long opencode gets to wind the turn down before the driver stops listening. */
const ABORT_GRACE_MS = 5_000;

interface StoredMessage {
  info?: MessageInfo;
  parts?: unknown;
}

export function opencodeDriver(port: number): MessageDriver {
  const base = `http://127.0.0.1:${port}`;
  let session: string | undefined;
  return {
    async runTurn(text, emit, signal) {
      await waitUntilListening(`${base}/session/status`, 'opencode serve', START_TIMEOUT_MS, signal);
      session ??= await createSession(base, signal);
      const listening = new AbortController();
      const stopListening = () => setTimeout(() => listening.abort(), ABORT_GRACE_MS).unref();
      const onAbort = () => {
        void post(base, `/session/${session}/abort`, undefined, AbortSignal.timeout(ABORT_GRACE_MS)).catch(() => undefined);
        stopListening();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        const mapper = new OpencodeTurnMapper(session);
        const events = await fetch(`${base}/event`, { signal: listening.signal, headers: { accept: 'text/event-stream' } });
        if (!events.ok || !events.body) throw new TurnError(`opencode's GET /event answered ${events.status}`);
        await post(base, `/session/${session}/prompt_async`, { parts: [{ type: 'text', text }] }, signal);
        for await (const data of readSseData(events.body)) {
          mapper.take(parseJson(data), emit);
          if (mapper.done) break;
        }
        signal.throwIfAborted();
        if (!mapper.done) throw new TurnError("opencode's event stream ended before the turn did; see the harness output");
        return await finalReply(base, session, mapper);
      } catch (err) {
        signal.throwIfAborted();
        throw err;
      } finally {
        signal.removeEventListener('abort', onAbort);
        listening.abort();
      }
    },
  };
}

async function createSession(base: string, signal: AbortSignal): Promise<string> {
  const response = await post(base, '/session', { title: 'LAP session' }, signal);
  const created = (await response.json()) as { id?: string };
  if (typeof created.id !== 'string') throw new TurnError('opencode created a session without an id');
  return created.id;
}

/** The turn's last assistant message: its text is the reply, its error the turn's failure. */
async function finalReply(base: string, session: string, mapper: OpencodeTurnMapper): Promise<{ text: string; usage: { input_tokens: number; output_tokens: number } }> {
  const response = await fetch(`${base}/session/${session}/message`);
  if (!response.ok) throw new TurnError(`opencode's GET /session/${session}/message answered ${response.status}`);
  const messages = (await response.json()) as StoredMessage[];
  const last = messages.findLast((m) => m.info?.role === 'assistant');
  const error = last?.info?.error ? errorText(last.info.error) : mapper.error;
  if (error) throw new TurnError(error);
  const usage = mapper.usage;
  const fallback = { input_tokens: last?.info?.tokens?.input ?? 0, output_tokens: last?.info?.tokens?.output ?? 0 };
  return { text: replyText(last?.parts), usage: usage.input_tokens + usage.output_tokens > 0 ? usage : fallback };
}

async function post(base: string, path: string, body: unknown, signal: AbortSignal): Promise<Response> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  if (!response.ok) throw new TurnError(`opencode's POST ${path} answered ${response.status}: ${(await response.text()).slice(0, 500)}`);
  return response;
}

