// LAP's side: a gateway as its own process (as `npm start` runs it) with the local runtime, and one
// `shell` session (an interactive bash in a sandbox), created the way a user creates one.
import { randomBytes } from 'node:crypto';
import { copyFileSync, linkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { apiClient, type ApiClient, startGatewayProcess } from '../../tests/support/gateway.ts';

export interface ShellSession {
  api: ApiClient;
  id: string;
  /** The sandbox's workspace; the same path inside the sandbox and on the host. */
  workspace: string;
}

export interface BenchGateway {
  api: ApiClient;
  /** Deletes every session (so their sandboxes go) and stops the process. */
  close(): Promise<void>;
}

export async function startBenchGateway(dir: string): Promise<BenchGateway> {
  const masterKey = `lap_${randomBytes(24).toString('hex')}`;
  const gateway = await startGatewayProcess(join(dir, 'gateway-data'), { masterKey });
  const api = apiClient(gateway.url, masterKey);
  const close = async () => {
    const sessions = (await api.json('GET', '/api/v1/managed_agents/sessions?limit=200').catch(() => ({ data: [] }))).data as { id: string }[];
    await Promise.allSettled(sessions.map((s) => api.call('DELETE', `/api/v1/managed_agents/sessions/${s.id}`)));
    await gateway.stop();
  };
  return { api, close };
}

/** Registers the `shell` agent and creates a session, waiting until it is ready. */
export async function createShellSession(api: ApiClient): Promise<ShellSession> {
  await api.json('POST', '/api/v1/managed_agents/agents', { name: 'sh', harness: 'shell' }, 201);
  const session = await api.json('POST', '/api/v1/managed_agents/agents/sh/session?wait=true', {}, 201);
  if (session.status !== 'ready') throw new Error(`session ${session.id} is ${session.status}: ${session.failure_reason}`);
  const pwd = await api.call('POST', `/api/v1/managed_agents/sessions/${session.id}/exec`, { argv: ['pwd'] });
  const stdout = (await pwd.text()).split('\n').filter(Boolean).map((line) => JSON.parse(line) as { type: string; data?: string });
  const workspace = stdout.filter((f) => f.type === 'stdout').map((f) => Buffer.from(f.data!, 'base64').toString()).join('').trim();
  if (!workspace.startsWith('/')) throw new Error(`session ${session.id}: could not read its workspace path`);
  return { api, id: session.id, workspace };
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
