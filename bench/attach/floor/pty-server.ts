// The floor chain's last process: the agent's terminal with everything but the bytes taken out (no
// WebSocket, no screen mirror, no token). Each connection gets `bash -i` under node-pty, spawned as
// the agent spawns it. Usage: node pty-server.ts COLS ROWS; prints its port.
import { createServer, type Socket } from 'node:net';
import { spawn as spawnPty } from 'node-pty';

const [cols, rows] = process.argv.slice(2).map(Number);
const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: process.env.HOME ?? '/root', TERM: 'xterm-256color' };

const server = createServer({ noDelay: true }, (socket: Socket) => {
  const pty = spawnPty('/bin/bash', ['-i'], { name: 'xterm-256color', cols, rows, cwd: env.HOME, env, encoding: null });
  pty.onData((chunk) => socket.write(chunk as unknown as Buffer));
  pty.onExit(() => socket.end());
  socket.on('data', (bytes) => pty.write(bytes));
  socket.once('close', () => pty.kill('SIGKILL'));
  socket.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => console.log((server.address() as { port: number }).port));
