// LAP_DATA_DIR: made on first start, and held by one gateway at a time. Two gateways on one data dir
// would both adopt and reap its sandboxes and both pump their events, so the second refuses to start.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { dirname } from 'node:path';

/**
 * `mkdir -p` one level at a time: Node's recursive mkdir never returns where mkdir answers ENOENT
 * under a parent that exists (/proc, /sys), which left `npm start` hanging without a word.
 */
export function makeDataDir(dir: string): void {
  const missing: string[] = [];
  for (let level = dir; !existsSync(level); level = dirname(level)) missing.unshift(level);
  try {
    for (const level of missing) mkdirSync(level, { mode: 0o700 });
  } catch (err) {
    throw new Error(`cannot create LAP_DATA_DIR ${dir}: ${(err as Error).message}`);
  }
}

export interface DataDirLock {
  release(): Promise<void>;
}

/**
 * Holds the data dir by listening on an abstract unix socket named after its real path. The kernel
 * frees the name when the process ends however it ends, so a crash leaves no stale lock behind; the
 * holder answers its pid to anyone who connects, so the refusal can name it.
 */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  const name = `\0lap-gateway-${createHash('sha256').update(realpathSync(dir)).digest('hex').slice(0, 32)}`;
  const server = createServer((socket) => socket.end(`${process.pid}\n`));
  try {
    await listen(server, name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    const holder = await holderPid(name);
    throw new Error(`another LAP gateway${holder ? ` (pid ${holder})` : ''} is running on LAP_DATA_DIR ${dir}: stop it first, or give this one its own LAP_DATA_DIR`);
  }
  server.unref();
  return { release: () => new Promise((resolve) => server.close(() => resolve())) };
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path }, () => resolve());
  });
}

function holderPid(path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    let answer = '';
    socket.setTimeout(1_000, () => socket.destroy());
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('error', () => resolve(undefined));
    socket.on('close', () => resolve(/^\d+$/.test(answer.trim()) ? answer.trim() : undefined));
  });
}
