import { setTimeout as sleep } from 'node:timers/promises';

const FIRST_INTERVAL_MS = 5;
const MAX_INTERVAL_MS = 20;

/**
 * Polls `check` (short intervals at first, backing off to 20 ms) until it returns a value. Throws at
 * once when `failed` gives a reason, or when `timeoutMs` has passed.
 */
export async function pollUntil<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  opts: { timeoutMs: number; failed?: () => string | undefined },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (let interval = FIRST_INTERVAL_MS; ; interval = Math.min(interval * 1.5, MAX_INTERVAL_MS)) {
    const value = await check();
    if (value !== undefined) return value;
    const reason = opts.failed?.();
    if (reason) throw new Error(`${what}: ${reason}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${opts.timeoutMs / 1000} s`);
    await sleep(interval);
  }
}

/**
 * GET `url` until it answers 200, retrying timeouts and refused connections until `timeoutMs`: on
 * a loaded machine (20 sandboxes starting on 2 CPUs) a process can print "ready" seconds before it
 * gets the CPU to answer. Any other status is an answer, and an error at once.
 */
export async function awaitHealthy(what: string, url: string, headers: Record<string, string>, timeoutMs: number): Promise<void> {
  const status = await pollUntil(`${what} did not answer`, async () => {
    try {
      const response = await fetch(url, { headers, signal: AbortSignal.timeout(5_000) });
      await response.body?.cancel(); // only the status matters; the sandbox decides what the body is
      return response.status;
    } catch {
      return undefined;
    }
  }, { timeoutMs });
  if (status !== 200) throw new Error(`${what} answered ${status}`);
}
