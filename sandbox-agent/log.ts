// The agent's log: one JSON object a line on stdout, in pino's shape ({level, time, part, ...fields,
// msg}), which launchers read (the `agent ready` line carries the port). Hand-written because the agent
// logs a handful of lines in its life and pino costs every idle agent ~0.6 MiB.
import { writeSync } from 'node:fs';

/** pino's numeric levels, so log tooling reads both the vault's and the agent's lines alike. */
const LEVELS = { info: 30, fatal: 60 } as const;

/** Writes one line synchronously: a fatal line must be out before the process exits. */
function write(level: keyof typeof LEVELS, fields: Record<string, unknown>, msg: string): void {
  const line = JSON.stringify({ level: LEVELS[level], time: new Date().toISOString(), part: 'sandbox-agent', ...fields, msg });
  writeSync(1, `${line}\n`);
}

export const log = {
  info: (fields: Record<string, unknown>, msg: string) => write('info', fields, msg),
  fatal: (msg: string) => write('fatal', {}, msg),
};
