// Every lap command, by the name typed after `lap`. `open` is what `lap <agent>` runs.
import type { CommandDef } from 'citty';
import agents from './agents.ts';
import attach from './attach.ts';
import chat from './chat.ts';
import completion from './completion.ts';
import exec from './exec.ts';
import harness from './harness.ts';
import login from './login.ts';
import logs from './logs.ts';
import ls from './ls.ts';
import open from './open.ts';
import rm from './rm.ts';
import secrets from './secrets.ts';
import send from './send.ts';
import vault from './vault.ts';
import version from './version.ts';

export const commands: Record<string, CommandDef<any>> = { login, attach, ls, rm, agents, secrets, send, chat, logs, vault, exec, harness, completion, version, open };

/** For `lap completion`: the subcommands and flags after each command path. */
export async function completionTable(): Promise<Record<string, string[]>> {
  const table: Record<string, string[]> = { '': Object.keys(commands).filter((name) => name !== 'open').concat('--help', '--version') };
  const walk = async (path: string, command: CommandDef<any>) => {
    const args = Object.entries((command.args ?? {}) as Record<string, { type?: string }>).filter(([, a]) => a.type !== 'positional');
    const subCommands = (command.subCommands ?? {}) as Record<string, CommandDef<any>>;
    table[path] = [...Object.keys(subCommands), ...args.map(([name]) => `--${name}`), '--help'];
    for (const [name, sub] of Object.entries(subCommands)) await walk(`${path} ${name}`, sub);
  };
  for (const [name, command] of Object.entries(commands)) if (name !== 'open') await walk(name, command);
  return table;
}
