// A vault running in this process on 127.0.0.1 with ephemeral ports, plus clients that reach it by
// name: every name resolves to loopback, so SNI and Host are the mapped names the vault routes by.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'undici';
import { parseVaultConfig, type VaultLimits } from '../../vault/config.ts';
import { createLog } from '../../vault/log.ts';
import { type RunningVault, startVault } from '../../vault/vault.ts';
import type { VaultControl } from './vault-client.ts';

export interface LoopbackVault extends VaultControl {
  readonly vault: RunningVault;
  /** The vault's CA certificate: what a sandbox would trust. */
  readonly caPem: string;
  close(): Promise<void>;
}

export interface LoopbackVaultOptions {
  /** name → '127.0.0.1:port' of a test upstream. */
  hosts: Record<string, string>;
  upstreamCaPem?: string;
  limits?: Partial<VaultLimits>;
}

export async function startLoopbackVault(opts: LoopbackVaultOptions): Promise<LoopbackVault> {
  const parsed = parseVaultConfig({
    session: 'test-session',
    listen: { address: '127.0.0.1', tlsPort: 0, httpPort: 0, dnsPort: 0 },
    control: { host: '127.0.0.1', port: 0 },
    tokenFile: 'unused',
    syntheticAddress: '127.0.0.1',
    upstream: { extraCaFiles: opts.upstreamCaPem ? [writeTempFile('upstream-ca.pem', opts.upstreamCaPem)] : [], hosts: opts.hosts },
    limits: opts.limits ?? {},
  });
  if (!parsed.ok) throw new Error(`loopback vault config: ${JSON.stringify(parsed.issues)}`);
  const config = parsed.value;
  const controlToken = randomBytes(32).toString('hex');
  const vault = await startVault(config, controlToken, createLog('vault', { level: 'silent' }));
  return {
    vault,
    caPem: vault.state.ca.certificatePem,
    controlUrl: `http://127.0.0.1:${vault.ports.control}`,
    controlToken,
    close: () => vault.close(),
  };
}

export function writeTempFile(name: string, contents: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'lap-vault-test-')), name);
  writeFileSync(path, contents, { mode: 0o600 });
  return path;
}

/** Resolves every name to 127.0.0.1 without asking DNS: tests never look up a real name. */
export const loopbackLookup: LookupFunction = (_hostname, options, callback) => {
  if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};

export interface CountingClient {
  readonly client: Client;
  /** Connections this client has opened and lost: a healthy keep-alive client stays at 1 and 0. */
  readonly connects: () => number;
  readonly disconnects: () => number;
  get(path: string): Promise<{ status: number; body: string }>;
}

/** One HTTP/1.1 keep-alive connection to the vault, as a sandbox client would open it to `name`. */
export function connectThroughVault(scheme: 'https' | 'http', name: string, port: number, caPem: string): CountingClient {
  // allowH2 false: undici 8 offers h2 by default, and these tests count HTTP/1.1 keep-alive connections.
  const client = new Client(`${scheme}://${name}:${port}`, { allowH2: false, connect: { ca: caPem, lookup: loopbackLookup }, pipelining: 1 });
  let connects = 0;
  let disconnects = 0;
  client.on('connect', () => connects++);
  client.on('disconnect', () => disconnects++);
  return {
    client,
    connects: () => connects,
    disconnects: () => disconnects,
    async get(path) {
      const response = await client.request({ method: 'GET', path });
      return { status: response.statusCode, body: await response.body.text() };
    },
  };
}
