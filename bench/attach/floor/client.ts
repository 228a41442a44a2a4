// The floor chain's client: `lap attach` with everything but the bytes taken out. The terminal in raw
// mode, keys to a TCP socket, the socket's bytes to the terminal. Usage: node client.ts PORT
import { connect } from 'node:net';

const socket = connect({ host: '127.0.0.1', port: Number(process.argv[2]), noDelay: true });
process.stdin.setRawMode(true);
process.stdin.pipe(socket);
socket.pipe(process.stdout);
socket.once('close', () => process.exit(0));
socket.once('error', (err) => {
  process.stderr.write(`floor client: ${err.message}\n`);
  process.exit(1);
});
