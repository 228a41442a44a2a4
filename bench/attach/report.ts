// bench/attach's table: each LAP figure beside its baseline from the same run, with the ratio, the
// target and PASS/MISS (the row format and printers are bench/pty's).
import type { EchoLatency, Throughput } from '../pty/measure.ts';
import { compare, type Row } from '../pty/report.ts';
import type { Percentiles } from '../sessions/measure.ts';

export const TARGETS = { minThroughputRatio: 0.5, maxLapHelpP50Ms: 150 } as const;

export const HEADER: Row = ['Measure', 'Baseline', 'LAP', 'LAP / baseline', 'Target', 'Result'];

export interface AttachBenchResults {
  echo: { ssh: EchoLatency; lap: EchoLatency };
  bulk: { ssh: Throughput; lap: Throughput };
  start: { lapHelp: Percentiles; bareNode: Percentiles; sshVersion: Percentiles };
}

export function buildRows({ echo, bulk, start }: AttachBenchResults, fileMb: number, bulkRounds: number): Row[] {
  return [
    compare(`Keystroke echo p50, ms (${echo.lap.count} keys; baseline: ssh)`, echo.ssh.p50Ms, echo.lap.p50Ms, 3, 'ms',
      '≤ ssh', echo.lap.p50Ms <= echo.ssh.p50Ms),
    compare('Keystroke echo p99, ms (baseline: ssh)', echo.ssh.p99Ms, echo.lap.p99Ms, 3, 'ms'),
    compare(`Bulk output, cat of ${fileMb} MB, MB/s (median of ${bulkRounds}; baseline: ssh)`, bulk.ssh.mbPerSecond, bulk.lap.mbPerSecond, 1, '',
      `≥ ${TARGETS.minThroughputRatio}× ssh`, bulk.lap.mbPerSecond >= TARGETS.minThroughputRatio * bulk.ssh.mbPerSecond),
    compare(`\`lap --help\` start p50, ms (${start.lapHelp.count} runs; baseline: \`node -e 0\`, same node)`, start.bareNode.p50Ms, start.lapHelp.p50Ms, 1, 'ms',
      `≤ ${TARGETS.maxLapHelpP50Ms} ms`, start.lapHelp.p50Ms <= TARGETS.maxLapHelpP50Ms),
    compare('`lap --help` start p50, ms (baseline: `ssh -V`)', start.sshVersion.p50Ms, start.lapHelp.p50Ms, 1, 'ms'),
  ];
}
