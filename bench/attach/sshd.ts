// The baseline's server: OpenSSH's sshd on 127.0.0.1 with keys generated for this run only (a host
// key, and a client key it accepts for root), started in the foreground so the bench's ChildGroup
// stops it however the run ends.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ChildGroup } from '../vault/children.ts';

const SSHD = '/usr/sbin/sshd';
const READY_TIMEOUT_MS = 10_000;

export interface LoopbackSshd {
  port: number;
  clientKey: string;
}

/** ssh arguments that log in to the bench's sshd as root and run an interactive bash on a remote PTY. */
export function sshArgs(sshd: LoopbackSshd): string[] {
  return ['-tt', '-F', '/dev/null', '-i', sshd.clientKey, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'LogLevel=ERROR', '-p', String(sshd.port), 'root@127.0.0.1', 'bash -i'];
}

/** Generates the keys and config under `dir` (which the caller removes) and waits until sshd listens. */
export async function startLoopbackSshd(group: ChildGroup, dir: string): Promise<LoopbackSshd> {
  if (!existsSync(SSHD)) throw new Error(`no ${SSHD}: the baseline needs OpenSSH (apt-get install -y openssh-server openssh-client)`);
  const sshDir = join(dir, 'ssh');
  mkdirSync(sshDir, { mode: 0o700 });
  const hostKey = join(sshDir, 'host_ed25519');
  const clientKey = join(sshDir, 'client_ed25519');
  for (const key of [hostKey, clientKey]) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lap-bench', '-f', key]);
  const config = join(sshDir, 'sshd_config');
  writeFileSync(config, sshdConfig(hostKey, `${clientKey}.pub`));
  // sshd refuses to start without its privilege-separation directory, which only the package's service creates.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freeLoopbackPort();
  const child = group.spawn(SSHD, ['-D', '-e', '-f', config, '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  const log: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sshd did not listen within ${READY_TIMEOUT_MS / 1000} s:\n${log.join('\n')}`)), READY_TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`sshd exited (${signal ?? `code ${code}`}):\n${log.join('\n')}`)));
    createInterface({ input: child.stderr! }).on('line', (line) => {
      log.push(line);
      if (!line.startsWith('Server listening on 127.0.0.1')) return;
      clearTimeout(timer);
      resolve();
    });
  });
  return { port, clientKey };
}

function sshdConfig(hostKey: string, authorizedKeys: string): string {
  return [
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKey}`,
    `AuthorizedKeysFile ${authorizedKeys}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'UseDNS no',
    // The keys live under /tmp (world-writable), which StrictModes would reject as a path.
    'StrictModes no',
    'PrintMotd no',
    'PrintLastLog no',
    '',
  ].join('\n');
}

/** A port that was free a moment ago (sshd cannot be told to pick one and report it). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
