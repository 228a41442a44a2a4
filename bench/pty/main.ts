// bench/pty: keystroke echo and bulk output through the real agent's /v1/tty WebSocket, each beside the
// same measured on node-pty directly in this process; plus the agent's idle RSS. Prints the table and
// records it in docs/benchmarks.md.
//   npm run bench:pty                 full run, under two minutes (generates a 200 MB file in /tmp once)
//   BENCH_QUICK=1 npm run bench:pty   smoke run (20 MB, 300 keys); leaves the doc alone
//   BENCH_PTY_AGENT_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof'   extra node flags for the agent only
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ChildGroup, readRssMiB, stopChild } from '../vault/children.ts';
import { writeDocSection } from '../vault/report.ts';
import { claimShell, startWarmAgent } from './agent-process.ts';
import { ensureBigFile } from './big-file.ts';
import { agentChannel, type ByteChannel, directChannel, type ShellSize } from './channel.ts';
import { bulkThroughput, echoLatency } from './measure.ts';
import { buildRows, formatMarkdown, formatText, machine, type PtyBenchResults } from './report.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const FILE_MB = QUICK ? 20 : 200;
const KEYSTROKES = QUICK ? 300 : 2000;
const WARMUP_KEYSTROKES = 100;
const SIZE: ShellSize = { cols: 120, rows: 40 };
const IDLE_SETTLE_MS = 2_000;
/** Every step is bounded on its own; this only catches a hang. */
const WATCHDOG_MS = 3 * 60_000;
const DOC_PATH = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));

const progress = (message: string) => console.error(`[bench:pty] ${message}`);

async function measureChannel(channel: ByteChannel, name: string, bigFile: string) {
  progress(`${name}: cat of ${FILE_MB} MB`);
  const bulk = await bulkThroughput(channel, bigFile);
  progress(`${name}: ${KEYSTROKES} keystrokes through cat`);
  const echo = await echoLatency(channel, KEYSTROKES, WARMUP_KEYSTROKES);
  await channel.close();
  return { bulk, echo };
}

async function bareNodeRssMiB(group: ChildGroup): Promise<number> {
  const child = group.spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
  await sleep(IDLE_SETTLE_MS);
  const rss = readRssMiB(child.pid ?? 0);
  await stopChild(child);
  return rss;
}

async function runBench(group: ChildGroup, dir: string): Promise<PtyBenchResults> {
  progress(`preparing a ${FILE_MB} MB text file`);
  const bigFile = ensureBigFile(FILE_MB);
  const agentFlags = (process.env.BENCH_PTY_AGENT_FLAGS ?? '').split(' ').filter(Boolean);
  const agent = await startWarmAgent(group, dir, agentFlags);
  await sleep(IDLE_SETTLE_MS);
  const agentWarmMiB = readRssMiB(agent.pid);
  await claimShell(agent, SIZE);
  await sleep(IDLE_SETTLE_MS);
  const agentIdleMiB = readRssMiB(agent.pid);
  const bareNodeMiB = await bareNodeRssMiB(group);
  const home = join(dir, 'direct-home');
  mkdirSync(home);
  const direct = await measureChannel(directChannel(home, SIZE), 'direct', bigFile);
  const viaAgent = await measureChannel(await agentChannel(agent.ttyUrl, agent.token), 'agent', bigFile);
  return { echo: { direct: direct.echo, agent: viaAgent.echo }, bulk: { direct: direct.bulk, agent: viaAgent.bulk }, rss: { bareNodeMiB, agentWarmMiB, agentIdleMiB } };
}

const METHOD = [
  'Method: both sides run the same interactive `bash -i` (the agent\'s `shell` harness, and node-pty in the bench',
  `process with the same environment), ${SIZE.cols}×${SIZE.rows}, TERM=xterm-256color, on loopback. Bulk: the time from the Enter`,
  `of \`cat FILE; echo END-$((40+2))\` to the marker, over every byte the client received (the PTY turns each`,
  '\\n into \\r\\n). Echo: `stty raw -echo; exec cat`, then one byte at a time, waiting for it to come back, after',
  `${WARMUP_KEYSTROKES} warm-up keys. Through the agent every byte also goes through the headless screen mirror. The agent runs`,
  'as launchers start it: the bundle, flags and environment from sandbox-agent/build.ts (agentNodeArgs, AGENT_ENV). RSS: VmRSS',
  `from /proc, ${IDLE_SETTLE_MS / 1000} s after the agent said it was ready (warm), ${IDLE_SETTLE_MS / 1000} s after the claim with no viewer attached`,
  '(idle), or after start (bare `node -e` with a timer).',
].join('\n');

const FINDINGS = [
  'Where the time goes and what changed: "PTY bulk output: what changed" below; idle RSS: "Sandbox agent',
  'memory" below.',
].join('\n');

function report(results: PtyBenchResults): void {
  const rows = buildRows(results, FILE_MB);
  const date = `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  console.log(`\nbench:pty  ${date}  ${machine()}${QUICK ? '  (BENCH_QUICK=1: small run, not representative)' : ''}\n`);
  console.log(`${formatText(rows)}\n\nReproduce: npm run bench:pty   (BENCH_QUICK=1 for a smoke run)\n`);
  const misses = rows.filter((r) => r[5] === 'MISS').map((r) => r[0]);
  if (misses.length > 0) console.log(`Missed targets: ${misses.join('; ')}\n`);
  if (QUICK) return void console.log('Quick run: docs/benchmarks.md left as it was.');
  const body = [
    `Run ${date} on ${machine()}.`,
    '',
    `Reproduce with \`npm run bench:pty\` (under two minutes; it writes a ${FILE_MB} MB text file to /tmp once, starts the real`,
    'agent, claims it with the `shell` harness and stops it at the end). `BENCH_QUICK=1 npm run bench:pty` is a',
    'smoke run that prints the table but does not write this file.',
    '',
    formatMarkdown(rows),
    '',
    METHOD,
    '',
    FINDINGS,
  ].join('\n');
  writeDocSection(DOC_PATH, '## PTY (bench/pty)', body);
  console.log(`Recorded in ${DOC_PATH}`);
}

async function main(): Promise<void> {
  const group = new ChildGroup();
  const dir = mkdtempSync(join(tmpdir(), 'lap-bench-pty-'));
  let cleaning: Promise<void> | undefined;
  const cleanup = () => (cleaning ??= group.stopAll().finally(() => rmSync(dir, { recursive: true, force: true })));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanup().finally(() => process.exit(130)));
  const watchdog = setTimeout(() => {
    console.error(`bench:pty: still running after ${WATCHDOG_MS / 1000} s; giving up`);
    void cleanup().finally(() => process.exit(1));
  }, WATCHDOG_MS).unref();
  try {
    report(await runBench(group, dir));
  } finally {
    clearTimeout(watchdog);
    await cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(`bench:pty failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
