// The measurements, in order: each one direct then through the vault, with the same load client; the
// floor proxy's keep-alive figures after the vault's.
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { ask, type ChildGroup, readCpuSeconds, readRssMiB, stopChild } from './children.ts';
import type { Job, JobResult, KeepAliveResult, Rate, SseResult, Target } from './load.ts';
import type { BenchResults, CpuPerRequest, FloorFigures, Pair, RssFigures, RssSample } from './report.ts';
import { COLD_NAMES, type Paths, WARM_HOST } from './setup.ts';
import type { BenchVault } from './vault-process.ts';

export interface BenchSettings {
  /** Keep-alive traffic on each path once, before any figure: a fresh vault runs slower until V8 has compiled its hot path. */
  jitWarmupMs: number;
  /** Before each figure. */
  warmupMs: number;
  measureMs: number;
  concurrency: number;
  sseCount: number;
  rssLoadS: number;
  rssEveryS: number;
  /** The early RSS sample that growth is measured from. */
  rssEarlyS: number;
}

const MAX_REQUESTS = 5_000_000;
/** What a job may take beyond its own duration before the bench gives up on it. */
const JOB_SLACK_MS = 30_000;
const SETTLE_MS = 1_000;

export const progress = (message: string) => process.stderr.write(`bench:vault  ${message}\n`);

export interface BenchProcesses {
  vault: BenchVault;
  upstreamPid: number;
  floorPid: number;
}

export async function measureAll(group: ChildGroup, load: ChildProcess, processes: BenchProcesses, paths: Paths, s: BenchSettings): Promise<BenchResults> {
  const { vault, floorPid } = processes;
  const [bareNodeMiB] = await Promise.all([measureBareNodeRss(group), sleep(SETTLE_MS)]);
  const idleMiB = readRssMiB(vault.pid);
  await warmUpEveryPath(load, paths, s);
  const timed = { durationMs: s.measureMs, concurrency: s.concurrency };
  const keepAlive = await both<KeepAliveResult>(load, paths, s, 'keep-alive small JSON',
    (target) => ({ kind: 'keepalive', target, host: WARM_HOST, warmupMs: s.warmupMs, maxRequests: MAX_REQUESTS, ...timed }));
  const floor = await floorFigures(load, floorPid, paths.floor, s);
  const oneAtATime = await both<KeepAliveResult>(load, paths, s, 'keep-alive small JSON, one request at a time',
    (target) => ({ kind: 'keepalive', target, host: WARM_HOST, warmupMs: s.warmupMs, maxRequests: MAX_REQUESTS, durationMs: s.measureMs, concurrency: 1 }));
  const sse = await both<SseResult>(load, paths, s, 'SSE time to first byte',
    (target) => ({ kind: 'sse', target, host: WARM_HOST, count: s.sseCount }));
  const underLoad = await rssUnderLoad(load, processes, paths.vault, s);
  const handshakesWarm = await both<Rate>(load, paths, s, 'new TLS connections, warm cache',
    (target) => ({ kind: 'handshakes', target, names: [WARM_HOST], ...timed }));
  const handshakesCold = await both<Rate>(load, paths, s, 'new TLS connections, cold cache',
    (target) => ({ kind: 'handshakes', target, names: COLD_NAMES, ...timed }));
  const afterCold = { mib: readRssMiB(vault.pid), names: handshakesCold.vault.count };
  const { cpu, ...rssUnder } = underLoad;
  return { keepAlive, floor, oneAtATime, sse, handshakesWarm, handshakesCold, cpu, rss: { bareNodeMiB, idleMiB, ...rssUnder, afterCold } };
}

/** The same job against the upstream directly, then through the vault. */
async function both<R extends JobResult>(load: ChildProcess, paths: Paths, s: BenchSettings, what: string, job: (target: Target) => Job): Promise<Pair<R>> {
  const run = async (path: keyof Paths) => {
    progress(`${what}: ${path}`);
    const reply = await ask<{ result: R }>(load, job(paths[path]), s.warmupMs + s.measureMs + JOB_SLACK_MS, `${what} (${path})`);
    return reply.result;
  };
  const direct = await run('direct');
  return { direct, vault: await run('vault') };
}

