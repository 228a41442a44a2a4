// bench/attach: `lap attach` to a session's shell beside `ssh` to a loopback sshd and the floor chain
// (floor/), each run as a command inside an outer node-pty: keystroke echo, bulk output, and the start
// time of `lap --help`.
// Run as root (the gateway's local runtime needs it; the bench starts its own sshd):
//   npm run bench:attach                 full run, one to two minutes; records the table in docs/benchmarks.md
//   BENCH_QUICK=1 npm run bench:attach   smoke run (20 MB, 300 keys, 10 starts); leaves the doc alone
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBigFile } from '../pty/big-file.ts';
import type { ShellSize } from '../pty/channel.ts';
import { bulkThroughput, echoLatency, runUntil, type Throughput } from '../pty/measure.ts';
import { formatMarkdown, formatText, machine } from '../pty/report.ts';
import { ChildGroup } from '../vault/children.ts';
import { writeDocSection } from '../vault/report.ts';
import { type ClientChannel, type ClientCommand, clientHome, LAP_BIN, lapCommand, openClient, remoteScreenShown, sshCommand } from './clients.ts';
import { type AttachBenchResults, buildRows, HEADER, type Measured } from './report.ts';
import { type BenchGateway, createShellSession, shareWithSandbox, startBenchGateway } from './session.ts';
import { startFloorChain } from './floor/start.ts';
import { startLoopbackSshd } from './sshd.ts';
import { startupTimes } from './startup.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const FILE_MB = QUICK ? 20 : 200;
const KEYSTROKES = QUICK ? 300 : 2000;
const WARMUP_KEYSTROKES = 100;
const START_RUNS = QUICK ? 10 : 30;
const BULK_ROUNDS = 3;
const SIZE: ShellSize = { cols: 120, rows: 40 };
/** Every step is bounded on its own; this only catches a hang. */
const WATCHDOG_MS = 4 * 60_000;
const DOC_PATH = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));

const progress = (message: string) => console.error(`[bench:attach] ${message}`);

interface Side {
  label: string;
  channel: ClientChannel;
}

/** Runs one step on one client; a failure says what that client's terminal showed last. */
async function onSide<T>(side: Side, step: (channel: ClientChannel) => Promise<T>): Promise<T> {
  try {
    return await step(side.channel);
  } catch (err) {
    const said = JSON.stringify(side.channel.recentOutput().slice(-500));
    throw new Error(`${side.label}: ${err instanceof Error ? err.message : String(err)}; its terminal showed last: ${said}`);
  }
}

/**
 * Every client connected at once, running the same steps. The bulk rounds alternate between them, so a
 * busy moment on the machine hits every side; echo comes last (it ends in `exec cat`).
 */
async function measureClients<L extends string>(clients: Record<L, ClientCommand>, file: string): Promise<Record<L, Measured>> {
  const sides: Side[] = Object.entries<ClientCommand>(clients).map(([label, command]) => ({ label, channel: openClient(command, SIZE) }));
  try {
    await Promise.all(sides.map((side) => onSide(side, (channel) => remoteScreenShown(channel, side.label))));
    for (const side of sides) await onSide(side, (channel) => runUntil(channel, 'echo UP-$((1+1))', 'UP-2'));
    const rounds: Throughput[][] = sides.map(() => []);
    for (let round = 1; round <= BULK_ROUNDS; round++) {
      for (const [i, side] of sides.entries()) {
        progress(`${side.label}: cat of ${FILE_MB} MB, round ${round}/${BULK_ROUNDS}`);
        rounds[i]!.push(await onSide(side, (channel) => bulkThroughput(channel, file)));
      }
    }
    const measured: Record<string, Measured> = {};
    for (const [i, side] of sides.entries()) {
      progress(`${side.label}: ${KEYSTROKES} keystrokes through cat`);
      measured[side.label] = { bulk: medianRound(rounds[i]!), echo: await onSide(side, (channel) => echoLatency(channel, KEYSTROKES, WARMUP_KEYSTROKES)) };
    }
    return measured as Record<L, Measured>;
  } finally {
    await Promise.all(sides.map((side) => side.channel.close()));
  }
}

function medianRound(rounds: readonly Throughput[]): Throughput {
  return [...rounds].sort((a, b) => a.mbPerSecond - b.mbPerSecond)[Math.floor(rounds.length / 2)]!;
}

