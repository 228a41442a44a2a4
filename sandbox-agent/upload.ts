import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HttpError } from '../vault/http/reply.ts';

export function tooLarge(what: string, maxBytes: number): HttpError {
  return new HttpError(413, 'too_large', `${what} is larger than the limit of ${maxBytes} bytes`);
}

/** Refuses early when the client announces a body over the limit (the stream check still applies). */
export function checkContentLength(header: string | undefined, what: string, maxBytes: number): void {
  if (header !== undefined && Number(header) > maxBytes) throw tooLarge(what, maxBytes);
}

/** Streams a request body into a new file (`wx`: never an existing one); 413 past maxBytes. */
export async function writeBodyToNewFile(body: Readable, path: string, maxBytes: number, what: string): Promise<number> {
  let size = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      done(size > maxBytes ? tooLarge(what, maxBytes) : null, chunk);
    },
  });
  await pipeline(body, limit, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
  return size;
}

/**
 * Writes a body to `target` atomically for readers: into a temporary file in the same directory, then
 * chmod and rename over the target. A failed or oversized upload leaves the target as it was.
 */
export async function writeFileAtomically(body: Readable, target: string, mode: number, maxBytes: number): Promise<number> {
  const temporary = join(dirname(target), `.lap-upload-${randomBytes(8).toString('hex')}`);
  try {
    const size = await writeBodyToNewFile(body, temporary, maxBytes, 'the file');
    await chmod(temporary, mode);
    await rename(temporary, target);
    return size;
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
}
