import { HttpError } from '../vault/http/reply.ts';

const ERRNO_ERRORS: Record<string, [number, string, string]> = {
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
 * Turns what a file operation threw into the API's error; anything unexpected is returned as it is
 * and becomes a 500 (a bug). `requested` is the caller's path, never the agent's real one.
 */
export function fileError(err: unknown, requested: string): unknown {
  if (err instanceof HttpError) return err;
  const code = (err as { code?: unknown }).code;
  if (code === 'TAR_SYMLINK_ERROR') return new HttpError(403, 'forbidden', 'the archive would be extracted through a symbolic link');
  if (typeof (err as { tarCode?: unknown }).tarCode === 'string') return new HttpError(400, 'invalid_archive', `bad archive: ${(err as Error).message}`);
  const known = typeof code === 'string' ? ERRNO_ERRORS[code] : undefined;
  return known ? new HttpError(known[0], known[1], `${requested}: ${known[2]}`) : err;
}
