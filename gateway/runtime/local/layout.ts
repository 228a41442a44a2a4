// Where one sandbox's files are on the host. Only `box/` is visible inside the sandbox, at the same path.
import { join } from 'node:path';

export interface SandboxLayout {
  id: string;
  /** <dataDir>/sandboxes/<id>: root, 0711. */
  dir: string;
  /** sandbox.json: what destroy, probe and reap need (no secrets). */
  record: string;
  /** The sandbox user's folder (0700), bound into the sandbox: workspace, the agent's home and private dir. */
  box: string;
  workspace: string;
  /** The vault CA certificate, 0644. */
  caFile: string;
  /** The agent's token; the agent deletes it once read (it owns box/). */
  agentToken: string;
  /** The vault user's folder (0700): config, control token (deleted once read), upstream CA copies. */
  vaultDir: string;
  /** Bound over /etc/resolv.conf in the sandbox: the vault's DNS. */
  resolvConf: string;
  /** Empty mount points where the sandbox's mount namespace builds its private tmpfs views. */
  stageDir: string;
  agentLog: string;
  vaultLog: string;
}

export const SANDBOX_ID = /^sb[0-9a-f]{10}$/;

export function sandboxLayout(sandboxesDir: string, id: string): SandboxLayout {
  if (!SANDBOX_ID.test(id)) throw new TypeError(`sandbox id must be "sb" and 10 lowercase hex digits, got ${JSON.stringify(id)}`);
  const dir = join(sandboxesDir, id);
  const box = join(dir, 'box');
  return {
    id,
    dir,
    record: join(dir, 'sandbox.json'),
    box,
    workspace: join(box, 'workspace'),
    caFile: join(box, 'ca.pem'),
    agentToken: join(box, 'agent-token'),
    vaultDir: join(dir, 'vault'),
    resolvConf: join(dir, 'resolv.conf'),
    stageDir: join(dir, 'stage'),
    agentLog: join(dir, 'agent.log'),
    vaultLog: join(dir, 'vault.log'),
  };
}

export function netnsName(id: string): string {
  return `lap-${id}`;
}
