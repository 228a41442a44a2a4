// What the local runtime needs from the host, checked at once, reported in one message.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { nodeBinary } from '../../../vault/host/node-binary.ts';

const TOOLS: ReadonlyArray<readonly [tool: string, debianPackage: string]> = [
  ['ip', 'iproute2'],
  ['iptables-nft-restore', 'iptables'],
  ['ip6tables-nft-restore', 'iptables'],
  ['unshare', 'util-linux'],
  ['nsenter', 'util-linux'],
  ['setpriv', 'util-linux'],
  ['mount', 'mount'],
  ['getent', 'libc-bin'],
  ['useradd', 'passwd'],
];

const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export function preflightProblems(): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) {
    problems.push('not running as root: the local runtime creates network namespaces, veth pairs and iptables rules (run the gateway as root, e.g. sudo npm start)');
  }
  const notOnPath = TOOLS.filter(([tool]) => !onPath(tool));
  const elsewhere = notOnPath.filter(([tool]) => SYSTEM_DIRS.some((dir) => isExecutable(join(dir, tool))));
  const missing = notOnPath.filter((entry) => !elsewhere.includes(entry));
  if (elsewhere.length > 0) {
    problems.push(`installed but not on PATH: ${elsewhere.map(([tool]) => tool).join(', ')}; add ${SYSTEM_DIRS.join(':')} to the gateway's PATH`);
  }
  if (missing.length > 0) {
    const packages = [...new Set(missing.map(([, pkg]) => pkg))];
    problems.push(`missing on PATH: ${missing.map(([tool, pkg]) => `${tool} (${pkg})`).join(', ')}; install with scripts/setup-host.sh or apt-get install ${packages.join(' ')}`);
  }
  try {
    nodeBinary();
  } catch (err) {
    problems.push(`${(err as Error).message} (run npm install)`);
  }
  return problems;
}

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(':').filter(Boolean).some((dir) => isExecutable(join(dir, tool)));
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
