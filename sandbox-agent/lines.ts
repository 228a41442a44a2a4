// The agent's streamed answers (exec frames, turn events) are NDJSON: one JSON value per line. The
// gateway and the CLI read them with this too.

/** The lines of a byte stream, decoded as UTF-8, without their line ends. */
export async function* readLines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n')) !== -1) {
      yield buffered.slice(0, end).replace(/\r$/, '');
      buffered = buffered.slice(end + 1);
    }
  }
  buffered += decoder.decode();
  if (buffered) yield buffered;
}
