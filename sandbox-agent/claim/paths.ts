// Where a claim puts things. The workspace is given to the agent; the rest sits beside it, under the
// workspace's parent, so none of it shows up in the workspace (or in a repository cloned there).
import { dirname, join, posix, resolve } from 'node:path';

export interface ClaimPaths {
  readonly workspace: string;
  /** The harness's HOME: dotfiles and tool caches stay out of the workspace. */
  readonly home: string;
  /** The agent's own files (0700): the git credential helper. */
  readonly privateDir: string;
  readonly credentialHelper: string;
}

export function claimPaths(workspace: string): ClaimPaths {
  const root = resolve(workspace);
  const privateDir = join(dirname(root), '.lap-agent');
  return { workspace: root, home: join(dirname(root), 'home'), privateDir, credentialHelper: join(privateDir, 'git-credential-lap') };
}

/**
 * The file API's reading of a path (workspace-path.ts), checked without touching the disk: relative to
 * the workspace, a leading '/' meaning the workspace root, `..` folded and never above the root.
 * Returns the normalized relative path, or why it is refused. Symlinks are checked when placing.
 */
export function normalizeWorkspacePath(path: string): { relative: string } | { problem: string } {
  if (path.includes('\0')) return { problem: 'must not contain NUL' };
  const normalized = posix.normalize(`./${path.replace(/^\/+/, '')}`);
  if (normalized === '..' || normalized.startsWith('../')) return { problem: 'leads outside the workspace' };
  if (normalized === '.' || normalized === './' || normalized.endsWith('/')) return { problem: 'names a directory, not a file' };
  return { relative: normalized };
}