async function runBench(group: ChildGroup, dir: string, onGateway: (gw: BenchGateway) => void): Promise<AttachBenchResults> {
  if (!existsSync(LAP_BIN)) throw new Error(`${LAP_BIN} does not exist (the lap CLI is not built)`);
  progress(`preparing a ${FILE_MB} MB text file`);
  const bigFile = ensureBigFile(FILE_MB);
  const sshd = await startLoopbackSshd(group, dir);
  progress('starting the gateway and a shell session');
  const gw = await startBenchGateway(dir);
  onGateway(gw);
  const session = await createShellSession(gw.api);
  const file = shareWithSandbox(session, bigFile);
  const sshHome = clientHome(dir, 'ssh');
  const lapHome = clientHome(dir, 'lap');
  const target = { gatewayUrl: gw.api.url, apiKey: gw.api.key };
  const floor = await startFloorChain(group, SIZE, clientHome(dir, 'floor'));
  const clients = await measureClients({
    ssh: sshCommand(sshd, sshHome),
    lap: lapCommand(['attach', session.id], target, lapHome),
    floor: floor.threeProcesses,
    floorWithoutRelay: floor.twoProcesses,
  }, file);
  progress(`start times, ${START_RUNS} runs each`);
  const [lapHelp, bareNode, sshVersion] = await startupTimes([
    lapCommand(['--help'], target, lapHome),
    { file: process.execPath, args: ['-e', '0'], env: lapHome },
    { file: 'ssh', args: ['-V'], env: sshHome },
  ], START_RUNS);
  return { ...clients, start: { lapHelp: lapHelp!, bareNode: bareNode!, sshVersion: sshVersion! } };
}

const METHOD = [
  'Method: every client runs as a command inside an outer node-pty (the user\'s terminal), ' + `${SIZE.cols}×${SIZE.rows}, TERM=xterm-256color,`,
  'each with a fresh HOME. Baseline: `ssh -tt -F /dev/null -i KEY … -p PORT root@127.0.0.1 \'bash -i\'` to an OpenSSH',
  'sshd the bench starts on 127.0.0.1 (generated host and client keys, UsePAM no, UseDNS no). LAP: `node',
  'cli/bin/lap.mjs attach SESSION` (LAP_URL, LAP_API_KEY) to a session of the `shell` harness on a real gateway',
  'started as its own process (`node gateway/main.ts`, as `npm start`) with the local runtime (client → gateway →',
  'agent in its sandbox → PTY and back). The file to `cat` sits',
  'in the sandbox\'s workspace, the same path for every shell. Floor chain: `node bench/attach/floor/client.ts`',
  '(raw terminal ↔ TCP) → `floor/relay.ts` (a byte pipe, as the gateway after authenticating) → `floor/pty-server.ts`',
  '(`bash -i` under node-pty, as the agent spawns it), on the host; "without its relay" dials the PTY server',
  'directly. Every client stays connected for the whole run.',
  'Bulk: the time from the Enter of `cat FILE; echo END-$((40+2))` to the marker in the outer PTY, over every byte',
  `it received; ${BULK_ROUNDS} rounds alternating between the clients, the median round of each. Echo: \`stty raw -echo; exec cat\` in`,
  'the remote shell, then one byte at a time, each timed until it comes back out of the outer PTY, after',
  `${WARMUP_KEYSTROKES} warm-up keys. Start: spawn to exit, one command at a time, the three commands in turn, after one`,
  'unrecorded run of each.',
].join('\n');

function report(results: AttachBenchResults): void {
  const rows = buildRows(results, FILE_MB, BULK_ROUNDS);
  const date = `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  console.log(`\nbench:attach  ${date}  ${machine()}${QUICK ? '  (BENCH_QUICK=1: small run, not representative)' : ''}\n`);
  console.log(`${formatText(rows, HEADER)}\n\nReproduce as root: npm run bench:attach   (BENCH_QUICK=1 for a smoke run)\n`);
  const misses = rows.filter((r) => r[5] === 'MISS').map((r) => r[0]);
  if (misses.length > 0) console.log(`Missed targets: ${misses.join('; ')}\n`);
  if (QUICK) return void console.log('Quick run: docs/benchmarks.md left as it was.');
  const body = [
    `Run ${date} on ${machine()}.`,
    '',
    'Reproduce as root with `npm run bench:attach` (one to two minutes; it starts its own sshd on loopback and a',
    'gateway with one shell session, and stops both at the end). `BENCH_QUICK=1 npm run bench:attach` is a smoke',
    'run that prints the table but does not write this file.',
    '',
    formatMarkdown(rows, HEADER),
    '',
    METHOD,
  ].join('\n');
  writeDocSection(DOC_PATH, '## lap attach (bench/attach)', body);
  console.log(`Recorded in ${DOC_PATH}`);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/attach needs root (the gateway\'s local runtime and sshd)');
  const group = new ChildGroup();
  const dir = mkdtempSync(join(tmpdir(), 'lap-bench-attach-'));
  let gateway: BenchGateway | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = () => (cleaning ??= Promise.allSettled([group.stopAll(), gateway?.close()]).then(() => rmSync(dir, { recursive: true, force: true })));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanup().finally(() => process.exit(130)));
  const watchdog = setTimeout(() => {
    console.error(`bench:attach: still running after ${WATCHDOG_MS / 1000} s; giving up`);
    void cleanup().finally(() => process.exit(1));
  }, WATCHDOG_MS).unref();
  try {
    report(await runBench(group, dir, (gw) => (gateway = gw)));
  } finally {
    clearTimeout(watchdog);
    await cleanup();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(`bench:attach failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
