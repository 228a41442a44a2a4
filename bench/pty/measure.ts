// The measurements, written once against a ByteChannel so the baseline and the agent run the same code
// and the same shell commands.
import type { ByteChannel } from './channel.ts';

/** No single step may take longer than this: a hang fails the bench instead of stalling it. */
const STEP_LIMIT_MS = 60_000;

export interface Throughput {
  bytes: number;
  seconds: number;
  mbPerSecond: number;
}

export interface EchoLatency {
  p50Ms: number;
  p99Ms: number;
  count: number;
}

/** Resolves when `marker` has appeared in the output (also across chunk boundaries); counts bytes. */
function watchFor(channel: ByteChannel, marker: string, what: string): Promise<number> {
  const needle = Buffer.from(marker);
  let tail: Buffer = Buffer.alloc(0);
  let bytes = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${JSON.stringify(marker)} within ${STEP_LIMIT_MS / 1000} s (${what})`)), STEP_LIMIT_MS);
    channel.onOutput((chunk) => {
      bytes += chunk.length;
      const seam = Buffer.concat([tail, chunk.subarray(0, needle.length - 1)]);
      if (chunk.includes(needle) || seam.includes(needle)) {
        clearTimeout(timer);
        channel.onOutput(() => {});
        resolve(bytes);
      }
      tail = chunk.subarray(Math.max(0, chunk.length - (needle.length - 1)));
    });
  });
}

/** Types a command line into the shell and waits for its marker (written as arithmetic so the echo of the line does not match). */
export async function runUntil(channel: ByteChannel, commandLine: string, marker: string): Promise<void> {
  const seen = watchFor(channel, marker, commandLine);
  channel.write(`${commandLine}\r`);
  await seen;
}

/** MB/s of `cat file` to the terminal, from the Enter that starts it to the marker printed after it. */
export async function bulkThroughput(channel: ByteChannel, file: string): Promise<Throughput> {
  const finished = watchFor(channel, 'END-42', `cat ${file}`);
  const start = performance.now();
  channel.write(`cat ${file}; echo END-$((40+2))\r`);
  const bytes = await finished;
  const seconds = (performance.now() - start) / 1000;
  return { bytes, seconds, mbPerSecond: bytes / 1e6 / seconds };
}

/** Round trips of single keystrokes through `cat` in raw mode: the byte goes in, cat writes it back. */
export async function echoLatency(channel: ByteChannel, count: number, warmup: number): Promise<EchoLatency> {
  await runUntil(channel, 'stty raw -echo; echo READY-$((30+3)); exec cat', 'READY-33');
  const samples: number[] = [];
  for (let i = 0; i < warmup + count; i++) {
    const key = String.fromCharCode(97 + (i % 26));
    const echoed = watchFor(channel, key, 'a keystroke echo');
    const start = performance.now();
    channel.write(key);
    await echoed;
    if (i >= warmup) samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { p50Ms: quantile(samples, 0.5), p99Ms: quantile(samples, 0.99), count };
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}
