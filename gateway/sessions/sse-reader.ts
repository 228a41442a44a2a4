// Reads a text/event-stream body into messages (the subset our own agent and vault send: id, event,
// data; comments and retry ignored).
import { MAX_LINE_CHARS, readLines } from '../../sandbox-agent/lines.ts';

export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

/** Throws on an event past `maxChars` (see MAX_LINE_CHARS): a sandbox's stream must not exhaust its reader. */
export async function* readSse(body: ReadableStream<Uint8Array>, maxChars = MAX_LINE_CHARS): AsyncGenerator<SseMessage> {
  let block: string[] = [];
  let size = 0;
  for await (const line of readLines(body, maxChars)) {
    if (line !== '') {
      block.push(line);
      if ((size += line.length) > maxChars) throw new Error(`an event longer than ${maxChars} characters: the stream is not the event stream expected`);
      continue;
    }
    const message = parseBlock(block);
    [block, size] = [[], 0];
    if (message) yield message;
  }
}

function parseBlock(lines: string[]): SseMessage | undefined {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of lines) {
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
