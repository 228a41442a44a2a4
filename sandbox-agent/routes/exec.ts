import { stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { HttpError, errorReply } from '../../vault/http/reply.ts';
import { Router } from '../../vault/http/router.ts';
import { harnessEnvironment } from '../claim/env.ts';
import { claimPaths } from '../claim/paths.ts';
import { parseExecRequest } from '../exec-request.ts';
import { execFrames } from '../exec-run.ts';
import type { AgentState } from '../state.ts';
import { invalidRequest } from '../validation.ts';
import { WorkspacePathError, resolveWorkspacePath, workspaceRoot } from '../workspace-path.ts';

export const DEFAULT_EXEC_TIMEOUT_MS = 10 * 60 * 1000;

/** POST /exec: runs a command without a PTY and streams ExecFrames as NDJSON (docs/agent-api.md). */
export function execRoutes(state: AgentState): Router {
  const maxBodyBytes = Math.ceil(state.limits.maxFileBytes / 3) * 4 + 1024 * 1024;
  return new Router().post('/exec', async (req) => {
    const body = await req.json(maxBodyBytes, { tooLarge: `the exec request is larger than ${maxBodyBytes} bytes`, invalid: 'request body must be a JSON ExecRequest' });
    const parsed = parseExecRequest(body, state.limits);
    if (!parsed.ok) throw invalidRequest(parsed.issues);
    const { request } = parsed;
    const stdin = request.stdin === undefined ? null : Buffer.from(request.stdin, 'base64');
    if (stdin && stdin.length > state.limits.maxFileBytes) return errorReply(413, 'too_large', `stdin: larger than ${state.limits.maxFileBytes} bytes`);
    const cwd = await workingDirectory(state.workspace, request.cwd ?? '/');
    state.events.touch('exec');
    const frames = execFrames({ argv: request.argv, env: { ...baseEnvironment(state), ...request.env }, cwd, stdin, timeoutMs: request.timeoutMs ?? Math.min(DEFAULT_EXEC_TIMEOUT_MS, state.limits.maxExecTimeoutMs) });
    return { status: 200, headers: { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' }, body: frames };
  });
}

/** The cwd must be an existing directory inside the workspace: escapes are 403, the rest 400. */
async function workingDirectory(workspace: string, requested: string): Promise<string> {
  try {
    const path = await resolveWorkspacePath(await workspaceRoot(workspace), requested, { followFinalSymlink: true });
    if ((await stat(path)).isDirectory()) return path;
  } catch (err) {
    if (err instanceof WorkspacePathError) throw new HttpError(err.status, err.code, `cwd: ${err.message}`);
  }
  throw new HttpError(400, 'invalid_request', `cwd: ${JSON.stringify(requested)} is not a directory in the workspace`, [{ field: 'cwd', message: 'not a directory' }]);
}

/**
 * After a claim a command sees what the harness sees (the session's stubs and CA variables, its HOME),
 * so `lap exec` and the terminal agree; before one, a minimal base. Never the agent's own environment.
 */
function baseEnvironment(state: AgentState): Record<string, string> {
  const home = state.claim ? claimPaths(state.workspace).home : defaultHome(state.workspace);
  const { TERM: _noTerminal, ...env } = harnessEnvironment(state.claim?.env ?? {}, home);
  return env;
}

/** The agent user's home from the password database (not $HOME: the agent's env must not leak). */
function defaultHome(workspace: string): string {
  try {
    return userInfo().homedir || workspace;
  } catch {
    return workspace;
  }
}
