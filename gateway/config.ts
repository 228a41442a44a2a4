// The gateway's configuration: environment variables with embedded defaults, each checked at start
// with a message naming the variable. docs/operations.md lists them.
import { existsSync } from 'node:fs';
import { totalmem } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { DEFAULT_HARNESS_DIR } from '../sandbox-agent/harnesses/installed.ts';
import { isFetchBlockedPort } from './blocked-ports.ts';

/** What the default session limit allows one session: an idle sandbox is ~120 MiB, a busy one more. */
const SESSION_MEMORY_BYTES = 256 * 1024 * 1024;

export interface GatewayConfig {
  host: string;
  port: number;
  dataDir: string;
  /** Set: use it; unset: `<dataDir>/master-key`, generated 0600 on first start. */
  masterKey: string | undefined;
  /** Base64 or hex of 32 bytes; unset: `<dataDir>/secret.key`. */
  secretKey: string | undefined;
  warmPool: Record<string, number>;
  vethPool: string;
  vaultHosts: Record<string, string>;
  vaultExtraCaFiles: string[];
  /** Where harness programs are installed (scripts/harness-install.ts); shown read-only in every sandbox. */
  harnessDir: string;
  reconcileIntervalMs: number;
  exitedGraceMs: number;
  /** A session whose sandbox makes more events than this is failed, so one sandbox cannot fill the disk. */
  maxEventsPerSession: number;
  /** Live sessions at most; a create past it is refused with 429 (default: one per 256 MiB of memory). */
  maxLiveSessions: number;
  logLevel: string;
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): GatewayConfig {
  return {
    host: env.LAP_HOST ?? '127.0.0.1',
    port: listenPort(env),
    dataDir: resolve(env.LAP_DATA_DIR ?? '/var/lib/lap'),
    masterKey: nonEmpty(env, 'LAP_MASTER_KEY'),
    secretKey: nonEmpty(env, 'LAP_SECRET_KEY'),
    warmPool: pairs(env, 'LAP_WARM_POOL', 'shell=1', (v, name) => integerValue(v, `${name} count`, 0, 64)),
    vethPool: env.LAP_VETH_POOL ?? '10.214.0.0/16',
    vaultHosts: pairs(env, 'LAP_VAULT_HOSTS', '', (v) => v),
    vaultExtraCaFiles: caFiles(env),
    harnessDir: absolutePath(env, 'LAP_HARNESS_DIR', DEFAULT_HARNESS_DIR),
    reconcileIntervalMs: integer(env, 'LAP_RECONCILE_INTERVAL_MS', 1000, 100, 60_000),
    exitedGraceMs: integer(env, 'LAP_EXITED_GRACE_SECONDS', 600, 0, 86_400) * 1000,
    maxEventsPerSession: integer(env, 'LAP_MAX_EVENTS_PER_SESSION', 1_000_000, 100, 1_000_000_000),
    maxLiveSessions: integer(env, 'LAP_MAX_SESSIONS', Math.max(1, Math.floor(totalmem() / SESSION_MEMORY_BYTES)), 1, 100_000),
    logLevel: env.LAP_LOG_LEVEL ?? 'info',
  };
}

export function masterKeyFile(config: GatewayConfig): string {
  return join(config.dataDir, 'master-key');
}

export function secretKeyFile(config: GatewayConfig): string {
  return join(config.dataDir, 'secret.key');
}

function nonEmpty(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  return raw === undefined || raw === '' ? fallback : integerValue(raw, name, min, max);
}

/** 0 picks a free port (the tests use it); a port browsers refuse would leave the web UI and lap out. */
function listenPort(env: Env): number {
  const port = integer(env, 'LAP_PORT', 8080, 0, 65535);
  if (isFetchBlockedPort(port)) {
    throw new Error(`LAP_PORT ${port} is one that browsers and fetch refuse to connect to (the Fetch standard's blocked ports), so neither the web UI nor lap could reach LAP there: choose another port, such as 8080`);
  }
  return port;
}

function integerValue(raw: string, name: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return value;
}

/** `a=1,b=2` → {a: 1, b: 2}. */
function pairs<T>(env: Env, name: string, fallback: string, value: (raw: string, key: string) => T): Record<string, T> {
  const raw = env[name] ?? fallback;
  const out: Record<string, T> = {};
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new Error(`${name} must be a comma-separated list of name=value, got ${JSON.stringify(item)}`);
    const key = item.slice(0, eq);
    out[key] = value(item.slice(eq + 1), `${name} ${key}`);
  }
  return out;
}

function absolutePath(env: Env, name: string, fallback: string): string {
  const value = env[name] || fallback;
  if (!isAbsolute(value)) throw new Error(`${name} must be an absolute path, got ${JSON.stringify(value)}`);
  return resolve(value);
}

function caFiles(env: Env): string[] {
  const files = (env.LAP_VAULT_EXTRA_CA_FILES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const file of files) if (!existsSync(file)) throw new Error(`LAP_VAULT_EXTRA_CA_FILES: ${file} does not exist`);
  return files;
}
