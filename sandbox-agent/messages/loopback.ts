// Talking to a harness program on the sandbox's loopback: waiting for it to answer, and reading the
// line-based streams (NDJSON, SSE) it sends back.
import { setTimeout as sleep } from 'node:timers/promises';
import { TurnError } from './driver.ts';
import { readLines } from '../lines.ts';

const POLL_MS = 200;

/**
 * Resolves once `url` answers HTTP at all (any status): the program is listening. Rejects with a
 * TurnError after `timeoutMs`, or at once with an AbortError when `signal` fires.
 */
export async function waitUntilListening(url: string, what: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    signal.throwIfAborted();
    try {
      const response = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(2_000)]) });
      await response.body?.cancel();
      return;
    } catch (err) {
      signal.throwIfAborted();
      last = (err as Error).cause ? String(((err as Error).cause as Error).message) : (err as Error).message;
    }
    await sleep(POLL_MS, undefined, { signal });
  }
  throw new TurnError(`${what} did not answer on ${new URL(url).host} within ${Math.round(timeoutMs / 1000)} s (${last}); see the harness's terminal output, or restart the session`);
}

/** The `data:` payloads of an SSE stream (multi-line data joined with \n). */
export async function* readSseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let data: string[] = [];
  for await (const line of readLines(body)) {
    if (line === '') {
      if (data.length > 0) yield data.join('\n');
      data = [];
    } else if (line.startsWith('data:')) {
      data.push(line.slice(5).replace(/^ /, ''));
    }
  }
}

/** A JSON line or SSE payload, or undefined when it is not JSON (a program's stray output). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
