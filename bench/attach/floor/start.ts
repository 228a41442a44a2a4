// Starts the floor chain: lap's three-process topology (client → relay → PTY owner) built from bare
// Node sockets and node-pty, with no LAP code on the way. Its echo time is what any design with three
// Node processes on the keystroke's path pays on this machine before doing anything of its own.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ShellSize } from '../../pty/channel.ts';
import type { ChildGroup } from '../../vault/children.ts';
import type { ClientCommand } from '../clients.ts';

const READY_TIMEOUT_MS = 10_000;
const script = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));

export interface FloorClients {
  /** client → relay → PTY server: lap's three processes. */
  threeProcesses: ClientCommand;
  /** client → PTY server: what a design without the gateway on the path would have. */
  twoProcesses: ClientCommand;
}

/** The commands that run the floor chain's client, through a relay and straight to the PTY server. */
export async function startFloorChain(group: ChildGroup, size: ShellSize, home: Record<string, string>): Promise<FloorClients> {
  const ptyPort = await portOf(group.spawn(process.execPath, [script('pty-server.ts'), String(size.cols), String(size.rows)], { stdio: ['ignore', 'pipe', 'inherit'], env: home }));
  const relayPort = await portOf(group.spawn(process.execPath, [script('relay.ts'), String(ptyPort)], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const client = (port: number): ClientCommand => ({ file: process.execPath, args: [script('client.ts'), String(port)], env: home });
  return { threeProcesses: client(relayPort), twoProcesses: client(ptyPort) };
}

/** The port a floor process prints on its first line once it listens. */
function portOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`floor chain: ${child.spawnargs.join(' ')} did not listen within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
    child.once('exit', (code) => reject(new Error(`floor chain: ${child.spawnargs.join(' ')} exited (code ${code})`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(Number(line));
    });
  });
}
