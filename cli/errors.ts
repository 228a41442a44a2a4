// One kind of failure the CLI reports: one readable line, a hint, and a documented exit code
// (docs/cli.md). Anything else that escapes a command is a bug and is reported as one.
import { printable } from './output.ts';

/** lap's own exit codes. attach and exec exit with the remote program's code instead, as ssh does. */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  auth: 3,
  notFound: 4,
  unreachable: 255,
} as const;

export class CliError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;
  constructor(message: string, opts: { hint?: string; exitCode?: number } = {}) {
    super(message);
    this.name = 'CliError';
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? EXIT.error;
  }
}

export const usageError = (message: string, hint?: string) => new CliError(message, { hint, exitCode: EXIT.usage });

/** Prints the error for a person (stderr) and returns the exit code. */
export function reportError(err: unknown): number {
  if (err instanceof CliError) {
    // The message may quote the server, and through it the sandbox: its control characters are escaped.
    process.stderr.write(`lap: ${printable(err.message)}\n${err.hint ? `  hint: ${err.hint}\n` : ''}`);
    return err.exitCode;
  }
  process.stderr.write(`lap: unexpected error: ${(err as Error)?.stack ?? String(err)}\n  hint: this is a bug in lap; please report it with the command you ran\n`);
  return EXIT.error;
}
