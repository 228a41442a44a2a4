// The load client, forked by main.ts so it has an event loop of its own. The same code measures both
// paths: only the port, the trusted CA and the credential (real or stub) differ. Every name is dialled
// at 127.0.0.1 and sent as SNI and Host, exactly as a sandboxed client would send it.
import { connect as connectTls, createSecureContext, type SecureContext } from 'node:tls';
import { Pool } from 'undici';

export interface Target {
  port: number;
  caPem: string;
  /** `Bearer <real value>` direct, `Bearer <stub>` through the vault. */
  authorization: string;
}

export type Job =
  | { kind: 'keepalive'; target: Target; host: string; warmupMs: number; durationMs: number; concurrency: number; maxRequests: number }
  | { kind: 'handshakes'; target: Target; names: readonly string[]; durationMs: number; concurrency: number }
  | { kind: 'sse'; target: Target; host: string; count: number };

export interface Rate {
  count: number;
  seconds: number;
  perSecond: number;
}
export interface KeepAliveResult extends Rate { p50Ms: number; p99Ms: number }
export interface SseResult { count: number; p50Ms: number; p99Ms: number }
export type JobResult = KeepAliveResult | Rate | SseResult;
export type LoadReply = { result: JobResult } | { error: string };

const TIMEOUT_MS = 10_000;
const LOOPBACK = '127.0.0.1';

function openPool(target: Target, host: string, connections: number): Pool {
  type LookupCallback = (err: Error | null, address: string | { address: string; family: number }[], family?: number) => void;
  const lookup = (_name: string, options: { all?: boolean }, done: LookupCallback) =>
    options.all ? done(null, [{ address: LOOPBACK, family: 4 }]) : done(null, LOOPBACK, 4);
  return new Pool(`https://${host}:${target.port}`, {
    connections,
    pipelining: 1,
    // HTTP/1.1 on purpose, as most sandboxed clients speak it (curl, Python, Node's https); undici 8 would offer h2.
    allowH2: false,
    headersTimeout: TIMEOUT_MS,
    bodyTimeout: TIMEOUT_MS,
    connect: { ca: target.caPem, lookup, timeout: TIMEOUT_MS },
  });
}

/** One GET that must answer 200; returns the response body. */
async function get(pool: Pool, target: Target, host: string, path: string): Promise<Buffer> {
  const res = await pool.request({ method: 'GET', path, headers: { host, authorization: target.authorization } });
  const body = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode !== 200) throw new Error(`GET https://${host}${path} answered ${res.statusCode}: ${body.toString('utf8', 0, 200)}`);
  return body;
}

/** `concurrency` loops calling `step` until the deadline or `maxSteps`; returns the steps done and the time taken. */
async function runLoops(concurrency: number, durationMs: number, maxSteps: number, step: (i: number) => Promise<void>): Promise<Rate> {
  const started = performance.now();
  const deadline = started + durationMs;
  let next = 0;
  const loop = async () => {
    while (performance.now() < deadline && next < maxSteps) await step(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const seconds = (performance.now() - started) / 1000;
  return { count: next, seconds, perSecond: next / seconds };
}

async function keepAlive(job: Extract<Job, { kind: 'keepalive' }>): Promise<KeepAliveResult> {
  const pool = openPool(job.target, job.host, job.concurrency);
  try {
    const request = () => get(pool, job.target, job.host, '/small').then(() => {});
    await runLoops(job.concurrency, job.warmupMs, job.maxRequests, request);
    const latencies: number[] = [];
    const rate = await runLoops(job.concurrency, job.durationMs, job.maxRequests, async () => {
      const t0 = performance.now();
      await request();
      latencies.push(performance.now() - t0);
    });
    return { ...rate, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99) };
  } finally {
    await pool.destroy();
  }
}

/** Fresh TLS connection (full handshake, no session reuse), one request with `connection: close`, gone. */
function connectRequestClose(target: Target, context: SecureContext, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host: LOOPBACK, port: target.port, servername: name, secureContext: context, ALPNProtocols: ['http/1.1'] });
    const chunks: Buffer[] = [];
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error(`connection to ${name} timed out`)));
    socket.once('secureConnect', () => {
      socket.write(`GET /small HTTP/1.1\r\nhost: ${name}\r\nauthorization: ${target.authorization}\r\nconnection: close\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', reject);
    socket.once('close', (hadError) => {
      const head = Buffer.concat(chunks).toString('latin1', 0, 200);
      if (head.startsWith('HTTP/1.1 200 ')) resolve();
      else if (!hadError) reject(new Error(`new connection to ${name} answered: ${head.split('\r\n')[0] || '(nothing)'}`));
    });
  });
}

async function handshakes(job: Extract<Job, { kind: 'handshakes' }>): Promise<Rate> {
  const context = createSecureContext({ ca: job.target.caPem });
  const nameAt = (i: number) => job.names[i % job.names.length] ?? '';
  // One name (warm cache): as many connections as the time allows. Several (cold cache): each name
  // once, so the run stops early when the names run out, and its rate stays a cold-cache rate.
  const maxSteps = job.names.length === 1 ? Number.MAX_SAFE_INTEGER : job.names.length;
  return runLoops(job.concurrency, job.durationMs, maxSteps, (i) => connectRequestClose(job.target, context, nameAt(i)));
}

/** One request at a time over one kept-alive connection: time from sending to the first event's bytes. */
async function sseFirstByte(job: Extract<Job, { kind: 'sse' }>): Promise<SseResult> {
  const pool = openPool(job.target, job.host, 1);
  const firstByte: number[] = [];
  try {
    await get(pool, job.target, job.host, '/small'); // the connection's handshake is not part of any sample
    for (let i = 0; i < job.count; i++) {
      const t0 = performance.now();
      const res = await pool.request({ method: 'GET', path: '/sse', headers: { host: job.host, authorization: job.target.authorization, accept: 'text/event-stream' } });
      if (res.statusCode !== 200) throw new Error(`GET /sse answered ${res.statusCode}`);
      let first = true;
      for await (const _chunk of res.body) {
        if (first) firstByte.push(performance.now() - t0);
        first = false;
      }
    }
    return { count: firstByte.length, p50Ms: percentile(firstByte, 0.5), p99Ms: percentile(firstByte, 0.99) };
  } finally {
    await pool.destroy();
  }
}

function percentile(samples: number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = samples.toSorted((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function run(job: Job): Promise<JobResult> {
  if (job.kind === 'keepalive') return keepAlive(job);
  if (job.kind === 'handshakes') return handshakes(job);
  return sseFirstByte(job);
}

const send = (reply: LoadReply) => process.send?.(reply);
process.on('message', (job: Job) => {
  run(job).then((result) => send({ result }), (err: Error) => send({ error: err.message }));
});
process.once('disconnect', () => process.exit(0));
