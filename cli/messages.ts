// Messages to a message harness (opencode, the Claude Agent SDK): POST …/sessions/{id}/message with
// Accept: text/event-stream, the reply's text deltas printed as they arrive.
import { readSse } from '../gateway/sessions/sse-reader.ts';
import { type Client, MANAGED } from './client.ts';
import { CliError } from './errors.ts';

export interface MessageEvent {
  type: string;
  data: { text?: string; message?: string };
}

/**
 * Sends one message; `print` gets each text delta as it streams and `onEvent` every normalized event.
 * Answers the reply's full text.
 */
export async function sendMessage(client: Client, sessionId: string, text: string, print: (s: string) => void, onEvent: (e: MessageEvent) => void = () => {}): Promise<string> {
  const response = await client.fetch(`${MANAGED}/sessions/${sessionId}/message`, {
    method: 'POST',
    body: JSON.stringify({ content: text }),
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
  });
  let reply = '';
  for await (const message of readSse(response.body!)) {
    const event = JSON.parse(message.data) as MessageEvent;
    onEvent(event);
    const { text, message: reason } = event.data ?? {};
    if (event.type === 'message.delta' && typeof text === 'string') {
      reply += text;
      print(text);
    }
    if (event.type === 'error') throw new CliError(`the harness reported an error: ${typeof reason === 'string' ? reason : 'no message'}`, { hint: `lap logs ${sessionId}` });
    if (event.type === 'turn.finished') break;
  }
  await response.body?.cancel().catch(() => {});
  return reply;
}