/**
 * Without this the first figures catch the vault still warming up: after 3 s of traffic it served 2 100
 * requests/s, after 10 s 3 300-3 900 (V8 tiers its hot path up gradually, and the vault runs with
 * --no-maglev for its idle memory). Every path gets the same, so the direct baseline is as warm.
 */
async function warmUpEveryPath(load: ChildProcess, paths: Paths, s: BenchSettings): Promise<void> {
  for (const path of ['direct', 'vault', 'floor'] as const) {
    progress(`warming up: ${s.jitWarmupMs / 1000} s of keep-alive traffic, ${path}`);
    const job: Job = { kind: 'keepalive', target: paths[path], host: WARM_HOST, warmupMs: 0, durationMs: s.jitWarmupMs, concurrency: s.concurrency, maxRequests: MAX_REQUESTS };
    await ask(load, job, s.jitWarmupMs + JOB_SLACK_MS, `warm-up (${path})`);
  }
}

/** The floor proxy: keep-alive throughput as for the other two paths, then its CPU per request over a second run. */
async function floorFigures(load: ChildProcess, pid: number, target: Target, s: BenchSettings): Promise<FloorFigures> {
  const job = (warmupMs: number): Job => ({ kind: 'keepalive', target, host: WARM_HOST, warmupMs, durationMs: s.measureMs, concurrency: s.concurrency, maxRequests: MAX_REQUESTS });
  const run = async (warmupMs: number) => (await ask<{ result: KeepAliveResult }>(load, job(warmupMs), warmupMs + s.measureMs + JOB_SLACK_MS, 'floor proxy')).result;
  progress('keep-alive small JSON: floor proxy');
  const keepAlive = await run(s.warmupMs);
  progress('CPU per request: floor proxy');
  const before = readCpuSeconds(pid);
  const counted = await run(0);
  return { keepAlive, cpuUs: ((readCpuSeconds(pid) - before) / counted.count) * 1e6 };
}

/**
 * Keep-alive load through the vault for rssLoadS seconds, reading its RSS every rssEveryS, and the CPU
 * the vault and the upstream spent on those same requests.
 */
async function rssUnderLoad(load: ChildProcess, { vault, upstreamPid }: BenchProcesses, target: Target, s: BenchSettings): Promise<Pick<RssFigures, 'samples' | 'early' | 'late'> & { cpu: CpuPerRequest }> {
  progress(`vault RSS under ${s.rssLoadS} s of keep-alive load`);
  const samples: RssSample[] = [];
  const started = performance.now();
  const timer = setInterval(() => {
    const sample = { atS: Math.round((performance.now() - started) / 1000), mib: readRssMiB(vault.pid) };
    samples.push(sample);
    progress(`  ${sample.atS} s: ${sample.mib.toFixed(1)} MiB`);
  }, s.rssEveryS * 1000);
  try {
    // Half a second past the last sample, so every sample is taken under load.
    const durationMs = s.rssLoadS * 1000 + 500;
    const job: Job = { kind: 'keepalive', target, host: WARM_HOST, warmupMs: 0, durationMs, concurrency: s.concurrency, maxRequests: MAX_REQUESTS };
    const cpuBefore = [readCpuSeconds(vault.pid), readCpuSeconds(upstreamPid)];
    const { result } = await ask<{ result: KeepAliveResult }>(load, job, durationMs + JOB_SLACK_MS, 'RSS under load');
    progress(`  ${Math.round(result.perSecond)} requests/s`);
    const perRequestUs = (pid: number, before: number) => ((readCpuSeconds(pid) - before) / result.count) * 1e6;
    const cpu = { vaultUs: perRequestUs(vault.pid, cpuBefore[0]!), upstreamUs: perRequestUs(upstreamPid, cpuBefore[1]!) };
    const at = (atS: number) => samples.find((sample) => sample.atS === atS) ?? { atS, mib: Number.NaN };
    return { samples, early: at(s.rssEarlyS), late: at(s.rssLoadS), cpu };
  } finally {
    clearInterval(timer);
  }
}

/** The RSS of an idle `node` that has loaded nothing: the floor every Node process pays. */
async function measureBareNodeRss(group: ChildGroup): Promise<number> {
  const bare = group.spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    await sleep(SETTLE_MS * 0.8);
    return readRssMiB(bare.pid ?? 0);
  } finally {
    await stopChild(bare);
  }
}
