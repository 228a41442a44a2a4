// The REST API on a real HTTP server (127.0.0.1, a free port) over a real SQLite store in a temp dir.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiApp } from '../../../gateway/api/app.ts';
import { createApiServer } from '../../../gateway/api/server.ts';
import type { RouteSpec } from '../../../gateway/api/route.ts';
import { openStore } from '../../../gateway/store/sqlite.ts';
import type { Store } from '../../../gateway/store/types.ts';

export interface ApiServer {
  url: string;
  store: Store;
  masterKey: string;
  /** Every 500 the API logged: a test asserts there are none. */
  errors: object[];
  close(): Promise<void>;
}

export async function startApiServer(routes: RouteSpec[] = []): Promise<ApiServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lap-api-'));
  const store = openStore({ dataDir, secretKey: randomBytes(32) });
  const masterKey = `lap_master_${randomBytes(24).toString('base64url')}`;
  const errors: object[] = [];
  const log = { error: (details: object) => errors.push(details) };
  const server = createApiServer(createApiApp({ store, masterKey, routes, log }).fetch, log);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    store,
    masterKey,
    errors,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
