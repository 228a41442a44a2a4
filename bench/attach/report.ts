// bench/attach's table: each LAP figure beside its baseline from the same run, with the ratio, the
// target and PASS/MISS (the row format and printers are bench/pty's).
import type { EchoLatency, Throughput } from '../pty/measure.ts';
import { compare, type Row } from '../pty/report.ts';
import type { Percentiles } from '../sessions/measure.ts';

export const TARGETS = { minThroughputRatio: 0.5, maxLapHelpP50Ms: 150 } as const;

export const HEADER: Row = ['Measure', 'Baseline', 'Measured', 'Measured / baseline', 'Target', 'Result'];

export interface Measured {
  bulk: Throughput;
  echo: EchoLatency;
}

export interface AttachBenchResults {
  ssh: Measured;
  lap: Measured;
  /** The floor chain: lap's three-process path in bare Node (bench/attach/floor). */
  floor: Measured;
  /** The same without its relay: two Node processes, as a design without the gateway on the path. */
  floorWithoutRelay: Measured;
  start: { lapHelp: Percentiles; bareNode: Percentiles; sshVersion: Percentiles };
}

export function buildRows({ ssh, lap, floor, floorWithoutRelay, start }: AttachBenchResults, fileMb: number, bulkRounds: number): Row[] {
  return [
    compare(`Keystroke echo p50, ms, lap attach (${lap.echo.count} keys; baseline: ssh)`, ssh.echo.p50Ms, lap.echo.p50Ms, 3, 'ms',
      '≤ ssh', lap.echo.p50Ms <= ssh.echo.p50Ms),
    compare('Keystroke echo p99, ms, lap attach (baseline: ssh)', ssh.echo.p99Ms, lap.echo.p99Ms, 3, 'ms'),
    compare(`Bulk output, lap attach, cat of ${fileMb} MB, MB/s (median of ${bulkRounds}; baseline: ssh)`, ssh.bulk.mbPerSecond, lap.bulk.mbPerSecond, 1, '',
      `≥ ${TARGETS.minThroughputRatio}× ssh`, lap.bulk.mbPerSecond >= TARGETS.minThroughputRatio * ssh.bulk.mbPerSecond),
    compare('Keystroke echo p50, ms, floor chain: bare Node client → relay → node-pty, no LAP code (baseline: ssh)', ssh.echo.p50Ms, floor.echo.p50Ms, 3, 'ms'),
    compare('Keystroke echo p50, ms, floor chain without its relay: client → node-pty (baseline: ssh)', ssh.echo.p50Ms, floorWithoutRelay.echo.p50Ms, 3, 'ms'),
    compare('Keystroke echo p50, ms, lap attach (baseline: the floor chain)', floor.echo.p50Ms, lap.echo.p50Ms, 3, 'ms'),
    compare('Bulk output, MB/s, floor chain (baseline: ssh)', ssh.bulk.mbPerSecond, floor.bulk.mbPerSecond, 1),
    compare(`\`lap --help\` start p50, ms (${start.lapHelp.count} runs; baseline: \`node -e 0\`, same node)`, start.bareNode.p50Ms, start.lapHelp.p50Ms, 1, 'ms',
      `≤ ${TARGETS.maxLapHelpP50Ms} ms`, start.lapHelp.p50Ms <= TARGETS.maxLapHelpP50Ms),
    compare('`lap --help` start p50, ms (baseline: `ssh -V`)', start.sshVersion.p50Ms, start.lapHelp.p50Ms, 1, 'ms'),
  ];
}
