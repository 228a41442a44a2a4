// The two terminal clients, each run as a command inside an outer node-pty the way a person's terminal
// runs it: `ssh -tt … bash -i` to the loopback sshd (the baseline), and `lap attach <session>`.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type ByteChannel, ptyCommandChannel, type ShellSize } from '../pty/channel.ts';
import { type LoopbackSshd, sshArgs } from './sshd.ts';

export const LAP_BIN = fileURLToPath(new URL('../../cli/bin/lap.mjs', import.meta.url));

export interface ClientCommand {
  file: string;
  args: string[];
  env: Record<string, string>;
}

export interface LapTarget {
  gatewayUrl: string;
  apiKey: string;
}

/** A fresh HOME (and XDG config) per client, so neither reads the machine's ~/.ssh or lap config. */
export function clientHome(dir: string, name: string): Record<string, string> {
  const home = join(dir, `${name}-home`);
  mkdirSync(join(home, '.config'), { recursive: true });
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    TERM: 'xterm-256color',
  };
}

export function sshCommand(sshd: LoopbackSshd, home: Record<string, string>): ClientCommand {
  return { file: 'ssh', args: sshArgs(sshd), env: home };
}

/** `lap <args>` with the same node as this process, pointed at the bench's gateway. */
export function lapCommand(args: string[], target: LapTarget, home: Record<string, string>): ClientCommand {
  return { file: process.execPath, args: [LAP_BIN, ...args], env: { ...home, LAP_URL: target.gatewayUrl, LAP_API_KEY: target.apiKey } };
}

export interface ClientChannel extends ByteChannel {
  /** The last bytes the client printed, as text: what a person would see when a step fails. */
  recentOutput(): string;
}

export function openClient(client: ClientCommand, size: ShellSize): ClientChannel {
  const channel = ptyCommandChannel(client.file, client.args, { cwd: client.env.HOME!, env: client.env, size });
  // The last two chunks by reference: nothing copied on the measured path.
  let previous: Buffer = Buffer.alloc(0);
  let last: Buffer = Buffer.alloc(0);
  return {
    write: (bytes) => channel.write(bytes),
    onOutput: (listener) =>
      channel.onOutput((chunk) => {
        previous = last;
        last = chunk;
        listener(chunk);
      }),
    close: () => channel.close(),
    recentOutput: () => Buffer.concat([previous, last]).toString('utf8'),
  };
}

const SCREEN_LIMIT_MS = 30_000;
const SETTLE_MS = 500;

/**
 * Waits, as a person would, until the client shows the remote screen and has settled, before typing:
 * `lap attach` drops keys typed before its connection is open (ssh queues them).
 */
export async function remoteScreenShown(channel: ByteChannel, name: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} printed nothing within ${SCREEN_LIMIT_MS / 1000} s`)), SCREEN_LIMIT_MS);
    channel.onOutput(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  await sleep(SETTLE_MS);
}
