// The local runtime (DESIGN.md §2): each sandbox is a netns joined to the host by a veth from a pool,
// the vault on the host end as its own uid, the agent inside in fresh PID and mount namespaces as an
// unprivileged uid. See ../README.md for the layout and the mount namespace recipe.
import { chmodSync, mkdirSync, readdirSync, realpathSync } from 'node:fs';
import { ensureCheckoutReachable, ensureSearchableByOthers } from '../../../vault/host/access.ts';
import { agentNodeArgs } from '../../../sandbox-agent/build.ts';
import { ensureVaultBundle } from '../../../vault/build.ts';
import { ensureSystemUser } from '../../../vault/host/users.ts';
import type { ProbeResult, Runtime, SandboxHandle, SandboxRequest } from '../types.ts';
import { type LocalRuntimeConfig, type ResolvedConfig, resolveConfig } from './config.ts';
import { type CreateContext, createSandbox } from './create.ts';
import { SANDBOX_ID, sandboxLayout } from './layout.ts';
import { preflightProblems } from './preflight.ts';
import { probeSandbox } from './probe.ts';
import { readRecord } from './record.ts';
import { teardownSandbox } from './teardown.ts';

export type { LocalRuntimeConfig } from './config.ts';

const VAULT_USER = 'lap-vault';
const SANDBOX_USER = 'lap-sandbox';

export function createLocalRuntime(config: LocalRuntimeConfig): Runtime {
  const cfg = resolveConfig(config);
  /** Creates in progress: destroy waits for them, reapExcept leaves them alone. */
  const creating = new Map<string, Promise<unknown>>();
  let context: Promise<CreateContext> | undefined;

  const layoutOf = (id: unknown) => sandboxLayout(cfg.sandboxesDir, String(id));
  const removeSandbox = async (id: string) => {
    await creating.get(id)?.catch(() => {});
    const layout = layoutOf(id);
    await teardownSandbox(layout, readRecord(layout.record));
  };

  return {
    name: 'local',
    preflight: async () => {
      const problems = preflightProblems();
      if (problems.length > 0) throw new Error(`the local runtime cannot run on this host:\n- ${problems.join('\n- ')}`);
    },
    create: async (request: SandboxRequest) => {
      const id = request?.id;
      if (typeof id !== 'string' || !SANDBOX_ID.test(id)) throw new TypeError(`id: must be "sb" and 10 lowercase hex digits, got ${JSON.stringify(id)}`);
      if (creating.has(id)) throw new Error(`sandbox ${id} is already being created`);
      const started = performance.now();
      context ??= prepare(cfg).catch((err: unknown) => {
        context = undefined; // the next create tries again
        throw err;
      });
      const created = context.then((ctx) => createSandbox(ctx, layoutOf(id)));
      creating.set(id, created);
      try {
        const handle = await created;
        cfg.log.info({ sandbox: id, ms: Math.round(performance.now() - started), netns: handle.detail.netns }, 'sandbox created');
        return handle;
      } catch (err) {
        cfg.log.error({ sandbox: id, err: (err as Error).message }, 'sandbox create failed');
        throw err;
      } finally {
        creating.delete(id);
      }
    },
    destroy: async (handle: SandboxHandle) => {
      const started = performance.now();
      await removeSandbox(handle?.id);
      cfg.log.info({ sandbox: handle.id, ms: Math.round(performance.now() - started) }, 'sandbox destroyed');
    },
    probe: (handle: SandboxHandle): Promise<ProbeResult> => probeSandbox(handle, layoutOf(handle?.id)),
    reapExcept: async (keep: ReadonlySet<string>) => {
      const unknown = listSandboxIds(cfg).filter((id) => !keep.has(id) && !creating.has(id));
      const results = await Promise.allSettled(unknown.map((id) => removeSandbox(id)));
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
      if (unknown.length > 0) cfg.log.info({ removed: unknown.length, failed: failed.length }, 'reaped sandboxes nobody owns');
      if (failed.length > 0) throw new Error(`reapExcept: ${failed.join('; ')}`);
      return unknown;
    },
  };
}

/** Once per runtime: users, folders, the vault and agent bundles, a checkout the other users can reach. */
async function prepare(cfg: ResolvedConfig): Promise<CreateContext> {
  mkdirSync(cfg.sandboxesDir, { recursive: true, mode: 0o711 });
  chmodSync(cfg.sandboxesDir, 0o711); // whatever the umask: the vault user passes through to its folder
  if (realpathSync(cfg.dataDir) !== cfg.dataDir) {
    throw new Error(`dataDir ${cfg.dataDir} is a symlink or under one (it is ${realpathSync(cfg.dataDir)}): give the real path`);
  }
  const warn = (message: string) => cfg.log.warn(message);
  ensureSearchableByOthers(cfg.sandboxesDir, 'the vault user can reach its sandbox folder', warn);
  ensureCheckoutReachable();
  // Built (when stale) once here, not by 20 creates at once; each create then only checks they are fresh.
  ensureVaultBundle();
  agentNodeArgs();
  const [vaultUser, sandboxUser] = await Promise.all([ensureSystemUser(VAULT_USER), ensureSystemUser(SANDBOX_USER)]);
  return { cfg, vaultUser, sandboxUser, harnessDir: prepareHarnessDir(cfg) };
}

/**
 * The harness directory exists (empty until `npm run harness:install`; a claim for a harness that is
 * not there fails naming that command) and the sandbox user can reach it. Its real path is what is bound.
 */
function prepareHarnessDir(cfg: ResolvedConfig): string {
  mkdirSync(cfg.harnessDir, { recursive: true, mode: 0o755 });
  const real = realpathSync(cfg.harnessDir);
  ensureSearchableByOthers(real, 'the sandbox user can reach the harness programs', (message) => cfg.log.warn(message));
  return real;
}

function listSandboxIds(cfg: ResolvedConfig): string[] {
  try {
    return readdirSync(cfg.sandboxesDir).filter((name) => SANDBOX_ID.test(name));
  } catch {
    return [];
  }
}
