// One request written as raw bytes (for request lines and upgrades that fetch would never send), read
// until the server closes the connection: the answer's head and body.
import { connect } from 'node:net';

export function rawExchange(base: string, request: string): Promise<{ head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(base).port), '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.on('data', (chunk) => (text += chunk));
    socket.once('error', reject);
    socket.once('close', () => {
      const end = text.indexOf('\r\n\r\n');
      resolve({ head: text.slice(0, end), body: text.slice(end + 4) });
    });
  });
}
