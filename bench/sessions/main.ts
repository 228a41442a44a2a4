// bench/sessions: cold create, warm claim (to ready and to the first PTY byte) and delete through the
// real gateway and local runtime, beside `node -e 0` in a fresh netns, plus memory per idle sandbox.
// Run as root: `npm run bench:sessions` (BENCH_QUICK=1 for 10 sessions per kind instead of 50).
import { setTimeout as sleep } from 'node:timers/promises';
import type { SandboxHandle } from '../../gateway/runtime/types.ts';
import { startTestGateway, type TestGateway } from '../../tests/support/gateway.ts';
import { netnsNodeSpawnMs, percentiles, type SandboxMemory, sandboxMemory, timeSession, type Percentiles, type SessionTimings } from './measure.ts';

const COUNT = process.env.BENCH_QUICK ? 10 : 50;
const IDLE_SANDBOXES = 5;
const TARGETS = { warmClaimP50Ms: 50, coldCreateP50Ms: 1000, idleSandboxMiB: 128 };

/** A warm sandbox's agent finishes its warm-up (sandbox-agent/warm-up.ts) ~0.2 s after it is up. */
const SETTLE_MS = 500;

type Before = 'nothing' | 'one warm' | 'pool settled';

/**
 * 'one warm': the next claim as soon as the pool holds a sandbox, while the last claim's refill starts
 * two Node processes on the same CPUs. 'pool settled': the pool full, nothing starting, SETTLE_MS quiet.
 */
async function waitForPool(gw: TestGateway, before: Before): Promise<void> {
  const stats = () => gw.gateway.pool.stats()[0]!;
  if (before === 'one warm') while (stats().warm < 1) await sleep(20);
  if (before !== 'pool settled') return;
  while (stats().warm < stats().target || stats().starting > 0) await sleep(20);
  await sleep(SETTLE_MS);
}

async function sessions(gw: TestGateway, before: Before): Promise<SessionTimings[]> {
  const out: SessionTimings[] = [];
  for (let i = 0; i < COUNT; i++) {
    await waitForPool(gw, before);
    out.push(await timeSession(gw));
    process.stderr.write(`${before === 'nothing' ? 'cold' : `warm (${before})`} ${i + 1}/${COUNT}\r`);
  }
  return out;
}

async function idleMemory(gw: TestGateway): Promise<SandboxMemory> {
  const created = await Promise.all(Array.from({ length: IDLE_SANDBOXES }, () => gw.json('POST', '/api/v1/managed_agents/agents/sh/session?wait=true', {}, 201)));
  await sleep(3_000);
  const handles = created.map((s) => gw.gateway.store.sandboxes.get(gw.gateway.store.sessions.get(s.id)!.sandboxId!)!.handle as SandboxHandle);
  const each = handles.map(sandboxMemory);
  await Promise.all(created.map((s) => gw.call('DELETE', `/api/v1/managed_agents/sessions/${s.id}`)));
  const mean = (k: keyof SandboxMemory) => each.reduce((n, m) => n + m[k], 0) / each.length;
  return { rssMiB: mean('rssMiB'), pssMiB: mean('pssMiB'), agentRssMiB: mean('agentRssMiB'), vaultRssMiB: mean('vaultRssMiB') };
}

function row(name: string, p: Percentiles, base: Percentiles, target?: { p50: number }): string {
  const verdict = target ? (p.p50Ms <= target.p50 ? `≤ ${target.p50} ms PASS` : `≤ ${target.p50} ms MISS`) : '';
  return `| ${name} | ${base.p50Ms.toFixed(0)} / ${base.p99Ms.toFixed(0)} | ${p.p50Ms.toFixed(1)} / ${p.p99Ms.toFixed(1)} | ${(p.p50Ms / base.p50Ms).toFixed(2)}× | ${verdict} |`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/sessions needs root (network namespaces)');
  const baseline = percentiles(Array.from({ length: COUNT }, (_, i) => netnsNodeSpawnMs(`lapbench${i}`)));
  const cold = await withGateway('', async (gw) => ({ runs: await sessions(gw, 'nothing'), memory: await idleMemory(gw) }));
  const warmRuns = await withGateway('shell=2', (gw) => sessions(gw, 'pool settled'));
  const busyRuns = await withGateway('shell=2', (gw) => sessions(gw, 'one warm'));
  const { runs: coldRuns, memory } = cold;
  const pick = (runs: SessionTimings[], k: keyof Omit<SessionTimings, 'warm'>) => percentiles(runs.map((r) => r[k]));
  console.log(`bench/sessions: ${COUNT} sessions per kind; p50 / p99 in ms; baseline = ip netns add + node -e 0 + ip netns del\n`);
  console.log('| measure | baseline p50 / p99 | LAP p50 / p99 | p50 ratio | target |\n|---|---|---|---|---|');
  console.log(row('cold create → ready', pick(coldRuns, 'readyMs'), baseline, { p50: TARGETS.coldCreateP50Ms }));
  console.log(row('cold create → first PTY byte', pick(coldRuns, 'firstByteMs'), baseline));
  console.log(row(`warm claim → ready, pool settled (${warmRuns.filter((r) => r.warm).length}/${COUNT} warm)`, pick(warmRuns, 'readyMs'), baseline, { p50: TARGETS.warmClaimP50Ms }));
  console.log(row('warm claim → first PTY byte, pool settled', pick(warmRuns, 'firstByteMs'), baseline));
  console.log(row(`warm claim → ready, back to back while the pool refills (${busyRuns.filter((r) => r.warm).length}/${COUNT} warm)`, pick(busyRuns, 'readyMs'), baseline));
  console.log(row('warm claim → first PTY byte, back to back', pick(busyRuns, 'firstByteMs'), baseline));
  console.log(row('delete', pick(coldRuns, 'deleteMs'), baseline));
  const ok = memory.rssMiB <= TARGETS.idleSandboxMiB;
  console.log(`| idle sandbox (agent + vault), mean of ${IDLE_SANDBOXES} | – | RSS ${memory.rssMiB.toFixed(1)} MiB (agent ${memory.agentRssMiB.toFixed(1)} + vault ${memory.vaultRssMiB.toFixed(1)}), PSS ${memory.pssMiB.toFixed(1)} MiB | – | RSS ≤ ${TARGETS.idleSandboxMiB} MiB ${ok ? 'PASS' : 'MISS'} |`);
}

/** One gateway at a time, so the two phases do not share the CPUs. */
async function withGateway<T>(warmPool: string, body: (gw: TestGateway) => Promise<T>): Promise<T> {
  const gw = await startTestGateway({ warmPool });
  try {
    await gw.json('POST', '/api/v1/managed_agents/agents', { name: 'sh', harness: 'shell' }, 201);
    return await body(gw);
  } finally {
    await gw.close();
  }
}

main().then(() => process.exit(0), (err: Error) => {
  console.error(err);
  process.exit(1);
});
