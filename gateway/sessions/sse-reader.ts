// Reads a text/event-stream body into messages (the subset our own agent and vault send: id, event,
// data; comments and retry ignored).
import { MAX_LINE_CHARS } from '../../sandbox-agent/lines.ts';

export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

/** Throws on a message past `maxChars` (see MAX_LINE_CHARS): a sandbox's stream must not exhaust its reader. */
export async function* readSse(body: ReadableStream<Uint8Array>, maxChars = MAX_LINE_CHARS): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    const scanFrom = Math.max(0, buffer.length - 1);
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n\n', scanFrom);
    while (end !== -1) {
      const message = parseBlock(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (message) yield message;
      end = buffer.indexOf('\n\n');
    }
    if (buffer.length > maxChars) throw new Error(`an event longer than ${maxChars} characters: the stream is not the event stream expected`);
  }
}

function parseBlock(block: string): SseMessage | undefined {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':');
    if (colon === 0) continue;
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length > 0 ? { id, event, data: data.join('\n') } : undefined;
}
