// bench/vault: the same load client against the same local HTTPS upstream, direct and through the real
// vault, in one run; prints each figure beside its baseline and records the table in docs/benchmarks.md.
//   npm run bench:vault                    full run, about three minutes
//   BENCH_QUICK=1 npm run bench:vault      smoke run with short phases; leaves the doc alone
//   BENCH_VAULT_NODE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof'   extra node flags for the vault only
//   BENCH_VAULT_UPSTREAM_HTTP1=1           the vault's upstream.http2 off (HTTP/1.1 pools upstream)
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VAULT_NODE_FLAGS } from '../../vault/build.ts';
import { ChildGroup } from './children.ts';
import { type BenchSettings, measureAll, progress } from './phases.ts';
import { type BenchResults, buildRows, formatMarkdown, formatRssSeries, formatText, writeDocSection } from './report.ts';
import { startBenchTargets, WARM_HOST } from './setup.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const UPSTREAM_HTTP2 = process.env.BENCH_VAULT_UPSTREAM_HTTP1 !== '1';
const SETTINGS: BenchSettings = QUICK
  ? { jitWarmupMs: 1_000, warmupMs: 300, measureMs: 1_500, concurrency: 16, sseCount: 10, rssLoadS: 15, rssEveryS: 5, rssEarlyS: 5 }
  : { jitWarmupMs: 10_000, warmupMs: 3_000, measureMs: 5_000, concurrency: 16, sseCount: 50, rssLoadS: 60, rssEveryS: 5, rssEarlyS: 10 };
/** Every phase is bounded on its own; this only catches a hang. */
const WATCHDOG_MS = 5 * 60_000;
const DOC_PATH = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));
const LOAD_SCRIPT = fileURLToPath(new URL('./load.ts', import.meta.url));

async function runBench(group: ChildGroup, dir: string): Promise<BenchResults> {
  const vaultNodeFlags = (process.env.BENCH_VAULT_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const { vault, upstreamPid, floorPid, paths } = await startBenchTargets(group, dir, vaultNodeFlags, UPSTREAM_HTTP2);
  progress(`upstream on :${paths.direct.port}, vault (pid ${vault.pid}, upstream ${UPSTREAM_HTTP2 ? 'HTTP/2' : 'HTTP/1.1'}) on :${vault.ports.tls}${vaultNodeFlags.length ? ` with ${vaultNodeFlags.join(' ')}` : ''}`);
  return measureAll(group, group.fork(LOAD_SCRIPT), { vault, upstreamPid, floorPid }, paths, SETTINGS);
}

function machine(): string {
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${availableParallelism()} CPUs (${model}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Linux ${release()}, Node ${process.version}`;
}

function methodNote(): string {
  const s = SETTINGS;
  return [
    `Method: everything on loopback, in five processes (upstream, vault, floor proxy, load client, orchestrator) on ${availableParallelism()} CPUs:`,
    'the vault path keeps one more busy process on the same CPUs than the direct path, so it also pays for the',
    'CPU the vault takes from the load client and the upstream. The vault runs as it ships: the bundle built',
    `by vault/build.ts, with ${VAULT_NODE_FLAGS.join(' ')}, upstream ${UPSTREAM_HTTP2 ? 'HTTP/2 (its default)' : 'HTTP/1.1 (upstream.http2 false)'}, its log to a file as`,
    `the local runtime sends it. The load client is an undici Pool speaking HTTP/1.1 with ${s.concurrency} requests in flight (one at a time`,
    `for the "one request at a time" rows). Each path first gets ${s.jitWarmupMs / 1000} s of keep-alive traffic (a fresh vault is still`,
    `tiering its hot path up), then each figure has ${s.warmupMs / 1000} s of warm-up and ${s.measureMs / 1000} s measured. On 2 CPUs the ${s.concurrency}-in-flight`,
    'latencies are mostly queueing behind the throughput; the one-at-a-time rows are the time the vault adds to a',
    'request, and the added-p99 target is judged there. CPU per request: utime+stime from /proc over the same',
    'requests (the RSS load phase for the vault and the upstream, a run of its own for the floor proxy). Direct, it',
    'sends the real credential; through the vault, a stub that the vault swaps in the Authorization header, and the',
    'vault scrubs every response. The floor proxy (bench/vault/floor-proxy.ts) is the vault\'s parts doing none of',
    'its work: node:https terminates TLS, an undici Agent with the same HTTP/2 setting forwards, the answer streams',
    'back; no swap, scrub, policy, audit or log. The upstream offers HTTP/2 and HTTP/1.1 and has one `*.bench.test`',
    `certificate. New connections: full TLS handshake, one request, close, ${s.concurrency} at a time; warm = always ${WARM_HOST},`,
    `cold = a new name each time (the vault mints a leaf per name). SSE: ${s.sseCount} sequential requests on one connection,`,
    'time until the first event. RSS: VmRSS from /proc, idle after start-up and configuration.',
  ].join('\n');
}

function report(results: BenchResults): void {
  const rows = buildRows(results);
  const series = formatRssSeries(results.rss.samples);
  const date = `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  console.log(`\nbench:vault  ${date}  ${machine()}${QUICK ? '  (BENCH_QUICK=1: short phases, not representative)' : ''}\n`);
  console.log(`${formatText(rows)}\n\n${series}\n\nReproduce: npm run bench:vault   (BENCH_QUICK=1 for a smoke run)\n`);
  const misses = rows.filter((r) => r.result === 'MISS').map((r) => r.measure);
  if (misses.length > 0) console.log(`Missed targets: ${misses.join('; ')}\n`);
  if (QUICK) return void console.log('Quick run: docs/benchmarks.md left as it was.');
  const body = [
    `Run ${date} on ${machine()}.`,
    '',
    'Reproduce with `npm run bench:vault` (about three minutes; it starts the upstream, the real vault, the floor',
    'proxy and the load client itself and stops them at the end). `BENCH_QUICK=1 npm run bench:vault` shortens every phase',
    'for a smoke run; it prints the table but does not write this file.',
    '',
    formatMarkdown(rows),
    '',
    series,
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
    report(await runBench(group, dir));
  } catch (err) {
    progress(`failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  } finally {
    clearTimeout(watchdog);
    await cleanup();
  }
}

await main();
