// The sandbox's vault: on the host end of the veth, as the vault user, detached from the gateway.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { VethSlot } from '../../../vault/host/pool.ts';
import type { SystemUser } from '../../../vault/host/users.ts';
import { fetchCaPem, prepareVault, readyControlPort, VAULT_PORTS } from '../../../vault/host/vault-launch.ts';
import type { ResolvedConfig } from './config.ts';
import { type DetachedProcess, logTail, spawnDetached } from './detached.ts';
import type { SandboxLayout } from './layout.ts';
import { dropTo, SANDBOX_PATH } from './privileges.ts';
import { awaitHealthy, pollUntil } from './wait.ts';

export interface StartedVault {
  process: DetachedProcess;
  controlToken: string;
}

export interface ReadyVault {
  controlUrl: string;
  controlPort: number;
  caPem: string;
}

export function startVault(layout: SandboxLayout, slot: VethSlot, user: SystemUser, vault: ResolvedConfig['vault']): StartedVault {
  const controlToken = randomBytes(32).toString('hex');
  const command = prepareVault({
    session: layout.id,
    dir: layout.vaultDir,
    user,
    hostAddress: slot.hostAddress,
    sandboxAddress: slot.sandboxAddress,
    ports: { ...VAULT_PORTS },
    extraCaFiles: vault.extraCaFiles,
    hosts: vault.hosts,
  }, controlToken);
  // setpriv keeps the environment it is given, so the vault gets command.env as it is.
  const launched = spawnDetached([...dropTo(user), ...command.argv], { logFile: layout.vaultLog, cwd: layout.vaultDir, env: { ...command.env, PATH: SANDBOX_PATH } });
  return { process: launched, controlToken };
}

/** Waits for the "vault ready" line (it names the control port), then its health and CA certificate. */
export async function awaitVault(layout: SandboxLayout, vault: StartedVault, timeoutMs: number): Promise<ReadyVault> {
  const controlPort = await pollUntil('the vault did not start', () => controlPortFromLog(layout.vaultLog), {
    timeoutMs,
    failed: () => {
      const ended = vault.process.ended();
      return ended && `${ended}; its log ends:\n${logTail(layout.vaultLog)}`;
    },
  });
  const controlUrl = `http://127.0.0.1:${controlPort}`;
  await awaitHealthy("the vault's GET /v1/health", `${controlUrl}/v1/health`, {}, timeoutMs);
  return { controlUrl, controlPort, caPem: await fetchCaPem(controlUrl, vault.controlToken) };
}

function controlPortFromLog(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const port = readyControlPort(line);
    if (port !== undefined) return port;
  }
  return undefined;
}
