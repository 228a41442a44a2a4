// Turns the measurements into one table (each figure beside its baseline, the ratio, the target and
// PASS/MISS), printed as text and written as markdown into docs/benchmarks.md.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { KeepAliveResult, Rate, SseResult } from './load.ts';

export interface Pair<T> {
  direct: T;
  vault: T;
}

export interface RssFigures {
  /** An idle bare `node` process: the runtime's floor. */
  bareNodeMiB: number;
  idleMiB: number;
  early: { atS: number; mib: number };
  late: { atS: number; mib: number };
  afterCold: { mib: number; names: number };
}

export interface BenchResults {
  keepAlive: Pair<KeepAliveResult>;
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
const ratio = (vault: number, base: number) => `${fixed(vault / base, 2)}×`;
const added = (vault: number, base: number) => `${vault - base >= 0 ? '+' : '−'}${fixed(Math.abs(vault - base), 2)} ms`;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');

export function buildRows(r: BenchResults): Row[] {
  const ka = r.keepAlive;
  const addedP99 = ka.vault.p99Ms - ka.direct.p99Ms;
  const warmRatio = r.handshakesWarm.vault.perSecond / r.handshakesWarm.direct.perSecond;
  const growth = r.rss.late.mib - r.rss.early.mib;
  const { early, late } = r.rss;
  return [
    { measure: 'Keep-alive small JSON, requests/s', baseline: fixed(ka.direct.perSecond, 0), vault: fixed(ka.vault.perSecond, 0), ratio: ratio(ka.vault.perSecond, ka.direct.perSecond), target: `≥ ${TARGETS.minThroughputRatio}× direct`, result: verdict(ka.vault.perSecond / ka.direct.perSecond >= TARGETS.minThroughputRatio) },
    { measure: 'Keep-alive p50 latency, ms', baseline: fixed(ka.direct.p50Ms, 2), vault: fixed(ka.vault.p50Ms, 2), ratio: `${ratio(ka.vault.p50Ms, ka.direct.p50Ms)} (${added(ka.vault.p50Ms, ka.direct.p50Ms)})`, target: '', result: '' },
    { measure: 'Keep-alive p99 latency, ms', baseline: fixed(ka.direct.p99Ms, 2), vault: fixed(ka.vault.p99Ms, 2), ratio: `${ratio(ka.vault.p99Ms, ka.direct.p99Ms)} (${added(ka.vault.p99Ms, ka.direct.p99Ms)})`, target: `added ≤ ${TARGETS.maxAddedP99Ms} ms`, result: verdict(addedP99 <= TARGETS.maxAddedP99Ms) },
    { measure: 'New TLS connections/s, warm cert cache', baseline: fixed(r.handshakesWarm.direct.perSecond, 0), vault: fixed(r.handshakesWarm.vault.perSecond, 0), ratio: ratio(r.handshakesWarm.vault.perSecond, r.handshakesWarm.direct.perSecond), target: `≥ ${TARGETS.minWarmHandshakeRatio}× direct`, result: verdict(warmRatio >= TARGETS.minWarmHandshakeRatio) },
    { measure: 'New TLS connections/s, cold cert cache', baseline: fixed(r.handshakesCold.direct.perSecond, 0), vault: fixed(r.handshakesCold.vault.perSecond, 0), ratio: ratio(r.handshakesCold.vault.perSecond, r.handshakesCold.direct.perSecond), target: '', result: '' },
    { measure: 'SSE time to first byte, median ms', baseline: fixed(r.sse.direct.p50Ms, 2), vault: fixed(r.sse.vault.p50Ms, 2), ratio: `${ratio(r.sse.vault.p50Ms, r.sse.direct.p50Ms)} (${added(r.sse.vault.p50Ms, r.sse.direct.p50Ms)})`, target: '', result: '' },
    { measure: 'Vault RSS idle, MiB (baseline: idle bare node)', baseline: fixed(r.rss.bareNodeMiB, 1), vault: fixed(r.rss.idleMiB, 1), ratio: ratio(r.rss.idleMiB, r.rss.bareNodeMiB), target: `≤ ${TARGETS.maxIdleRssMiB} MiB`, result: verdict(r.rss.idleMiB <= TARGETS.maxIdleRssMiB) },
    { measure: `Vault RSS after ${early.atS} s of load, MiB (baseline: idle)`, baseline: fixed(r.rss.idleMiB, 1), vault: fixed(early.mib, 1), ratio: ratio(early.mib, r.rss.idleMiB), target: '', result: '' },
    { measure: `Vault RSS after ${late.atS} s of load, MiB (baseline: ${early.atS} s)`, baseline: fixed(early.mib, 1), vault: fixed(late.mib, 1), ratio: `${ratio(late.mib, early.mib)} (${growth >= 0 ? '+' : '−'}${fixed(Math.abs(growth), 1)} MiB)`, target: `no growth (≤ +${TARGETS.maxRssGrowthShare * 100} %)`, result: verdict(growth <= early.mib * TARGETS.maxRssGrowthShare) },
    { measure: `Vault RSS after ${r.rss.afterCold.names} cold names, MiB (baseline: idle)`, baseline: fixed(r.rss.idleMiB, 1), vault: fixed(r.rss.afterCold.mib, 1), ratio: ratio(r.rss.afterCold.mib, r.rss.idleMiB), target: '', result: '' },
  ];
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
