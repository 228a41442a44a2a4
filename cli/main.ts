// lap's entry: routes `lap <agent>` to the open command, answers --help and --version, runs the
// command and turns any failure into one line, a hint and a documented exit code (docs/cli.md).
import { type CommandDef, defineCommand, renderUsage, runCommand } from 'citty';
import { commands } from './commands/index.ts';
import { VERSION } from './commands/version.ts';
import { EXIT, reportError, usageError } from './errors.ts';

const root = defineCommand({
  meta: { name: 'lap', version: VERSION, description: 'Coding agents in sandboxes, from your terminal' },
  subCommands: commands,
});

const ROOT_FOOTER = `
  lap <agent> [--new]   attach to the agent's newest ready session, or start one (--new: always start one)
  lap                   on a terminal: pick an agent, then as lap <agent>

Config: $XDG_CONFIG_HOME/lap/config.json (lap login); LAP_URL and LAP_API_KEY override it.
Exit codes and more: docs/cli.md`;

export async function main(argv: string[]): Promise<number> {
  const beforeDash = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  try {
    if (beforeDash.includes('--help') || beforeDash.includes('-h')) return await printHelp(beforeDash.filter((a) => a !== '--help' && a !== '-h'));
    if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
      process.stdout.write(`${VERSION}\n`);
      return EXIT.ok;
    }
    await runCommand(root, { rawArgs: routed(argv) });
    return Number(process.exitCode ?? EXIT.ok);
  } catch (err) {
    return reportError(isCittyError(err) ? usageError((err as Error).message, 'lap --help lists commands; lap <command> --help shows one') : err);
  }
}

/** `lap` and `lap <agent> …` run the open command; anything that names a command runs it. */
function routed(argv: string[]): string[] {
  const first = argv[0];
  if (first === undefined || (!first.startsWith('-') && !(first in commands))) return ['open', ...argv];
  if (first.startsWith('-')) throw usageError(`unknown option ${first}`, 'options go after the command: lap <command> [options]');
  return argv;
}

async function printHelp(words: string[]): Promise<number> {
  let command: CommandDef<any> = root;
  const path = ['lap'];
  const positional = words.filter((w) => !w.startsWith('-'));
  if (positional[0] !== undefined && !(positional[0] in commands)) positional[0] = 'open'; // lap <agent> --help
  for (const word of positional) {
    const sub = ((command.subCommands ?? {}) as Record<string, CommandDef<any>>)[word];
    if (!sub) break;
    command = sub;
    path.push(word);
  }
  const parent = path.length > 1 ? { meta: { name: path.slice(0, -1).join(' ') } } : undefined;
  process.stdout.write(`${await renderUsage(command, parent)}${command === root ? ROOT_FOOTER : ''}\n`);
  return EXIT.ok;
}

function isCittyError(err: unknown): boolean {
  return err instanceof Error && err.name === 'CLIError';
}
