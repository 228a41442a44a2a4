// The JSON-line log of the vault and the sandbox agent: one object a line on stdout, in pino's shape
// ({level, time, part, ...fields, msg}) and with pino's numeric levels, so log tooling reads the
// gateway's (pino) lines and these alike; launchers read the "ready" lines (they carry the ports).
// Hand-written: neither process needs more of pino (transports, serializers, child loggers), and pino
// costs every idle process ~0.7 MiB.
import { writeSync } from 'node:fs';

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

export type LevelName = keyof typeof LEVELS;

export interface LogFn {
  (msg: string): void;
  (fields: Record<string, unknown>, msg: string): void;
}

export type Logger = Record<LevelName, LogFn>;

export interface LogOptions {
  /** Lines below this level are dropped; 'silent' drops all. Default 'info', as pino's. */
  level?: LevelName | 'silent';
  /** Where each line (with its newline) goes. Default: stdout, synchronously. */
  write?: (line: string) => void;
}

/**
 * Secret values never reach a log call: callers pass names, hosts and reasons only. Fields with these
 * names, at the top level or one object down, are written as "[redacted]": a second wall for a field
 * that could carry one by mistake.
 */
const REDACTED_FIELDS: readonly string[] = ['value', 'token', 'authorization', 'headers'];
const CENSOR = '[redacted]';

/** A fatal line must be out before the process exits, and a crash must not lose the lines before it. */
function writeStdout(line: string): void {
  writeSync(1, line);
}

export function createLog(part: string, options: LogOptions = {}): Logger {
  const threshold = options.level === 'silent' ? Infinity : LEVELS[options.level ?? 'info'];
  const write = options.write ?? writeStdout;
  const logFn = (level: LevelName): LogFn => (first: Record<string, unknown> | string, msg?: string) => {
    if (LEVELS[level] < threshold) return;
    const fields = typeof first === 'string' ? {} : redact(first, true);
    const line = { level: LEVELS[level], time: new Date().toISOString(), part, ...fields, msg: typeof first === 'string' ? first : msg };
    write(`${JSON.stringify(line)}\n`);
  };
  return { debug: logFn('debug'), info: logFn('info'), warn: logFn('warn'), error: logFn('error'), fatal: logFn('fatal') };
}

/**
 * `fields` with every redacted name censored, here and (when `descend`) in the objects it holds. Copies
 * only an object that has such a field: the per-request audit line passes through untouched.
 */
function redact(fields: Record<string, unknown>, descend: boolean): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(fields)) {
    const censored = REDACTED_FIELDS.includes(key) ? CENSOR : descend && isRecord(value) ? redact(value, false) : value;
    if (censored === value) continue;
    copy ??= { ...fields };
    copy[key] = censored;
  }
  return copy ?? fields;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The vault's log. Marked pure so that the agent's bundle, which imports this file too, leaves it out. */
export const log = /* @__PURE__ */ createLog('vault');
