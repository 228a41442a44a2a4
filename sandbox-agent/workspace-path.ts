import type { Stats } from 'node:fs';
import { lstat, readlink, realpath } from 'node:fs/promises';
import { dirname, join, posix, relative } from 'node:path';
import { HttpError } from '../vault/http/reply.ts';

/** A path the API refuses: outside the workspace (403) or malformed (400). */
export class WorkspacePathError extends HttpError {
  constructor(status: 400 | 403, code: string, message: string) {
    super(status, code, message);
  }
}

export interface ResolveOptions {
  /** Follow a symlink in the last component (read, write, list) or act on the link itself (delete, stat). */
  followFinalSymlink: boolean;
}

const MAX_PATH_LENGTH = 4096;
const MAX_SYMLINK_HOPS = 40;

export function workspaceRoot(workspace: string): Promise<string> {
  return realpath(workspace);
}

export function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith('/') ? root : `${root}/`);
}

/**
 * Maps an API path (relative to the workspace; a leading '/' means the workspace root) to a real
 * absolute path inside `root` (itself a realpath). Every symlink on the way, in the middle or at the
 * end, is resolved by hand, and every step must stay inside the workspace, so neither `..` nor a link
 * (dangling or not) can lead out. Components that do not exist yet are appended as they are: they
 * hold no symlinks. The result exists or not; the caller's filesystem call says which.
 */
export async function resolveWorkspacePath(root: string, requested: string, options: ResolveOptions): Promise<string> {
  const pending = splitRequested(requested);
  let current = root;
  let hops = 0;
  let missing = false;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '..') {
      current = dirname(current);
      if (!isInside(root, current)) throw escapes(requested);
      continue;
    }
    const next = join(current, part);
    const stats: Stats | null = missing ? null : await lstatIfPresent(next);
    const followLink = stats?.isSymbolicLink() && (pending.length > 0 || options.followFinalSymlink);
    if (!followLink) {
      missing ||= stats === null;
      current = next;
      continue;
    }
    if (++hops > MAX_SYMLINK_HOPS) throw new WorkspacePathError(400, 'invalid_path', `path: too many levels of symbolic links in ${requested}`);
    const target = await readlink(next);
    if (posix.isAbsolute(target)) {
      const absolute = posix.normalize(target);
      if (!isInside(root, absolute)) throw escapes(requested);
      current = root;
      pending.unshift(...components(relative(root, absolute)));
    } else {
      pending.unshift(...components(target));
    }
  }
  return current;
}

function splitRequested(requested: string): string[] {
  if (requested.length > MAX_PATH_LENGTH) throw new WorkspacePathError(400, 'invalid_path', `path: longer than ${MAX_PATH_LENGTH} characters`);
  if (requested.includes('\0')) throw new WorkspacePathError(400, 'invalid_path', 'path: must not contain NUL');
  const normalized = posix.normalize(`./${requested.replace(/^\/+/, '')}`);
  if (normalized === '..' || normalized.startsWith('../')) throw escapes(requested);
  return components(normalized);
}

function components(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

function escapes(requested: string): WorkspacePathError {
  return new WorkspacePathError(403, 'forbidden', `path ${JSON.stringify(requested)} leads outside the workspace`);
}

async function lstatIfPresent(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}
