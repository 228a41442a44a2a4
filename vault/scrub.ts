// Response scrubbing (DESIGN.md §3 item 6): every form of every real value an upstream echoes is
// replaced by the same form of its stub before the sandbox sees it. The forms are in scrub-forms.ts,
// the streaming search in stream-replace.ts.
import type { Transform } from 'node:stream';
import { replacementsFor } from './scrub-forms.ts';
import { type StreamPattern, createStreamReplacer, replaceInBuffer } from './stream-replace.ts';

export interface ScrubPair {
  value: string;
  stub: string;
}

/** Replaces every form of every value in a header value or other short string. */
export function scrubText(text: string, pairs: readonly ScrubPair[]): string {
  return createTextScrubber(pairs)(text);
}

/** scrubText with the patterns computed once, for scrubbing many header values of one response. */
export function createTextScrubber(pairs: readonly ScrubPair[]): (text: string) => string {
  const scrub = createByteScrubber(pairs);
  return (text) => scrub(Buffer.from(text, 'utf8')).toString('utf8');
}

/** Scrubs a whole buffer (a WebSocket message, a response head) with the patterns computed once. */
export function createByteScrubber(pairs: readonly ScrubPair[]): (bytes: Buffer) => Buffer {
  const patterns = compile(pairs);
  return (bytes) => replaceInBuffer(bytes, patterns);
}

/** Streaming scrubber for a body; see createStreamReplacer for what it holds back and why. */
export function createScrubber(pairs: readonly ScrubPair[]): Transform {
  return createStreamReplacer(compile(pairs));
}

function compile(pairs: readonly ScrubPair[]): StreamPattern[] {
  if (!Array.isArray(pairs)) throw new TypeError('scrub pairs: expected an array of { value, stub }');
  pairs.forEach((pair, i) => {
    if (typeof pair?.value !== 'string') throw new TypeError(`scrub pairs[${i}].value: expected a string`);
    if (typeof pair.stub !== 'string') throw new TypeError(`scrub pairs[${i}].stub: expected a string`);
  });
  return replacementsFor(pairs).map(({ from, to }) => ({ from, replace: () => to }));
}
