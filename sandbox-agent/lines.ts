// The agent's streamed answers (exec frames, turn events) are NDJSON: one JSON value per line. The
// gateway and the CLI read them with this too.

/**
 * The longest line read: far above any real frame or event (a message is at most 1 MiB), and low
 * enough that a stream that never ends its line (a compromised sandbox's) cannot exhaust the reader.
 */
export const MAX_LINE_CHARS = 16 * 1024 * 1024;

/** The lines of a byte stream, decoded as UTF-8, without their line ends; throws on a line past `maxChars`. */
export async function* readLines(body: ReadableStream<Uint8Array>, maxChars = MAX_LINE_CHARS): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body) {
    const scanFrom = buffered.length;
    buffered += decoder.decode(chunk, { stream: true });
    let end = buffered.indexOf('\n', scanFrom);
    while (end !== -1) {
      yield buffered.slice(0, end).replace(/\r$/, '');
      buffered = buffered.slice(end + 1);
      end = buffered.indexOf('\n');
    }
    if (buffered.length > maxChars) throw new Error(`a line longer than ${maxChars} characters: the stream is not the NDJSON expected`);
  }
  buffered += decoder.decode();
  if (buffered) yield buffered;
}
