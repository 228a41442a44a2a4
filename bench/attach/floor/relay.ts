// The floor chain's middle process: the gateway's attach relay after authentication (a byte pipe each
// way, Nagle off), with nothing else. Usage: node relay.ts NEXT_PORT; prints its own port.
import { connect, createServer, type Socket } from 'node:net';

const nextPort = Number(process.argv[2]);

const server = createServer({ noDelay: true }, (client: Socket) => {
  const upstream = connect({ host: '127.0.0.1', port: nextPort, noDelay: true });
  client.pipe(upstream).on('error', () => client.destroy());
  upstream.pipe(client).on('error', () => upstream.destroy());
  client.once('close', () => upstream.destroy());
  upstream.once('close', () => client.destroy());
});
server.listen(0, '127.0.0.1', () => console.log((server.address() as { port: number }).port));
