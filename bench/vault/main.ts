// bench/vault: the same load client against the same local HTTPS upstream, direct and through the real
// vault, in one run; prints each figure beside its baseline and writes the table to docs/benchmarks.md.
// `npm run bench:vault` (BENCH_QUICK=1 for a short smoke run that does not touch the doc).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ask, ChildGroup, readRssMiB, stopChild } from './children.ts';
import type { Job, JobResult, KeepAliveResult, Rate, SseResult, Target } from './load.ts';
import { type BenchResults, buildRows, formatMarkdown, formatText, type Pair, type Row, type RssFigures, writeDocSection } from './report.ts';
import type { UpstreamReply, UpstreamSetup } from './upstream.ts';
import { type BenchVault, configureVault, startVaultProcess } from './vault-process.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const SETTINGS = QUICK
  ? { warmupMs: 300, measureMs: 1_500, sseCount: 10, rssLoadS: 15, rssEveryS: 5, rssEarlyS: 5 }
  : { warmupMs: 1_000, measureMs: 5_000, sseCount: 50, rssLoadS: 60, rssEveryS: 5, rssEarlyS: 10 };
const CONCURRENCY = 16;
const MAX_REQUESTS = 5_000_000;
const DOMAIN = 'bench.test';
const WARM_HOST = `api.${DOMAIN}`;
const COLD_NAMES = Array.from({ length: 10_000 }, (_, i) => `h${i}.${DOMAIN}`);
/** Every phase is bounded; this only catches a hang. */
const WATCHDOG_MS = 5 * 60_000;
const JOB_SLACK_MS = 30_000;
const DOC_PATH = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));
const HERE = (name: string) => fileURLToPath(new URL(name, import.meta.url));

interface Paths {
  direct: Target;
  vault: Target;
}

const progress = (message: string) => process.stderr.write(`bench:vault  ${message}\n`);

async function runBench(group: ChildGroup, dir: string): Promise<BenchResults> {
  const realValue = `ghp_${randomBytes(36).toString('base64url').replace(/[-_]/g, '').slice(0, 36)}`;
  const upstream = group.fork(HERE('./upstream.ts'));
  const setup: UpstreamSetup = { domain: DOMAIN, expectedAuthorization: `Bearer ${realValue}` };
  const { ready } = await ask<Extract<UpstreamReply, { ready: unknown }>>(upstream, setup, 30_000, 'upstream');
  const upstreamCaFile = join(dir, 'upstream-ca.pem');
  writeFileSync(upstreamCaFile, ready.caPem);

  const upstreamAddress = `127.0.0.1:${ready.port}`;
  const hosts = Object.fromEntries([WARM_HOST, ...COLD_NAMES].map((name) => [name, upstreamAddress]));
  const nodeFlags = (process.env.BENCH_VAULT_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const vault = await startVaultProcess(group, { dir, upstreamCaFile, hosts, nodeFlags });
  const { stub, caPem } = await configureVault(vault, { name: 'BENCH_TOKEN', value: realValue, hosts: [`*.${DOMAIN}`] }, [`*.${DOMAIN}`]);
  progress(`upstream on :${ready.port}, vault pid ${vault.pid} on :${vault.ports.tls} (${nodeFlags.join(' ') || 'no extra node flags'})`);

  const [bareNodeMiB] = await Promise.all([measureBareNodeRss(group), sleep(1_000)]);
  const idleMiB = readRssMiB(vault.pid);
  const paths: Paths = {
    direct: { port: ready.port, caPem: ready.caPem, authorization: `Bearer ${realValue}` },
    vault: { port: vault.ports.tls, caPem, authorization: `Bearer ${stub}` },
  };
  const load = group.fork(HERE('./load.ts'));
  const measureMs = SETTINGS.measureMs;
  const keepAlive = await both<KeepAliveResult>(load, paths, 'keep-alive small JSON', (target) => ({ kind: 'keepalive', target, host: WARM_HOST, warmupMs: SETTINGS.warmupMs, durationMs: measureMs, concurrency: CONCURRENCY, maxRequests: MAX_REQUESTS }));
  const sse = await both<SseResult>(load, paths, 'SSE time to first byte', (target) => ({ kind: 'sse', target, host: WARM_HOST, count: SETTINGS.sseCount }));
  const underLoad = await rssUnderLoad(load, vault, paths.vault);
  const handshakesWarm = await both<Rate>(load, paths, 'new TLS connections, warm cache', (target) => ({ kind: 'handshakes', target, names: [WARM_HOST], durationMs: measureMs, concurrency: CONCURRENCY }));
  const handshakesCold = await both<Rate>(load, paths, 'new TLS connections, cold cache', (target) => ({ kind: 'handshakes', target, names: COLD_NAMES, durationMs: measureMs, concurrency: CONCURRENCY }));
  const afterCold = { mib: readRssMiB(vault.pid), names: handshakesCold.vault.count };
  await stopChild(load);
  return { keepAlive, sse, handshakesWarm, handshakesCold, rss: { bareNodeMiB, idleMiB, ...underLoad, afterCold } };
}

/** The same job against the upstream directly, then through the vault. */
async function both<R extends JobResult>(load: ReturnType<ChildGroup['fork']>, paths: Paths, what: string, job: (target: Target) => Job): Promise<Pair<R>> {
  const run = (path: keyof Paths) => {
    progress(`${what}: ${path}`);
    return ask<{ result: R }>(load, job(paths[path]), jobBudgetMs(), `${what} (${path})`).then((reply) => reply.result);
  };
  const direct = await run('direct');
  return { direct, vault: await run('vault') };
}

function jobBudgetMs(durationMs = SETTINGS.warmupMs + SETTINGS.measureMs): number {
  return durationMs + JOB_SLACK_MS;
}

/** Keep-alive load through the vault for rssLoadS seconds, reading its RSS every rssEveryS. */
async function rssUnderLoad(load: ReturnType<ChildGroup['fork']>, vault: BenchVault, target: Target): Promise<Pick<RssFigures, 'early' | 'late'>> {
  const { rssLoadS, rssEveryS, rssEarlyS } = SETTINGS;
  progress(`vault RSS under ${rssLoadS} s of keep-alive load`);
  const samples = new Map<number, number>();
  const started = performance.now();
  const timer = setInterval(() => {
    const atS = Math.round((performance.now() - started) / 1000);
    samples.set(atS, readRssMiB(vault.pid));
    progress(`  RSS at ${atS} s: ${samples.get(atS)?.toFixed(1)} MiB`);
  }, rssEveryS * 1000);
  try {
    // Half a second past the last sample, so every sample is taken under load.
    const durationMs = rssLoadS * 1000 + 500;
    const job: Job = { kind: 'keepalive', target, host: WARM_HOST, warmupMs: 0, durationMs, concurrency: CONCURRENCY, maxRequests: MAX_REQUESTS };
    await ask(load, job, jobBudgetMs(durationMs), 'RSS load');
  } finally {
    clearInterval(timer);
  }
  const at = (s: number) => ({ atS: s, mib: samples.get(s) ?? Number.NaN });
  return { early: at(rssEarlyS), late: at(rssLoadS) };
}

/** The RSS of an idle `node` that has loaded nothing: the floor any Node process pays. */
async function measureBareNodeRss(group: ChildGroup): Promise<number> {
  const bare = group.spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    await sleep(800);
    return readRssMiB(bare.pid ?? 0);
  } finally {
    await stopChild(bare);
  }
}

