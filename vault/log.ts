import { pino } from 'pino';

/**
 * Structured JSON logs on stdout. Secret values never reach a log call: callers pass names, hosts and
 * reasons only. The redact list is a second wall for fields that could carry one by mistake.
 */
export const log = pino({
  base: { part: 'vault' },
  redact: { paths: ['value', '*.value', 'token', 'authorization', 'headers'], censor: '[redacted]' },
  timestamp: pino.stdTimeFunctions.isoTime,
});

export type Logger = typeof log;
