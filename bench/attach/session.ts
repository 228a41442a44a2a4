// LAP's side: one `shell` session (an interactive bash in a sandbox) on a real gateway with the local
// runtime, created the way a user creates one.
import { copyFileSync, linkSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { SandboxHandle } from '../../gateway/runtime/types.ts';
import type { TestGateway } from '../../tests/support/gateway.ts';

export interface ShellSession {
  gw: TestGateway;
  id: string;
  /** The sandbox's workspace; the same path inside the sandbox and on the host. */
  workspace: string;
}

/** Registers the `shell` agent and creates a session, waiting until it is ready. */
export async function createShellSession(gw: TestGateway): Promise<ShellSession> {
  await gw.json('POST', '/api/v1/managed_agents/agents', { name: 'sh', harness: 'shell' }, 201);
  const session = await gw.json('POST', '/api/v1/managed_agents/agents/sh/session?wait=true', {}, 201);
  if (session.status !== 'ready') throw new Error(`session ${session.id} is ${session.status}: ${session.failure_reason}`);
  const sandboxId = gw.gateway.store.sessions.get(session.id)?.sandboxId;
  const handle = sandboxId ? (gw.gateway.store.sandboxes.get(sandboxId)?.handle as SandboxHandle | undefined) : undefined;
  if (!handle) throw new Error(`session ${session.id} has no sandbox in the store`);
  return { gw, id: session.id, workspace: handle.paths.workspace };
}

/**
 * Puts `file` in the workspace, where both shells can read it: the sandbox has a private /tmp, and the
 * ssh side runs on the host as root. A hard link when the file system allows it (no 200 MB copy).
 */
export function shareWithSandbox(session: ShellSession, file: string): string {
  const shared = join(session.workspace, basename(file));
  try {
    linkSync(file, shared);
  } catch {
    copyFileSync(file, shared);
  }
  return shared;
}
