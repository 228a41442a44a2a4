// Git over HTTPS through the vault: a credential helper hands git the session's stub for a host (the
// vault swaps it for the real token on the wire, so the stub is not a secret). Stubs never go in URLs.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ClaimRequest } from '../protocol.ts';
import { ClaimError } from './claim-error.ts';
import type { ClaimPaths } from './paths.ts';

export type GitCredential = NonNullable<ClaimRequest['gitCredentials']>[number];

export const DEFAULT_GIT_USERNAME = 'x-access-token';
export const CLONE_TIMEOUT_MS = 15 * 60 * 1000;
const STDERR_TAIL_BYTES = 2048;

/**
 * A POSIX sh helper answering git's `get` for https remotes whose host (port stripped, lowercased)
 * matches a credential. Hosts, usernames and stubs are validated to charsets that are safe inside
 * single quotes; exact hosts come before `*.suffix` patterns so the most specific one wins.
 */
export function credentialHelperScript(credentials: readonly GitCredential[]): string {
  const ordered = [...credentials].sort((a, b) => Number(a.host.startsWith('*.')) - Number(b.host.startsWith('*.')));
  const cases = ordered.map((c) => {
    const pattern = c.host.startsWith('*.') ? `*'${c.host.slice(1)}'` : `'${c.host}'`;
    return `  ${pattern}) printf 'username=%s\\npassword=%s\\n' '${c.username ?? DEFAULT_GIT_USERNAME}' '${c.stub}' ;;`;
  });
  return [
    '#!/bin/sh',
    '# Written by the LAP sandbox agent: hands git the session stub for a host; the vault swaps it on the wire.',
    // store and erase: read what git sends before leaving, so git never writes into a closed pipe.
    '[ "$1" = get ] || { cat >/dev/null; exit 0; }',
    'protocol= host=',
    'while IFS= read -r line && [ -n "$line" ]; do',
    '  case $line in protocol=*) protocol=${line#protocol=} ;; host=*) host=${line#host=} ;; esac',
    'done',
    '[ "$protocol" = https ] || exit 0',
    "host=$(printf '%s' \"${host%:*}\" | tr 'A-Z' 'a-z')",
    'case $host in',
    ...cases,
    'esac',
    '',
  ].join('\n');
}

/** git's credential.helper value that runs the script (the `!` form lets the path be shell-quoted). */
export function credentialHelperConfig(helperPath: string): string {
  return `!'${helperPath.replaceAll("'", `'\\''`)}'`;
}

/** The helper in the agent's private dir, and the harness's ~/.gitconfig pointing at it (for later pushes and clones). */
export async function installCredentialHelper(paths: ClaimPaths, credentials: readonly GitCredential[], env: Record<string, string>): Promise<void> {
  mkdirSync(paths.privateDir, { recursive: true, mode: 0o700 });
  chmodSync(paths.privateDir, 0o700);
  writeFileSync(paths.credentialHelper, credentialHelperScript(credentials), { mode: 0o700 });
  chmodSync(paths.credentialHelper, 0o700);
  const gitconfig = join(paths.home, '.gitconfig');
  for (const [key, value] of [['credential.helper', credentialHelperConfig(paths.credentialHelper)], ['credential.useHttpPath', 'false']] as const) {
    const result = await runGit(['config', '--file', gitconfig, '--replace-all', key, value], env, paths.home, 30_000);
    if (!result.ok) throw new ClaimError(500, 'workspace_failed', `git config --file ${gitconfig} failed: ${result.why}`);
  }
}

/**
 * `git clone [--branch B --single-branch] -- URL <workspace>` with the harness's env (so the claim's
 * GIT_SSL_CAINFO etc. apply) and no prompts. With credentials, the helper is configured on the command
 * line, replacing any other helper. Throws a 502 ClaimError with git's own explanation on failure.
 */
export async function cloneRepository(
  source: { url: string; branch?: string | undefined; withHelper: boolean },
  paths: ClaimPaths,
  env: Record<string, string>,
  timeoutMs = CLONE_TIMEOUT_MS,
): Promise<void> {
  const helper = ['-c', 'credential.helper=', '-c', `credential.helper=${credentialHelperConfig(paths.credentialHelper)}`, '-c', 'credential.useHttpPath=false'];
  const branch = source.branch === undefined ? [] : ['--branch', source.branch, '--single-branch'];
  const args = [...(source.withHelper ? helper : []), 'clone', ...branch, '--', source.url, paths.workspace];
  const result = await runGit(args, { ...env, GIT_TERMINAL_PROMPT: '0' }, dirname(paths.workspace), timeoutMs);
  if (result.timedOut) throw new ClaimError(502, 'clone_failed', `git clone of ${source.url} did not finish within ${timeoutMs} ms`);
  if (!result.ok) throw new ClaimError(502, 'clone_failed', `git clone of ${source.url} failed: ${result.why}`);
}

interface GitResult {
  ok: boolean;
  timedOut: boolean;
  /** git's stderr (its tail), or the exit status when it printed nothing. */
  why: string;
}

/** Runs git in its own process group, so a timeout kills git and its remote helpers too. */
function runGit(args: string[], env: Record<string, string>, cwd: string, timeoutMs: number): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = Buffer.alloc(0);
    let timedOut = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]).subarray(-STDERR_TAIL_BYTES);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new ClaimError(500, 'git_failed', `cannot run git: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ ok: code === 0 && !timedOut, timedOut, why: stderr.toString('utf8').trim() || `exit ${code ?? signal}` });
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
