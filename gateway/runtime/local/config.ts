// The local runtime's options, checked field by field; defaults filled in.
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { REPO_ROOT } from '../../../vault/host/access.ts';
import { createVethPool, type VethPool } from '../../../vault/host/pool.ts';
import { createResolver } from '../../../vault/resolve.ts';
import { DEFAULT_HARNESS_DIR } from '../../../sandbox-agent/harnesses/installed.ts';

export interface LocalRuntimeConfig {
  /** Sandboxes live under <dataDir>/sandboxes/<id>/. */
  dataDir: string;
  /** CIDR the veth /30s come from; default '10.214.0.0/16' (the vault testbed uses 10.213.0.0/16). */
  vethPool?: string;
  /** The agent's port on the sandbox end of the veth; default 7070. */
  agentPort?: number;
  /** Passed to every vault: explicit name → 'ip' or 'ip:port' map, and extra upstream CA files. */
  vault?: { hosts?: Record<string, string>; extraCaFiles?: string[] };
  /** Harness programs (scripts/harness-install.ts), shown read-only in every sandbox; default /opt/lap/harnesses. */
  harnessDir?: string;
  log?: Logger;
}

export interface ResolvedConfig {
  dataDir: string;
  sandboxesDir: string;
  pool: VethPool;
  agentPort: number;
  vault: { hosts: Record<string, string>; extraCaFiles: string[] };
  harnessDir: string;
  log: Logger;
}

const DEFAULT_POOL = '10.214.0.0/16';
// Host interfaces are lapv<slot>: never the testbed's laptb<slot>.
const INTERFACE_PREFIX = 'lapv';
const DEFAULT_AGENT_PORT = 7070;

export function resolveConfig(config: LocalRuntimeConfig): ResolvedConfig {
  const problems: string[] = [];
  const check = (ok: boolean, problem: string) => ok || problems.push(problem);
  if (typeof config !== 'object' || config === null) throw new TypeError('local runtime: config must be an object');
  check(typeof config.dataDir === 'string' && config.dataDir !== '', 'dataDir: must be a non-empty path');
  const dataDir = resolve(String(config.dataDir ?? ''));
  check(!`${REPO_ROOT}/`.startsWith(`${dataDir}/`), `dataDir: ${dataDir} holds the checkout ${REPO_ROOT}, which every sandbox must see; pick a folder beside it`);
  const agentPort = config.agentPort ?? DEFAULT_AGENT_PORT;
  check(Number.isInteger(agentPort) && agentPort >= 1 && agentPort <= 65535, `agentPort: must be an integer port in 1..65535, got ${JSON.stringify(config.agentPort)}`);
  const hosts = config.vault?.hosts ?? {};
  try {
    createResolver({ hosts }); // the vault's own reading of the map, so a bad entry fails here and not in every vault
  } catch (err) {
    problems.push(`vault.hosts: ${(err as Error).message}`);
  }
  const extraCaFiles = config.vault?.extraCaFiles ?? [];
  check(Array.isArray(extraCaFiles), 'vault.extraCaFiles: must be an array of paths');
  if (Array.isArray(extraCaFiles)) {
    extraCaFiles.forEach((file, i) => check(typeof file === 'string' && existsSync(file), `vault.extraCaFiles[${i}]: ${JSON.stringify(file)} is not an existing file`));
  }
  const harnessDir = resolve(config.harnessDir ?? DEFAULT_HARNESS_DIR);
  check(config.harnessDir === undefined || (typeof config.harnessDir === 'string' && isAbsolute(config.harnessDir)), `harnessDir: must be an absolute path, got ${JSON.stringify(config.harnessDir)}`);
  check(!isInside(harnessDir, dataDir), `harnessDir: ${harnessDir} is inside dataDir ${dataDir}, which sandboxes must not see; pick a folder outside it`);
  let pool: VethPool | undefined;
  try {
    pool = createVethPool(config.vethPool ?? DEFAULT_POOL, INTERFACE_PREFIX);
  } catch (err) {
    problems.push(`vethPool: ${(err as Error).message}`);
  }
  if (problems.length > 0 || !pool) throw new TypeError(`local runtime config: ${problems.join('; ')}`);
  const log = config.log ?? pino({ level: 'silent' });
  return { dataDir, sandboxesDir: join(dataDir, 'sandboxes'), pool, agentPort, vault: { hosts: { ...hosts }, extraCaFiles: [...extraCaFiles] }, harnessDir, log };
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (rel !== '..' && !rel.startsWith('../') && !isAbsolute(rel));
}
