// Turns the measurements into one table (each figure beside its baseline, the ratio, the target and
// PASS/MISS), printed as text and written as markdown into docs/benchmarks.md.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { KeepAliveResult, Rate, SseResult } from './load.ts';

export interface Pair<T> {
  direct: T;
  vault: T;
}

export interface RssSample {
  atS: number;
  mib: number;
}

export interface RssFigures {
  /** An idle bare `node` process: the runtime's floor. */
  bareNodeMiB: number;
  idleMiB: number;
  /** Every sample taken under keep-alive load, in order. */
  samples: RssSample[];
  early: RssSample;
  late: RssSample;
  afterCold: { mib: number; names: number };
}

export interface CpuPerRequest {
  vaultUs: number;
  upstreamUs: number;
}

/** The floor proxy (floor-proxy.ts): the vault's parts doing none of the vault's work. */
export interface FloorFigures {
  keepAlive: KeepAliveResult;
  cpuUs: number;
}

export interface BenchResults {
  keepAlive: Pair<KeepAliveResult>;
  floor: FloorFigures;
  oneAtATime: Pair<KeepAliveResult>;
  cpu: CpuPerRequest;
  sse: Pair<SseResult>;
  handshakesWarm: Pair<Rate>;
  handshakesCold: Pair<Rate>;
  rss: RssFigures;
}

export interface Row {
  measure: string;
  baseline: string;
  vault: string;
  ratio: string;
  target: string;
  result: string;
}

export const TARGETS = {
  minThroughputRatio: 0.5,
  maxAddedP99Ms: 2,
  minWarmHandshakeRatio: 0.5,
  maxIdleRssMiB: 64,
  /** "No growth under load", with room for allocator noise: at most this share of the early figure. */
  maxRssGrowthShare: 0.05,
} as const;

const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const signed = (n: number, digits: number, unit: string) => `${n >= 0 ? '+' : '−'}${fixed(Math.abs(n), digits)} ${unit}`;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');

interface Comparison {
  measure: string;
  baseline: number;
  vault: number;
  digits: number;
  /** Unit of the difference shown beside the ratio (latencies, memory); none for rates. */
  diffUnit?: string;
  target?: string;
  pass?: boolean;
}

function row(c: Comparison): Row {
  const ratio = `${fixed(c.vault / c.baseline, 2)}×`;
  return {
    measure: c.measure,
    baseline: fixed(c.baseline, c.digits),
    vault: fixed(c.vault, c.digits),
    ratio: c.diffUnit ? `${ratio} (${signed(c.vault - c.baseline, c.digits, c.diffUnit)})` : ratio,
    target: c.target ?? '',
    result: c.pass === undefined ? '' : verdict(c.pass),
  };
}

