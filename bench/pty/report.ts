// The figures as one table (each beside its baseline, the ratio, the target, PASS/MISS), as text for
// the console and as markdown for docs/benchmarks.md.
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import type { EchoLatency, Throughput } from './measure.ts';

export const TARGETS = { maxAddedEchoP50Ms: 1, minThroughputRatio: 0.5, maxIdleRssMiB: 64 } as const;

export interface PtyBenchResults {
  echo: { direct: EchoLatency; agent: EchoLatency };
  bulk: { direct: Throughput; agent: Throughput };
  rss: { bareNodeMiB: number; agentWarmMiB: number; agentIdleMiB: number };
}

export type Row = [measure: string, baseline: string, agent: string, ratio: string, target: string, result: string];

const HEADER: Row = ['Measure', 'Direct node-pty (baseline)', 'Through the agent', 'Agent / baseline', 'Target', 'Result'];
const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');

export function compare(measure: string, baseline: number, agent: number, digits: number, diffUnit = '', target = '', pass?: boolean): Row {
  const diff = agent - baseline;
  const ratio = `${fixed(agent / baseline, 2)}×${diffUnit ? ` (${diff >= 0 ? '+' : '−'}${fixed(Math.abs(diff), digits)} ${diffUnit})` : ''}`;
  return [measure, fixed(baseline, digits), fixed(agent, digits), ratio, target, pass === undefined ? '' : verdict(pass)];
}

export function buildRows(r: PtyBenchResults, fileMb: number): Row[] {
  const { echo, bulk, rss } = r;
  return [
    compare(`Keystroke echo p50, ms (${echo.agent.count} keys)`, echo.direct.p50Ms, echo.agent.p50Ms, 3, 'ms',
      `≤ direct + ${TARGETS.maxAddedEchoP50Ms} ms`, echo.agent.p50Ms - echo.direct.p50Ms <= TARGETS.maxAddedEchoP50Ms),
    compare('Keystroke echo p99, ms', echo.direct.p99Ms, echo.agent.p99Ms, 3, 'ms'),
    compare(`Bulk output, cat of ${fileMb} MB, MB/s`, bulk.direct.mbPerSecond, bulk.agent.mbPerSecond, 1, '',
      `≥ ${TARGETS.minThroughputRatio}× direct`, bulk.agent.mbPerSecond >= TARGETS.minThroughputRatio * bulk.direct.mbPerSecond),
    compare('Agent RSS warm, before a claim, MiB (baseline: idle bare node)', rss.bareNodeMiB, rss.agentWarmMiB, 1, 'MiB'),
    compare('Agent RSS idle after a claim, nobody attached, MiB (baseline: idle bare node)', rss.bareNodeMiB, rss.agentIdleMiB, 1, 'MiB',
      `≤ ${TARGETS.maxIdleRssMiB} MiB`, rss.agentIdleMiB <= TARGETS.maxIdleRssMiB),
  ];
}

export function formatText(rows: readonly Row[], header: Row = HEADER): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const line = (row: Row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function formatMarkdown(rows: readonly Row[], header: Row = HEADER): string {
  const line = (row: Row) => `| ${row.map((cell) => cell || '—').join(' | ')} |`;
  return [line(header), `|${header.map((_, c) => (c === 0 ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.map(line)].join('\n');
}

/** One line about the machine, for the printed table and the doc. */
export function machine(): string {
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${availableParallelism()} CPUs (${model}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Linux ${release()}, Node ${process.version}`;
}