function machine(): string {
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${availableParallelism()} CPUs (${model}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Linux ${release()}, Node ${process.version}`;
}

function methodNote(): string {
  return [
    `Method: everything on loopback in four processes (upstream, vault, load client, this orchestrator), so the`,
    `vault path shares the machine's CPUs with one more busy process than the direct path. The load client is one`,
    `undici Pool speaking HTTP/1.1, ${CONCURRENCY} requests in flight, ${SETTINGS.warmupMs / 1000} s warm-up then ${SETTINGS.measureMs / 1000} s per figure; direct it`,
    `sends the real credential to the upstream, through the vault a stub that the vault swaps (and every response`,
    `is scrubbed). The vault speaks HTTP/2 to the upstream. New connections: full TLS handshake, one request,`,
    `close, ${CONCURRENCY} at a time; warm = always ${WARM_HOST}, cold = a new name each time (the vault mints a leaf; the`,
    `upstream has one wildcard certificate). SSE: ${SETTINGS.sseCount} sequential requests on one connection. RSS from /proc.`,
  ].join('\n');
}

function report(rows: Row[]): void {
  const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const quickNote = QUICK ? ' — BENCH_QUICK=1: shortened, not representative' : '';
  console.log(`\nbench:vault  ${date} UTC  ${machine()}${quickNote}\n`);
  console.log(formatText(rows));
  console.log(`\nReproduce: npm run bench:vault   (BENCH_QUICK=1 for a smoke run)\n`);
  const misses = rows.filter((r) => r.result === 'MISS').map((r) => r.measure);
  if (misses.length > 0) console.log(`Missed targets: ${misses.join('; ')}\n`);
  if (QUICK) return void console.log('Quick run: docs/benchmarks.md left as it was.');
  recordInDoc(date, rows);
}

function recordInDoc(date: string, rows: Row[]): void {
  const body = [
    `Run ${date} UTC on ${machine()}. Reproduce with \`npm run bench:vault\` (about two minutes; it starts the`,
    'upstream, the real vault and the load client itself and stops them at the end). `BENCH_QUICK=1 npm run',
    'bench:vault` shortens every phase for a smoke run; it prints the table but does not write this file.',
    '',
    formatMarkdown(rows),
    '',
    methodNote(),
  ].join('\n');
  writeDocSection(DOC_PATH, '## Vault (bench/vault)', body);
  console.log(`Recorded in ${DOC_PATH}`);
}

async function main(): Promise<void> {
  const group = new ChildGroup();
  const dir = mkdtempSync(join(tmpdir(), 'lap-bench-vault-'));
  let cleaning: Promise<void> | undefined;
  const cleanup = () => (cleaning ??= group.stopAll().finally(() => rmSync(dir, { recursive: true, force: true })));
  const abort = (why: string, code: number) => {
    progress(`${why}: stopping the bench's processes`);
    void cleanup().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => abort('SIGINT', 130));
  process.once('SIGTERM', () => abort('SIGTERM', 143));
  const watchdog = setTimeout(() => abort(`no result after ${WATCHDOG_MS / 60_000} minutes`, 1), WATCHDOG_MS);
  try {
    report(buildRows(await runBench(group, dir)));
  } catch (err) {
    progress(`failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  } finally {
    clearTimeout(watchdog);
    await cleanup();
  }
}

await main();