export function buildRows(r: BenchResults): Row[] {
  const { keepAlive: ka, floor, oneAtATime: one, handshakesWarm: warm, handshakesCold: cold, sse, rss, cpu } = r;
  const { early, late } = rss;
  return [
    row({ measure: 'Keep-alive small JSON, requests/s', baseline: ka.direct.perSecond, vault: ka.vault.perSecond, digits: 0,
      target: `≥ ${TARGETS.minThroughputRatio}× direct`, pass: ka.vault.perSecond >= TARGETS.minThroughputRatio * ka.direct.perSecond }),
    row({ measure: 'Floor proxy in the vault\'s place (node:https + undici, no vault work), keep-alive requests/s', baseline: ka.direct.perSecond, vault: floor.keepAlive.perSecond, digits: 0 }),
    row({ measure: 'Keep-alive small JSON, requests/s, the vault (baseline: the floor proxy)', baseline: floor.keepAlive.perSecond, vault: ka.vault.perSecond, digits: 0 }),
    row({ measure: 'Keep-alive p50 latency, ms, 16 in flight', baseline: ka.direct.p50Ms, vault: ka.vault.p50Ms, digits: 2, diffUnit: 'ms' }),
    row({ measure: 'Keep-alive p99 latency, ms, 16 in flight', baseline: ka.direct.p99Ms, vault: ka.vault.p99Ms, digits: 2, diffUnit: 'ms' }),
    row({ measure: 'Keep-alive p50 latency, ms, one request at a time', baseline: one.direct.p50Ms, vault: one.vault.p50Ms, digits: 2, diffUnit: 'ms' }),
    row({ measure: 'Keep-alive p99 latency, ms, one request at a time', baseline: one.direct.p99Ms, vault: one.vault.p99Ms, digits: 2, diffUnit: 'ms',
      target: `added ≤ ${TARGETS.maxAddedP99Ms} ms`, pass: one.vault.p99Ms - one.direct.p99Ms <= TARGETS.maxAddedP99Ms }),
    row({ measure: 'CPU per keep-alive request, µs (baseline: the upstream)', baseline: cpu.upstreamUs, vault: cpu.vaultUs, digits: 0 }),
    row({ measure: 'CPU per keep-alive request, µs, the vault (baseline: the floor proxy)', baseline: floor.cpuUs, vault: cpu.vaultUs, digits: 0 }),
    row({ measure: 'New TLS connections/s, warm cert cache', baseline: warm.direct.perSecond, vault: warm.vault.perSecond, digits: 0,
      target: `≥ ${TARGETS.minWarmHandshakeRatio}× direct`, pass: warm.vault.perSecond >= TARGETS.minWarmHandshakeRatio * warm.direct.perSecond }),
    row({ measure: 'New TLS connections/s, cold cert cache', baseline: cold.direct.perSecond, vault: cold.vault.perSecond, digits: 0 }),
    row({ measure: 'SSE time to first byte, median ms', baseline: sse.direct.p50Ms, vault: sse.vault.p50Ms, digits: 2, diffUnit: 'ms' }),
    row({ measure: 'Vault RSS idle, MiB (baseline: idle bare node)', baseline: rss.bareNodeMiB, vault: rss.idleMiB, digits: 1,
      target: `≤ ${TARGETS.maxIdleRssMiB} MiB`, pass: rss.idleMiB <= TARGETS.maxIdleRssMiB }),
    row({ measure: `Vault RSS after ${early.atS} s of load, MiB (baseline: idle)`, baseline: rss.idleMiB, vault: early.mib, digits: 1 }),
    row({ measure: `Vault RSS after ${late.atS} s of load, MiB (baseline: ${early.atS} s)`, baseline: early.mib, vault: late.mib, digits: 1, diffUnit: 'MiB',
      target: `no growth (≤ +${TARGETS.maxRssGrowthShare * 100} %)`, pass: late.mib - early.mib <= TARGETS.maxRssGrowthShare * early.mib }),
    row({ measure: `Vault RSS after ${rss.afterCold.names} cold names, MiB (baseline: idle)`, baseline: rss.idleMiB, vault: rss.afterCold.mib, digits: 1 }),
  ];
}

/** The whole RSS curve, so a one-off step and steady growth can be told apart. */
export function formatRssSeries(samples: readonly RssSample[]): string {
  return `Vault RSS under keep-alive load, MiB: ${samples.map((s) => `${s.atS} s ${fixed(s.mib, 1)}`).join(', ')}.`;
}

const HEADER: Row = { measure: 'Measure', baseline: 'Direct (baseline)', vault: 'Through the vault', ratio: 'Vault / baseline', target: 'Target', result: 'Result' };
const COLUMNS = ['measure', 'baseline', 'vault', 'ratio', 'target', 'result'] as const;

export function formatText(rows: readonly Row[]): string {
  const all = [HEADER, ...rows];
  const widths = COLUMNS.map((c) => Math.max(...all.map((row) => row[c].length)));
  const line = (row: Row) => COLUMNS.map((c, i) => (i === 0 ? row[c].padEnd(widths[i] ?? 0) : row[c].padStart(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(HEADER), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function formatMarkdown(rows: readonly Row[]): string {
  const line = (row: Row) => `| ${COLUMNS.map((c) => row[c] || '—').join(' | ')} |`;
  return [line(HEADER), `|${COLUMNS.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.map(line)].join('\n');
}

const DOC_INTRO = `# Benchmarks

Every figure here stands beside a baseline measured in the same run on the same machine, with the
ratio between them: absolute numbers change from machine to machine, the ratios are what the targets
are about. Each section says how to reproduce it; \`bench/README.md\` says what each bench measures.
`;

/** Replaces the section that starts with `heading` (up to the next \`## \`), or appends it; creates the file if needed. */
export function writeDocSection(path: string, heading: string, body: string): void {
  const current = existsSync(path) ? readFileSync(path, 'utf8') : DOC_INTRO;
  const section = `${heading}\n\n${body.trim()}\n`;
  const start = current.indexOf(`${heading}\n`);
  if (start === -1) return writeFileSync(path, `${current.trimEnd()}\n\n${section}`);
  const next = current.indexOf('\n## ', start + heading.length);
  const rest = next === -1 ? '' : `\n${current.slice(next + 1)}`;
  writeFileSync(path, `${current.slice(0, start)}${section}${rest}`);
}
