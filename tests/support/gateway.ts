// A real gateway for tests: in this process (startGateway with the local runtime), or as its own
// `node gateway/main.ts` process for restart tests. Each gets a fresh data dir.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../gateway/config.ts';
import { startGateway, type RunningGateway } from '../../gateway/gateway.ts';

const GATEWAY_MAIN = fileURLToPath(new URL('../../gateway/main.ts', import.meta.url));

export interface ApiClient {
  readonly url: string;
  readonly key: string;
  /** fetch with the key; JSON bodies given as objects. */
  call(method: string, path: string, body?: unknown, key?: string): Promise<Response>;
  /** call() and parse JSON; throws on a status other than `expect`. */
  json<T = any>(method: string, path: string, body?: unknown, expect?: number): Promise<T>;
}

export function apiClient(url: string, key: string): ApiClient {
  const call = (method: string, path: string, body?: unknown, asKey = key) =>
    fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${asKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(120_000),
    });
  return {
    url,
    key,
    call,
    async json(method, path, body, expect) {
      const response = await call(method, path, body);
      const text = await response.text();
      if (expect !== undefined && response.status !== expect) throw new Error(`${method} ${path}: expected ${expect}, got ${response.status}: ${text}`);
      return JSON.parse(text);
    },
  };
}

export interface TestGatewayOptions {
  warmPool?: string;
  vaultHosts?: Record<string, string>;
  extraCaPem?: string;
  env?: Record<string, string>;
}

function gatewayEnv(dataDir: string, opts: TestGatewayOptions): Record<string, string> {
  const env: Record<string, string> = {
    LAP_DATA_DIR: dataDir,
    LAP_PORT: '0',
    LAP_WARM_POOL: opts.warmPool ?? '',
    LAP_LOG_LEVEL: 'warn',
    LAP_RECONCILE_INTERVAL_MS: '500',
    // The default follows the machine's memory; tests and benches that run many sessions must not.
    LAP_MAX_SESSIONS: '100',
    ...opts.env,
  };
  if (opts.vaultHosts) env.LAP_VAULT_HOSTS = Object.entries(opts.vaultHosts).map(([k, v]) => `${k}=${v}`).join(',');
  if (opts.extraCaPem) {
    const caFile = join(dataDir, '..', 'upstream-ca.pem');
    writeFileSync(caFile, opts.extraCaPem);
    env.LAP_VAULT_EXTRA_CA_FILES = caFile;
  }
  return env;
}

export interface TestGateway extends ApiClient {
  readonly gateway: RunningGateway;
  readonly dataDir: string;
  close(): Promise<void>;
}

/** In this process. close() removes every sandbox and the data dir. */
export async function startTestGateway(opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const root = mkdtempSync(join(tmpdir(), 'lap-gw-test-'));
  const dataDir = join(root, 'data');
  const gateway = await startGateway(loadConfig(gatewayEnv(dataDir, opts)));
  return {
    ...apiClient(gateway.url, gateway.masterKey),
    gateway,
    dataDir,
    close: async () => {
      await gateway.close({ removeSandboxes: true });
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface GatewayProcess {
  readonly url: string;
  readonly process: ChildProcess;
  readonly log: string[];
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** `node gateway/main.ts` on a given data dir; resolves once it prints "LAP is up". */
export async function startGatewayProcess(dataDir: string, opts: TestGatewayOptions & { masterKey: string }): Promise<GatewayProcess> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...gatewayEnv(dataDir, opts), LAP_MASTER_KEY: opts.masterKey, LAP_LOG_LEVEL: 'info' };
  const child = spawn(process.execPath, [GATEWAY_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => log.push(l));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway not up in 60 s:\n${log.join('\n')}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}:\n${log.join('\n')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      log.push(line);
      const entry = safeJson(line);
      if (entry?.msg === 'LAP is up' && typeof entry.url === 'string') {
        clearTimeout(timer);
        resolve(entry.url);
      }
    });
  });
  return {
    url,
    process: child,
    log,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
  };
}

function safeJson(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
