import { describe, expect, it } from 'vitest';
import { createLog, type LogOptions } from '../../vault/log.ts';

/** A logger whose lines land in an array, parsed. */
function capture(options: LogOptions = {}) {
  const lines: string[] = [];
  const log = createLog('vault', { ...options, write: (line) => lines.push(line) });
  return { log, lines, entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('createLog', () => {
  it("writes one line in pino's shape: level, time, part, the fields, msg", () => {
    const { log, lines, entries } = capture();
    log.info({ session: 's1', ports: { tls: 1 } }, 'vault ready');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/\n$/);
    expect(Object.keys(entries()[0]!)).toEqual(['level', 'time', 'part', 'session', 'ports', 'msg']);
    expect(entries()[0]).toMatchObject({ level: 30, part: 'vault', session: 's1', ports: { tls: 1 }, msg: 'vault ready' });
    expect(new Date(entries()[0]!.time as string).toISOString()).toBe(entries()[0]!.time);
  });

  it("uses pino's numeric levels and drops debug by default", () => {
    const { log, entries } = capture();
    log.debug('not written');
    log.info('i');
    log.warn('w');
    log.error('e');
    log.fatal('f');
    expect(entries().map((entry) => [entry.level, entry.msg])).toEqual([[30, 'i'], [40, 'w'], [50, 'e'], [60, 'f']]);
    const verbose = capture({ level: 'debug' });
    verbose.log.debug('d');
    expect(verbose.entries()[0]).toMatchObject({ level: 20, msg: 'd' });
    const silent = capture({ level: 'silent' });
    silent.log.fatal('gone');
    expect(silent.lines).toEqual([]);
  });

  it('writes value, token, authorization and headers as [redacted], at the top level and one level down', () => {
    const { log, entries } = capture();
    const nested = { value: 'secret-1', token: 'secret-2', authorization: 'Bearer secret-3', headers: { cookie: 'secret-4' }, host: 'api.example.com' };
    log.warn({ ...nested, audit: nested }, 'oops');
    const redacted = { value: '[redacted]', token: '[redacted]', authorization: '[redacted]', headers: '[redacted]', host: 'api.example.com' };
    const entry = entries()[0]!;
    expect(entry).toMatchObject({ ...redacted, audit: redacted });
    expect(JSON.stringify(entry)).not.toMatch(/secret-[1-4]/);
    expect(nested.value).toBe('secret-1'); // the caller's object is left as it was
  });
});
