import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Reply, HttpError, json } from '../../vault/http/reply.ts';
import type { HttpRequest } from '../../vault/http/request.ts';
import { Router } from '../../vault/http/router.ts';
import { fileError } from '../file-errors.ts';
import type { AgentState } from '../state.ts';
import { checkContentLength, writeFileAtomically } from '../upload.ts';
import { type ResolveOptions, WorkspacePathError, resolveWorkspacePath, workspaceRoot } from '../workspace-path.ts';

/** tar loads at the first archive request: most sessions never make one. */
const loadArchive = () => import('../archive.ts');
const MAX_LIST_ENTRIES = 10_000;
const FOLLOW: ResolveOptions = { followFinalSymlink: true };
const ON_LINK_ITSELF: ResolveOptions = { followFinalSymlink: false };

type FileHandler = (req: HttpRequest, target: Target) => Promise<Reply>;
interface Target {
  root: string;
  /** The caller's path, for messages. */
  requested: string;
  /** Resolved inside the workspace. */
  path: string;
}

/**
 * Files inside the workspace: read, write, list, stat, delete, and tar download/upload of a folder.
 * Paths are relative to the workspace ('/' is its root); see docs/agent-api.md.
 */
export function fileRoutes(state: AgentState): Router {
  const route = (pathRequired: boolean, options: ResolveOptions, handler: FileHandler) => async (req: HttpRequest) => {
    const requested = req.query('path') ?? (pathRequired ? undefined : '/');
    if (requested === undefined) throw new HttpError(400, 'invalid_request', 'path: required (relative to the workspace)');
    state.events.touch('files');
    try {
      const root = await workspaceRoot(state.workspace);
      return await handler(req, { root, requested, path: await resolveWorkspacePath(root, requested, options) });
    } catch (err) {
      throw fileError(err, requested);
    }
  };
  return new Router()
    .get('/files', route(true, FOLLOW, readFile))
    .put('/files', route(true, FOLLOW, (req, target) => writeFile(req, target, state.limits.maxFileBytes)))
    .delete('/files', route(true, ON_LINK_ITSELF, deletePath))
    .get('/files/list', route(false, FOLLOW, listDirectory))
    .get('/files/stat', route(false, ON_LINK_ITSELF, async (_req, { path }) => json(describe(await lstat(path)))))
    .get('/archive', route(false, FOLLOW, downloadArchive))
    .put('/archive', route(false, FOLLOW, (req, target) => uploadArchive(req, target, state.limits.maxArchiveBytes)));
}

async function readFile(_req: HttpRequest, { requested, path }: Target): Promise<Reply> {
  // O_NOFOLLOW and O_NONBLOCK: the path was resolved, so a link here is a race; a FIFO must not hang us.
  const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  const stats = await file.stat();
  if (!stats.isFile()) {
    await file.close();
    throw new HttpError(400, stats.isDirectory() ? 'is_a_directory' : 'not_a_file', `${requested} is ${stats.isDirectory() ? 'a directory: use /v1/files/list or /v1/archive' : 'not a regular file'}`);
  }
  // Exactly the size announced, even if the file grows while it is sent.
  const headers = { 'content-type': 'application/octet-stream', 'content-length': String(stats.size) };
  if (stats.size === 0) {
    await file.close();
    return { status: 200, headers };
  }
  return { status: 200, headers, body: file.createReadStream({ start: 0, end: stats.size - 1 }) };
}

async function writeFile(req: HttpRequest, { root, requested, path }: Target, maxBytes: number): Promise<Reply> {
  checkContentLength(req.header('content-length'), 'the file', maxBytes);
  const mode = parseMode(req.query('mode'));
  if (path === root) throw new HttpError(400, 'is_a_directory', `${requested} is the workspace root`);
  const existing = await stat(path).catch(() => null);
  if (existing?.isDirectory()) throw new HttpError(400, 'is_a_directory', `${requested} is a directory`);
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomically(req.raw, path, mode ?? (existing ? existing.mode & 0o777 : 0o644), maxBytes);
  return json(describe(await stat(path)), existing ? 200 : 201);
}

async function deletePath(req: HttpRequest, { root, requested, path }: Target): Promise<Reply> {
  const recursive = parseBoolean(req.query('recursive'), 'recursive');
  if (path === root) throw new WorkspacePathError(403, 'forbidden', 'the workspace root itself cannot be deleted');
  const stats = await lstat(path);
  if (stats.isDirectory() && !recursive) throw new HttpError(400, 'is_a_directory', `${requested} is a directory: pass recursive=true to delete it and everything in it`);
  // rm never follows symlinks: a link is removed, not what it points to.
  await rm(path, { recursive });
  return { status: 204 };
}

async function listDirectory(_req: HttpRequest, { path }: Target): Promise<Reply> {
  const names = (await readdir(path)).sort();
  const shown = names.slice(0, MAX_LIST_ENTRIES);
  const entries = await Promise.all(
    shown.map(async (name) => {
      const stats = await lstat(join(path, name)).catch(() => null);
      return stats ? { name, ...describe(stats) } : null;
    }),
  );
  return json({ entries: entries.filter((e) => e !== null), truncated: names.length > shown.length });
}

async function downloadArchive(_req: HttpRequest, { requested, path }: Target): Promise<Reply> {
  if (!(await stat(path)).isDirectory()) throw new HttpError(400, 'not_a_directory', `${requested} is not a directory`);
  const { packDirectory } = await loadArchive();
  return { status: 200, headers: { 'content-type': 'application/x-tar' }, body: packDirectory(path) };
}

async function uploadArchive(req: HttpRequest, { requested, path }: Target, maxBytes: number): Promise<Reply> {
  checkContentLength(req.header('content-length'), 'the archive', maxBytes);
  const existing = await stat(path).catch(() => null);
  if (existing && !existing.isDirectory()) throw new HttpError(400, 'not_a_directory', `${requested} is not a directory`);
  await mkdir(path, { recursive: true });
  const { extractUpload } = await loadArchive();
  return json({ entries: await extractUpload(req.raw, path, maxBytes) });
}

function describe(stats: Stats) {
  return { type: fileType(stats), size: stats.size, mode: (stats.mode & 0o7777).toString(8).padStart(4, '0'), mtime: stats.mtime.toISOString() };
}

function fileType(stats: Stats): 'file' | 'dir' | 'symlink' | 'other' {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'dir';
  return stats.isSymbolicLink() ? 'symlink' : 'other';
}

function parseMode(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^0?[0-7]{3}$/.test(value)) throw new HttpError(400, 'invalid_request', `mode: must be octal permissions like 0644, got ${JSON.stringify(value)}`);
  return Number.parseInt(value, 8);
}

function parseBoolean(value: string | undefined, field: string): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new HttpError(400, 'invalid_request', `${field}: must be true or false, got ${JSON.stringify(value)}`);
}
