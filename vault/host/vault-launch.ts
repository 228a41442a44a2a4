// What every launcher of a vault on the host end of a veth shares: its files (config, token, upstream
// CA copies, owned by the vault user), its command line and environment, its "vault ready" line and its
// CA certificate.
import { chownSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VAULT_ENV, vaultNodeArgs } from '../build.ts';
import type { VaultPorts } from '../rules.ts';
import { nodeBinary } from './node-binary.ts';
import type { SystemUser } from './users.ts';

/** The interception listeners' ports; each vault binds them on its own host address, so all can share them. */
export const VAULT_PORTS: Readonly<VaultPorts> = { tls: 15443, http: 15080, dns: 15053 };

export interface VaultLaunch {
  session: string;
  /** Created here, owned by the vault user, mode 0700: config, token and CA copies live in it. */
  dir: string;
  user: SystemUser;
  hostAddress: string;
  sandboxAddress: string;
  ports: VaultPorts;
  extraCaFiles: string[];
  hosts: Record<string, string>;
}

export interface VaultCommand {
  argv: string[];
  /** The vault's own variables (VAULT_ENV, HOME); the caller adds PATH. */
  env: Record<string, string>;
}

/** Writes the vault's directory and returns how to start it (as whatever user the caller arranges). */
export function prepareVault(launch: VaultLaunch, controlToken: string): VaultCommand {
  const configFile = writeVaultFiles(launch, controlToken);
  return { argv: [nodeBinary(), ...vaultNodeArgs(), '--config', configFile], env: { ...VAULT_ENV, HOME: launch.dir } };
}

function writeVaultFiles(launch: VaultLaunch, token: string): string {
  const { dir, user } = launch;
  const ownedFile = (name: string, write: (path: string) => void): string => {
    const path = join(dir, name);
    write(path);
    chownSync(path, user.uid, user.gid);
    return path;
  };
  mkdirSync(dir, { mode: 0o700 });
  chownSync(dir, user.uid, user.gid);
  // Copies, so the vault user can read CA files whatever their original owner and mode.
  const extraCaFiles = launch.extraCaFiles.map((source, i) =>
    ownedFile(`upstream-ca-${i}.pem`, (path) => copyFileSync(source, path)),
  );
  const tokenFile = ownedFile('control-token', (path) => writeFileSync(path, token, { mode: 0o600 }));
  const config = {
    session: launch.session,
    listen: { address: launch.hostAddress, tlsPort: launch.ports.tls, httpPort: launch.ports.http, dnsPort: launch.ports.dns },
    sandboxAddress: launch.sandboxAddress,
    control: { host: '127.0.0.1', port: 0 },
    tokenFile,
    syntheticAddress: launch.hostAddress,
    upstream: { extraCaFiles, hosts: launch.hosts },
  };
  return ownedFile('config.json', (path) => writeFileSync(path, JSON.stringify(config, null, 2), { mode: 0o600 }));
}

/** The control port from a "vault ready" log line, or undefined for any other line. */
export function readyControlPort(line: string): number | undefined {
  try {
    const entry = JSON.parse(line) as { msg?: unknown; controlPort?: unknown };
    return entry.msg === 'vault ready' && typeof entry.controlPort === 'number' ? entry.controlPort : undefined;
  } catch {
    return undefined;
  }
}

/** GET /v1/ca.pem from the control API: the certificate the sandbox is to trust. */
export async function fetchCaPem(controlUrl: string, controlToken: string): Promise<string> {
  const response = await fetch(`${controlUrl}/v1/ca.pem`, {
    headers: { authorization: `Bearer ${controlToken}` },
    signal: AbortSignal.timeout(10_000),
  });
  const body = await response.text();
  if (response.status !== 200 || !body.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`GET ${controlUrl}/v1/ca.pem answered ${response.status}: ${body.slice(0, 300)}`);
  }
  return body;
}
