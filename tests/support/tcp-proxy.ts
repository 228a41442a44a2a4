// A loopback TCP relay in front of a server, so a test can cut every live connection at once (a lost
// network, as the client sees it) while the server itself keeps running.
import { type AddressInfo, createServer, connect, type Socket } from 'node:net';

export interface TcpProxy {
  readonly url: string;
  /** Destroys every relayed connection; new ones are still accepted. */
  cutAll(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const live = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      live.add(socket);
      socket.on('close', () => live.delete(socket));
      socket.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cutAll: () => {
      const count = live.size;
      for (const socket of live) socket.destroy();
      return count;
    },
    close: () => new Promise((resolve) => {
      for (const socket of live) socket.destroy();
      server.close(() => resolve());
    }),
  };
}
