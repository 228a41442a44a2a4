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

export interface Scrubber {
  /** A header value or other short string. */
  text(text: string): string;
  /** A whole buffer: a WebSocket message, a response head. */
  bytes(bytes: Buffer): Buffer;
  /** A new streaming scrubber for one body; see createStreamReplacer for what it holds back and why. */
  stream(): Transform;
}

const compiled = new WeakMap<readonly ScrubPair[], Scrubber>();

/**
 * The scrubber for a set of pairs, built once: computing every form of every value is the costly part,
 * and the vault's credential set only changes when the control API replaces it (a new array).
 */
export function scrubberFor(pairs: readonly ScrubPair[]): Scrubber {
  let scrubber = compiled.get(pairs);
  if (!scrubber) compiled.set(pairs, (scrubber = compileScrubber(pairs)));
  return scrubber;
}

function compileScrubber(pairs: readonly ScrubPair[]): Scrubber {
  const patterns = compile(pairs);
  const bytes = (input: Buffer) => replaceInBuffer(input, patterns);
  return {
    text: (text) => bytes(Buffer.from(text, 'utf8')).toString('utf8'),
    bytes,
    stream: () => createStreamReplacer(patterns),
  };
}

/** Replaces every form of every value in a string. */
export function scrubText(text: string, pairs: readonly ScrubPair[]): string {
  return compileScrubber(pairs).text(text);
}

export function createByteScrubber(pairs: readonly ScrubPair[]): (bytes: Buffer) => Buffer {
  return compileScrubber(pairs).bytes;
}

export function createScrubber(pairs: readonly ScrubPair[]): Transform {
  return compileScrubber(pairs).stream();
}

function compile(pairs: readonly ScrubPair[]): StreamPattern[] {
  if (!Array.isArray(pairs)) throw new TypeError('scrub pairs: expected an array of { value, stub }');
  pairs.forEach((pair, i) => {
    if (typeof pair?.value !== 'string') throw new TypeError(`scrub pairs[${i}].value: expected a string`);
    if (typeof pair.stub !== 'string') throw new TypeError(`scrub pairs[${i}].stub: expected a string`);
  });
  return replacementsFor(pairs).map(({ from, to }) => ({ from, replace: () => to }));
}
