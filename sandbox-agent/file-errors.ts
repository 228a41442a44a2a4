import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ApiError, errorJson } from './errors.ts';
import { WorkspacePathError } from './workspace-path.ts';

const ERRNO_RESPONSES: Record<string, [ContentfulStatusCode, string, string]> = {
  ENOENT: [404, 'not_found', 'no such file or directory'],
  ENOTDIR: [400, 'not_a_directory', 'a component of the path is not a directory'],
  EISDIR: [400, 'is_a_directory', 'is a directory'],
  EEXIST: [409, 'exists', 'already exists'],
  ENOTEMPTY: [409, 'not_empty', 'directory not empty'],
  EACCES: [403, 'permission_denied', 'permission denied'],
  EPERM: [403, 'permission_denied', 'operation not permitted'],
  ELOOP: [400, 'invalid_path', 'too many levels of symbolic links'],
  ENAMETOOLONG: [400, 'invalid_path', 'file name too long'],
  ENOSPC: [507, 'no_space', 'no space left on the workspace device'],
  EDQUOT: [507, 'no_space', 'disk quota exceeded'],
};

/**
 * Turns what a file operation threw into the API's error shape; anything unexpected is rethrown
 * and becomes a 500 (a bug). `requested` is the caller's path, never the agent's real one.
 */
export function fileErrorResponse(c: Context, err: unknown, requested: string): Response {
  if (err instanceof WorkspacePathError) return errorJson(c, err.status, err.code, err.message);
  if (err instanceof ApiError) return errorJson(c, err.status, err.code, err.message, err.details);
  const code = (err as { code?: unknown }).code;
  if (code === 'TAR_SYMLINK_ERROR') return errorJson(c, 403, 'forbidden', 'the archive would be extracted through a symbolic link');
  if (typeof (err as { tarCode?: unknown }).tarCode === 'string') return errorJson(c, 400, 'invalid_archive', `bad archive: ${(err as Error).message}`);
  const known = typeof code === 'string' ? ERRNO_RESPONSES[code] : undefined;
  if (!known) throw err;
  return errorJson(c, known[0], known[1], `${requested}: ${known[2]}`);
}
