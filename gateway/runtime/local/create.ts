// One cold sandbox, step by step. Each resource is written to sandbox.json as it comes into being; on
// any failure the teardown removes whatever exists, and the error names the step that failed.
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import type { VethSlot } from '../../../vault/host/pool.ts';
import type { SystemUser } from '../../../vault/host/users.ts';
import { VAULT_PORTS } from '../../../vault/host/vault-launch.ts';
import type { SandboxHandle } from '../types.ts';
import { awaitAgent, startAgent } from './agent-process.ts';
import type { ResolvedConfig } from './config.ts';
import { netnsName, type SandboxLayout } from './layout.ts';
import { addNetns, applyRules, bringUpLinks } from './network.ts';
import { processRef } from './proc.ts';
import { type SandboxRecord, writeRecord } from './record.ts';
import { teardownSandbox } from './teardown.ts';
import { awaitVault, startVault } from './vault-process.ts';

export interface CreateContext {
  cfg: ResolvedConfig;
  vaultUser: SystemUser;
  sandboxUser: SystemUser;
  /** The harness directory's real path: bound read-only into every sandbox at that path. */
  harnessDir: string;
}

// Generous: 20 sandboxes starting at once on 2 CPUs start 40 Node processes.
const READY_TIMEOUT_MS = 60_000;

export async function createSandbox(ctx: CreateContext, layout: SandboxLayout): Promise<SandboxHandle> {
  const netns = netnsName(layout.id);
  const record: SandboxRecord = { id: layout.id, netns, createdAt: new Date().toISOString(), agentPort: ctx.cfg.agentPort };
  const save = () => writeRecord(layout.record, record);
  // Until the directory is ours (it may belong to a sandbox that already exists), nothing is removed.
  await step(layout, 'create the sandbox directory', () => mkdirSync(layout.dir, { mode: 0o700 }));
  try {
    await step(layout, 'fill the sandbox directory', () => {
      fillSandboxDirectory(layout, ctx.sandboxUser);
      save();
    });
    return await buildSandbox(ctx, layout, record, save);
  } catch (err) {
    await teardownSandbox(layout, record).catch((cleanupError: Error) => {
      throw new Error(`${(err as Error).message}; and cleaning up failed too: ${cleanupError.message}`, { cause: err });
    });
    throw err;
  }
}

async function buildSandbox(ctx: CreateContext, layout: SandboxLayout, record: SandboxRecord, save: () => void): Promise<SandboxHandle> {
  const { cfg } = ctx;
  const netns = record.netns;
  await step(layout, `create the network namespace ${netns}`, () => addNetns(netns));
  const slot = await step(layout, `claim a veth pair from ${cfg.pool.cidr}`, () => cfg.pool.claim(netns));
  Object.assign(record, { hostInterface: slot.hostInterface, hostAddress: slot.hostAddress, sandboxAddress: slot.sandboxAddress });
  save();
  await step(layout, 'apply the egress rules', () => applyRules(netns, slot, cfg.agentPort));
  await step(layout, 'bring up the veth', () => bringUpLinks(netns, slot));
  writeReadableFile(layout.resolvConf, `nameserver ${slot.hostAddress}\n`);
  // Vault and agent start side by side; both are waited for even when one fails, so the teardown
  // never races a start still in progress.
  const [vault, agent] = await Promise.allSettled([
    step(layout, 'start the vault', () => launchVault(ctx, layout, slot, record, save)),
    step(layout, 'start the agent', () => launchAgent(ctx, layout, slot, record, save)),
  ]);
  if (vault.status === 'rejected') throw vault.reason;
  if (agent.status === 'rejected') throw agent.reason;
  writeReadableFile(layout.caFile, vault.value.caPem);
  return {
    id: layout.id,
    runtime: 'local',
    agentUrl: agent.value.url,
    agentToken: agent.value.token,
    vaultUrl: vault.value.controlUrl,
    vaultToken: vault.value.controlToken,
    caPem: vault.value.caPem,
    paths: { workspace: layout.workspace, caFile: layout.caFile, harnessDir: ctx.harnessDir },
    detail: {
      dir: layout.dir,
      netns,
      hostInterface: slot.hostInterface,
      hostAddress: slot.hostAddress,
      sandboxAddress: slot.sandboxAddress,
      agentPort: cfg.agentPort,
      vaultPorts: { ...VAULT_PORTS },
      vaultControlPort: vault.value.controlPort,
      pids: { launcher: record.launcher, agent: record.agent, vault: record.vault },
      logs: { agent: layout.agentLog, vault: layout.vaultLog },
    },
  };
}

/**
 * <dir> 0711 (the vault user passes through to vault/); box/ and box/workspace owned by the sandbox
 * user; the stage mount points root-only. Modes are set explicitly: the gateway's umask must not matter.
 */
function fillSandboxDirectory(layout: SandboxLayout, sandboxUser: SystemUser): void {
  chmodSync(layout.dir, 0o711);
  for (const dir of [layout.box, layout.workspace]) {
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, sandboxUser.uid, sandboxUser.gid);
  }
  mkdirSync(layout.stageDir, { mode: 0o700 });
}

async function launchVault(ctx: CreateContext, layout: SandboxLayout, slot: VethSlot, record: SandboxRecord, save: () => void) {
  const vault = startVault(layout, slot, ctx.vaultUser, ctx.cfg.vault);
  record.vault = vault.process.child.pid === undefined ? undefined : processRef(vault.process.child.pid);
  save();
  const ready = await awaitVault(layout, vault, READY_TIMEOUT_MS);
  record.vaultControlPort = ready.controlPort;
  save();
  return { ...ready, controlToken: vault.controlToken };
}

async function launchAgent(ctx: CreateContext, layout: SandboxLayout, slot: VethSlot, record: SandboxRecord, save: () => void) {
  const agent = startAgent(layout, record.netns, slot.sandboxAddress, ctx);
  record.launcher = agent.process.child.pid === undefined ? undefined : processRef(agent.process.child.pid);
  save();
  record.agent = await awaitAgent(layout, agent, READY_TIMEOUT_MS);
  save();
  return agent;
}

/** root's, readable by everyone (the sandbox user reads it through the sandbox's mounts). */
function writeReadableFile(path: string, text: string): void {
  writeFileSync(path, text);
  chmodSync(path, 0o644);
}

async function step<T>(layout: SandboxLayout, what: string, action: () => T | Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (err) {
    throw new Error(`create sandbox ${layout.id}: ${what} failed: ${(err as Error).message}`, { cause: err });
  }
}
