import { constants } from 'node:os';
import { defineCommand } from 'citty';
import { readLines } from '../../sandbox-agent/lines.ts';
import { MANAGED } from '../client.ts';
import { clientFor, serverArgs } from '../context.ts';
import { CliError, usageError } from '../errors.ts';
import { readStdin } from '../prompt.ts';
import { resolveSession } from '../sessions.ts';

interface ExecFrame {
  type: 'stdout' | 'stderr' | 'exit';
  data?: string;
  code?: number | null;
  signal?: string | null;
  timedOut?: boolean;
}

export default defineCommand({
  meta: { name: 'exec', description: "Run a command in a session's sandbox: lap exec <session> -- <cmd...>. lap exits with the command's exit code" },
  args: {
    ...serverArgs,
    session: { type: 'positional', required: true, description: 'Session id, or a unique prefix of one', valueHint: 'session' },
    cwd: { type: 'string', description: 'Working directory, relative to the workspace', valueHint: 'dir' },
    timeout: { type: 'string', description: 'Seconds before the command is stopped (default 600)', valueHint: 'seconds' },
    'no-stdin': { type: 'boolean', alias: 'n', description: "Do not send lap's stdin (it is sent when it is not a terminal)" },
  },
  async run({ args, rawArgs }) {
    const dash = rawArgs.indexOf('--');
    const argv = dash === -1 ? [] : rawArgs.slice(dash + 1);
    if (argv.length === 0) throw usageError('no command given', 'lap exec <session> -- <cmd...>');
    const timeout = args.timeout === undefined ? undefined : Number(args.timeout);
    if (timeout !== undefined && !(timeout > 0 && timeout <= 86_400)) throw usageError(`--timeout ${args.timeout}: expected seconds from 1 to 86400`);
    const client = clientFor(args);
    const session = await resolveSession(client, args.session);
    const input = !args['no-stdin'] && !process.stdin.isTTY ? await readStdin() : undefined;
    const stdin = input?.length ? input.toString('base64') : undefined;
    const body = { argv, ...(args.cwd ? { cwd: args.cwd } : {}), ...(timeout ? { timeout_ms: Math.round(timeout * 1000) } : {}), ...(stdin ? { stdin } : {}) };
    const response = await client.fetch(`${MANAGED}/sessions/${session.id}/exec`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    process.exitCode = await relayFrames(response.body!);
  },
});

/** Writes stdout and stderr frames as they come; answers the exit code (128 + signal number when signalled). */
async function relayFrames(body: ReadableStream<Uint8Array>): Promise<number> {
  for await (const line of readLines(body)) {
    const frame = JSON.parse(line) as ExecFrame;
    if (frame.type === 'exit') return exitStatus(frame);
    await write(frame.type === 'stdout' ? process.stdout : process.stderr, Buffer.from(frame.data!, 'base64'));
  }
  throw new CliError('the connection ended before the command did', { hint: 'the command may still have run; check with lap logs' });
}

function exitStatus(frame: ExecFrame): number {
  if (frame.timedOut) process.stderr.write('lap: the command timed out and was stopped\n');
  if (frame.code !== null && frame.code !== undefined) return frame.code;
  return 128 + (constants.signals[frame.signal as keyof typeof constants.signals] ?? 0);
}

function write(stream: NodeJS.WriteStream, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => (stream.write(bytes) ? resolve() : stream.once('drain', resolve)));
}
