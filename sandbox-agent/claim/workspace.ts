// Placing a claim's files, and undoing a failed claim so the agent is warm and claimable again.
import { closeSync, constants, existsSync, fchmodSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ClaimFile } from '../protocol.ts';
import { WorkspacePathError, resolveWorkspacePath, workspaceRoot } from '../workspace-path.ts';
import { ClaimError } from './claim-error.ts';
import type { ClaimPaths } from './paths.ts';

export const DEFAULT_FILE_MODE = 0o644;

/** What a claim adds, so a failed claim can take exactly that away again. */
export interface ClaimFootprint {
  readonly paths: ClaimPaths;
  /** The workspace's top-level entries before the claim: everything else was the claim's. */
  readonly workspaceBefore: ReadonlySet<string>;
  /** Paths outside the workspace the claim created (home, its .gitconfig, the private dir). */
  readonly created: string[];
}

export function startFootprint(paths: ClaimPaths): ClaimFootprint {
  let entries: string[];
  try {
    if (!statSync(paths.workspace).isDirectory()) throw new Error('not a directory');
    entries = readdirSync(paths.workspace);
  } catch (err) {
    throw new ClaimError(500, 'workspace_failed', `the workspace ${paths.workspace} is not a usable directory: ${(err as Error).message}`);
  }
  return { paths, workspaceBefore: new Set(entries), created: [] };
}

/** Notes that `path` is about to be created by the claim (if it does not exist yet). */
export function willCreate(footprint: ClaimFootprint, path: string): void {
  if (!existsSync(path)) footprint.created.push(path);
}

/** The harness's HOME (0700; kept if it already exists, e.g. from the image). */
export function prepareHome(footprint: ClaimFootprint): void {
  const { home } = footprint.paths;
  willCreate(footprint, home);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  willCreate(footprint, join(home, '.gitconfig'));
}

/**
 * Writes the files in order, resolving each path the way the files API does (workspace-path.ts): a
 * symlink may be followed only while it stays inside the workspace (e.g. one in a cloned repository).
 */
export async function placeFiles(workspace: string, files: readonly ClaimFile[]): Promise<void> {
  const root = await workspaceRoot(workspace);
  for (const [index, file] of files.entries()) {
    let target: string;
    try {
      target = await resolveWorkspacePath(root, file.path, { followFinalSymlink: true });
    } catch (err) {
      if (!(err instanceof WorkspacePathError)) throw err;
      throw ClaimError.invalid([{ field: `files.${index}.path`, message: err.message }]);
    }
    try {
      writeFile(target, file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EISDIR' || code === 'ENOTDIR') throw ClaimError.invalid([{ field: `files.${index}.path`, message: `${file.path}: ${(err as Error).message}` }]);
      throw new ClaimError(500, 'workspace_failed', `files.${index}: cannot write ${file.path}: ${(err as Error).message}`);
    }
  }
}

/** `target` is resolved: its missing directories hold no symlinks, and O_NOFOLLOW catches a race. */
function writeFile(target: string, file: ClaimFile): void {
  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  const fd = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
  try {
    writeFileSync(fd, Buffer.from(file.content, 'base64'));
    fchmodSync(fd, file.mode ?? DEFAULT_FILE_MODE);
  } finally {
    closeSync(fd);
  }
}

/** Removes what the claim added: new top-level workspace entries and the paths it created outside. */
export function undoClaim(footprint: ClaimFootprint): void {
  const { workspace } = footprint.paths;
  for (const entry of readdirSync(workspace)) {
    if (!footprint.workspaceBefore.has(entry)) rmSync(join(workspace, entry), { recursive: true, force: true });
  }
  for (const path of [...footprint.created].reverse()) rmSync(path, { recursive: true, force: true });
}
