import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix, win32 } from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar';
import type { ReadEntry } from 'tar';
import { HttpError } from '../vault/http/reply.ts';
import { writeBodyToNewFile } from './upload.ts';

const EXTRACTABLE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);
const MAX_REPORTED_PROBLEMS = 20;

/** A tar of everything under `dir` (paths ./…, modes kept, symlinks stored as links, never followed). */
export function packDirectory(dir: string): Readable {
  return Readable.from(tar.c({ cwd: dir, portable: true, follow: false }, ['.']) as AsyncIterable<Uint8Array>);
}

/** Why an entry may not be extracted, or null. Paths and link targets must stay under the target folder. */
export function refusedEntryReason(entry: Pick<ReadEntry, 'path' | 'type' | 'linkpath'>): string | null {
  if (!EXTRACTABLE_TYPES.has(entry.type)) return `entry type ${entry.type} is not allowed`;
  if (hasRoot(entry.path)) return 'absolute path';
  if (hasParentComponent(entry.path)) return "path contains '..'";
  if (entry.type !== 'SymbolicLink' && entry.type !== 'Link') return null;
  const link = entry.linkpath ?? '';
  if (link === '' || hasRoot(link)) return `link to ${JSON.stringify(link)}: link targets must be relative`;
  // A hard link names another entry of the archive; a symlink is resolved from its own folder.
  const escapes = entry.type === 'Link' ? hasParentComponent(link) : leavesTop(posix.join(posix.dirname(entry.path), link));
  return escapes ? `link to ${JSON.stringify(link)} points outside the folder` : null;
}

// The same notions as node-tar's: it also treats backslashes as separators and drive letters as roots.
function hasRoot(path: string): boolean {
  return win32.isAbsolute(path) || win32.parse(path).root !== '';
}

function hasParentComponent(path: string): boolean {
  return path.split(/[\\/]/).includes('..');
}

function leavesTop(path: string): boolean {
  const normalized = posix.normalize(path.replaceAll('\\', '/'));
  return normalized === '..' || normalized.startsWith('../');
}

/**
 * Extracts an uploaded tar (plain or gzip) into `dir`. The body is staged in a private temp folder
 * (limit `maxBytes`), every entry is checked first, and only an archive with no refused entry is
 * extracted, so a malicious one writes nothing at all. node-tar's own checks (strict mode, no
 * extraction through symlinks already on disk) apply on top. Returns the number of entries.
 */
export async function extractUpload(body: Readable, dir: string, maxBytes: number): Promise<number> {
  const staging = await mkdtemp(join(tmpdir(), 'lap-archive-'));
  try {
    const file = join(staging, 'upload.tar');
    await writeBodyToNewFile(body, file, maxBytes, 'the archive');
    const entries = await checkArchive(file, maxBytes);
    await tar.x({
      file, cwd: dir, strict: true, preserveOwner: false, chmod: true, processUmask: 0o022,
      // Re-checked while extracting: the staged file lives in a folder the sandbox user can write.
      filter: (_path, entry) => refusedEntryReason(entry as ReadEntry) === null,
      // The agent may run as root (tests, some runtimes): an upload must not make set-id programs.
      onReadEntry: (entry) => {
        entry.mode = (entry.mode ?? 0) & 0o1777;
      },
    });
    return entries;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Lists the archive, refusing it whole if any entry is not allowed or the content would exceed maxBytes. */
async function checkArchive(file: string, maxBytes: number): Promise<number> {
  const problems: { entry: string; reason: string }[] = [];
  let entries = 0;
  let contentBytes = 0;
  await tar.t({
    file, strict: true,
    onReadEntry: (entry) => {
      entries++;
      contentBytes += entry.size ?? 0;
      const reason = refusedEntryReason(entry);
      if (reason && problems.length < MAX_REPORTED_PROBLEMS) problems.push({ entry: entry.path, reason });
    },
  });
  if (contentBytes > maxBytes) throw new HttpError(413, 'too_large', `the archive's content is larger than the limit of ${maxBytes} bytes`);
  const first = problems[0];
  if (first) throw new HttpError(400, 'invalid_archive', `archive entry ${JSON.stringify(first.entry)} refused: ${first.reason}; nothing was extracted`, problems);
  return entries;
}
