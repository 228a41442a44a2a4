// One streaming search-and-replace for both directions of the vault: request bodies (stub → secret,
// or a refusal) and response bodies (every form of a secret → the same form of its stub).
import { Transform, type TransformCallback } from 'node:stream';

export interface StreamPattern {
  readonly from: Buffer;
  /** What replaces a match. May throw to refuse the whole stream (a blocked stub). */
  replace(): Buffer;
}

/** Longest first, so at one position the longest pattern wins. */
export function sortPatterns<P extends StreamPattern>(patterns: readonly P[]): P[] {
  return patterns.filter((p) => p.from.length > 0).sort((a, b) => b.from.length - a.from.length);
}

/** Replaces every match in a whole buffer (headers, WebSocket messages). Patterns must be sorted. */
export function replaceInBuffer(bytes: Buffer, patterns: readonly StreamPattern[]): Buffer {
  const { pieces, end } = replaceMatches(bytes, patterns, Infinity);
  if (end === 0) return bytes;
  pieces.push(bytes.subarray(end));
  return Buffer.concat(pieces);
}

/**
 * Leftmost-longest replacement over a stream. Of the last (longest pattern − 1) bytes seen it holds back
 * only those that could still begin a match, so a match split across chunks is found, the output is the
 * same however the input is chunked, and a streamed event ending in ordinary text (an SSE record's
 * blank line) is passed on at once. Never buffers more than that. Patterns must be sorted.
 */
export function createStreamReplacer(patterns: readonly StreamPattern[]): Transform {
  const holdBack = Math.max(0, (patterns[0]?.from.length ?? 0) - 1);
  let held: Buffer = Buffer.alloc(0);
  const emit = (stream: Transform, bytes: Buffer, final: boolean, done: TransformCallback) => {
    try {
      const { pieces, keepFrom } = replaceStreamed(bytes, patterns, final ? Infinity : bytes.length - holdBack);
      held = Buffer.from(bytes.subarray(keepFrom)); // a copy, so a big chunk is not retained by a view
      const output = Buffer.concat(pieces);
      if (output.length > 0) stream.push(output);
      done();
    } catch (err) {
      done(err as Error);
    }
  };
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      emit(this, held.length > 0 ? Buffer.concat([held, chunk]) : chunk, false, done);
    },
    flush(done: TransformCallback) {
      emit(this, held, true, done);
    },
  });
}

/**
 * Before `tailStart` the longest pattern fits entirely, so native indexOf decides. In the tail, each
 * position is checked against every pattern: a complete match is replaced, a pattern that agrees with
 * every byte present but runs past the end means more input is needed, so the rest is held.
 */
function replaceStreamed(bytes: Buffer, patterns: readonly StreamPattern[], tailStart: number): { pieces: Buffer[]; keepFrom: number } {
  const { pieces, end } = replaceMatches(bytes, patterns, tailStart);
  let emitted = end;
  let p = Math.max(end, tailStart);
  while (p < bytes.length) {
    const pattern = longestAgreeing(bytes, patterns, p);
    if (pattern && p + pattern.from.length > bytes.length) break;
    if (pattern) {
      pieces.push(bytes.subarray(emitted, p), pattern.replace());
      emitted = p += pattern.from.length;
    } else p++;
  }
  pieces.push(bytes.subarray(emitted, p));
  return { pieces, keepFrom: p };
}

/** The longest pattern that agrees with every byte present from `p` on (it may run past the end). */
function longestAgreeing(bytes: Buffer, patterns: readonly StreamPattern[], p: number): StreamPattern | undefined {
  return patterns.find(({ from }) => {
    if (bytes[p] !== from[0]) return false;
    const n = Math.min(from.length, bytes.length - p);
    return bytes.compare(from, 0, n, p, p + n) === 0;
  });
}

/** Replaces matches that start before `startLimit`; returns the pieces and where the last match ended. */
function replaceMatches(bytes: Buffer, patterns: readonly StreamPattern[], startLimit: number): { pieces: Buffer[]; end: number } {
  const pieces: Buffer[] = [];
  const nextAt = patterns.map((p) => bytes.indexOf(p.from));
  let end = 0;
  for (let i = earliest(nextAt); i >= 0 && nextAt[i]! < startLimit; i = earliest(nextAt)) {
    const pattern = patterns[i]!;
    pieces.push(bytes.subarray(end, nextAt[i]), pattern.replace());
    end = nextAt[i]! + pattern.from.length;
    nextAt.forEach((at, j) => {
      if (at >= 0 && at < end) nextAt[j] = bytes.indexOf(patterns[j]!.from, end);
    });
  }
  return { pieces, end };
}

/** Index of the earliest match; on a tie the lowest index, which is the longest pattern. */
function earliest(nextAt: readonly number[]): number {
  let best = -1;
  nextAt.forEach((at, i) => {
    if (at >= 0 && (best < 0 || at < nextAt[best]!)) best = i;
  });
  return best;
}
