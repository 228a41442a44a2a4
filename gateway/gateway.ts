// Puts the gateway together: store, runtime, sessions, warm pool, reconciler, REST + SSE + the TTY
// WebSocket, and re-adopts the sandboxes a previous run left running.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { pino, type Logger } from 'pino';
import { harnessNames } from '../sandbox-agent/harnesses/index.ts';
import type { AgentEvent } from '../sandbox-agent/protocol.ts';
import type { AuditEvent } from '../vault/types.ts';
import { adminRoutes } from './admin-routes.ts';
import { type DataDirLock, lockDataDir, makeDataDir } from './data-dir.ts';
import { createApiApp } from './api/app.ts';
import { createApiServer } from './api/server.ts';
import { authenticate, MASTER_KEY_RECORD } from './api/auth.ts';
import { masterKeyFile, secretKeyFile, type GatewayConfig } from './config.ts';
import { createMetrics } from './metrics.ts';
import { createLocalRuntime } from './runtime/local/index.ts';
import type { Runtime } from './runtime/types.ts';
import { adoptSandboxes } from './sessions/adopt.ts';
import { SessionEventLog } from './sessions/event-log.ts';
import { EventPump } from './sessions/event-pump.ts';
import { Reconciler } from './sessions/reconciler.ts';
import { execRoute } from './sessions/exec.ts';
import { messageRoutes } from './sessions/messages.ts';
import { sessionRoutes } from './sessions/routes.ts';
import { Sandboxes } from './sessions/sandboxes.ts';
import { SessionService } from './sessions/service.ts';
import { TicketBook } from './sessions/tickets.ts';
import { createTtyProxy } from './sessions/tty-proxy.ts';
import { WarmPool } from './sessions/warm-pool.ts';
import { loadSecretKey } from './store/crypto.ts';
import { openStore } from './store/sqlite.ts';
import type { Store } from './store/types.ts';

export interface RunningGateway {
  url: string;
  /** Where the generated master key is, or undefined when it came from LAP_MASTER_KEY. */
  masterKeyFile: string | undefined;
  masterKey: string;
  store: Store;
  pool: WarmPool;
  /** Stops serving; sandboxes keep running for the next start to adopt (or are removed with removeSandboxes). */
  close(opts?: { removeSandboxes?: boolean }): Promise<void>;
}

export async function startGateway(config: GatewayConfig, opts: { runtime?: Runtime; log?: Logger } = {}): Promise<RunningGateway> {
  checkWarmPool(config.warmPool);
  makeDataDir(config.dataDir);
  const dataDirLock = await lockDataDir(config.dataDir);
  try {
    return await startOnDataDir(config, opts, dataDirLock);
  } catch (err) {
    await dataDirLock.release();
    throw err;
  }
}

async function startOnDataDir(config: GatewayConfig, opts: { runtime?: Runtime; log?: Logger }, dataDirLock: DataDirLock): Promise<RunningGateway> {
  const log = opts.log ?? pino({ level: config.logLevel, base: { part: 'gateway' }, timestamp: pino.stdTimeFunctions.isoTime });
  const runtime = opts.runtime ?? createLocalRuntime({ dataDir: config.dataDir, vethPool: config.vethPool, vault: { hosts: config.vaultHosts, extraCaFiles: config.vaultExtraCaFiles }, harnessDir: config.harnessDir, log });
  await runtime.preflight();
  const { key: secretKey } = loadSecretKey({ env: config.secretKey, envName: 'LAP_SECRET_KEY', keyFile: secretKeyFile(config) });
  const store = openStore({ dataDir: config.dataDir, secretKey });
  const master = loadMasterKey(config);

  const events = new SessionEventLog(store);
  const sandboxes = new Sandboxes(store, runtime, log);
  const pool = new WarmPool(store, sandboxes, config.warmPool, log);
  const metrics = createMetrics(store, () => pool.stats());
  let service: SessionService | undefined;
  const hooks = {
    onAgentEvent: (id: string, e: AgentEvent) => service?.onAgentEvent(id, e),
    onAuditEvent: (_id: string, e: AuditEvent) => metrics.vaultRequests.inc({ decision: e.decision }),
    onEventLimit: (id: string, limit: number) => void service?.end(id, 'failed', `its sandbox sent ${limit} events, the most a session keeps (LAP_MAX_EVENTS_PER_SESSION); the events so far are kept`),
  };
  const pump = new EventPump({ store, events, hooks, warn: (details, message) => log.warn(details, message), maxEventsPerSession: config.maxEventsPerSession });
  service = new SessionService({ store, sandboxes, pool, events, pump, metrics, log, exitedGraceMs: config.exitedGraceMs, maxLiveSessions: config.maxLiveSessions });
  const reconciler = new Reconciler({ store, service, sandboxes, pool, log, intervalMs: config.reconcileIntervalMs });
  const tickets = new TicketBook((key) => key.id === MASTER_KEY_RECORD.id || store.apiKeys.get(key.id)?.revokedAt === null);
  let ready = false;

  const app = createApiApp({
    store,
    masterKey: master.key,
    log,
    routes: [...sessionRoutes(service, events, tickets), execRoute(service), ...messageRoutes(service, events), ...adminRoutes({ metrics, poolStats: () => pool.stats(), ready: () => ready })],
  });
  const tty = createTtyProxy({ service, tickets, log, authenticate: (token) => tryAuthenticate(store, master.key, token) });
  const server = createApiServer(app.fetch, log);
  server.on('upgrade', tty.upgrade);
  await listen(server, config.host, config.port);
  const url = `http://${hostForUrl(config.host)}:${(server.address() as AddressInfo).port}`;

  const adoption = await adoptSandboxes({ store, sandboxes, service, pump, log });
  log.info({ adopted: adoption.adopted.length, reaped: adoption.reaped.length }, 'sandboxes from the previous run re-adopted');
  ready = true;
  pool.refill();
  reconciler.start();

  return {
    url,
    masterKeyFile: master.file,
    masterKey: master.key,
    store,
    pool,
    close: async ({ removeSandboxes = false } = {}) => {
      await reconciler.stop();
      await pool.close();
      await service.shutdown();
      tty.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (removeSandboxes) await Promise.all(store.sandboxes.list().map((s) => sandboxes.stop(s.id)));
      store.close();
      await dataDirLock.release();
    },
  };
}

function checkWarmPool(pool: Record<string, number>): void {
  const known = harnessNames();
  for (const harness of Object.keys(pool)) {
    if (!known.includes(harness)) throw new Error(`LAP_WARM_POOL: unknown harness ${harness}; known: ${known.join(', ')}`);
  }
}

function tryAuthenticate(store: Store, masterKey: string, token: string) {
  try {
    return authenticate(store, masterKey, `Bearer ${token}`);
  } catch {
    return undefined;
  }
}

/** LAP_MASTER_KEY, or a key generated once into a 0600 file in the data dir. */
function loadMasterKey(config: GatewayConfig): { key: string; file: string | undefined } {
  if (config.masterKey) return { key: config.masterKey, file: undefined };
  const file = masterKeyFile(config);
  if (!existsSync(file)) writeFileSync(file, `lap_master_${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  if ((statSync(file).mode & 0o077) !== 0) throw new Error(`${file} can be read by other users; run chmod 600 ${file}`);
  return { key: readFileSync(file, 'utf8').trim(), file };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen on ${host}:${port}: ${err.message}; set LAP_HOST / LAP_PORT`)));
    server.listen(port, host, () => resolve());
  });
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
