// The ways the benches reach an interactive bash under a PTY, behind one interface so the same
// measuring code runs on all: node-pty in this process (the baseline), the agent's /v1/tty WebSocket
// (client → agent → PTY → agent → client), and any client command (ssh, lap attach) under node-pty.
import { spawn as spawnPty } from 'node-pty';
import { WebSocket } from 'ws';

export interface ByteChannel {
  write(bytes: string): void;
  /** Replaces the listener for terminal output. */
  onOutput(listener: (chunk: Buffer) => void): void;
  close(): Promise<void>;
}

export interface ShellSize {
  cols: number;
  rows: number;
}

/** bash -i under node-pty in this process, with the environment the agent's shell harness gives it. */
export function directChannel(home: string, size: ShellSize): ByteChannel {
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: home, TERM: 'xterm-256color' };
  return ptyCommandChannel('/bin/bash', ['-i'], { cwd: home, env, size });
}

export interface PtyCommand {
  cwd: string;
  env: Record<string, string>;
  size: ShellSize;
}

/** Any command under node-pty in this process: the bytes are what a terminal showing it would receive. */
export function ptyCommandChannel(file: string, args: readonly string[], { cwd, env, size }: PtyCommand): ByteChannel {
  const pty = spawnPty(file, [...args], { name: 'xterm-256color', ...size, cwd, env, encoding: null });
  let listener: (chunk: Buffer) => void = () => {};
  pty.onData((chunk) => listener(chunk as unknown as Buffer));
  const exited = new Promise<void>((resolve) => pty.onExit(() => resolve()));
  return {
    write: (bytes) => pty.write(bytes),
    onOutput: (next) => (listener = next),
    close: () => {
      pty.kill('SIGKILL');
      return exited;
    },
  };
}

/** A viewer of the agent's terminal: skips the hello and the snapshot, then passes the live bytes on. */
export async function agentChannel(url: string, token: string): Promise<ByteChannel> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
  let listener: (chunk: Buffer) => void = () => {};
  let snapshotSeen = false;
  ws.on('message', (data, isBinary) => {
    if (!isBinary) return;
    if (snapshotSeen) listener(data as Buffer);
    snapshotSeen = true;
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    write: (bytes) => ws.send(Buffer.from(bytes), { binary: true }),
    onOutput: (next) => (listener = next),
    close: () => {
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      ws.close();
      return closed;
    },
  };
}
