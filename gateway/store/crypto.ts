// Encryption at rest for the values the store must not keep in the clear (secret values, session
// env_vars, sandbox handles), and where its key comes from.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

const FORMAT_V1 = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;
const MAKE_ONE = 'make one with: openssl rand -base64 32';

/** A sealed value did not authenticate: wrong key, or bytes altered or moved to another record. */
export class DecryptError extends Error {
  readonly context: string;
  constructor(context: string) {
    super(
      `cannot decrypt ${context}: the secret key is not the one it was encrypted with, ` +
        'or the stored value was altered or copied from another record',
    );
    this.name = 'DecryptError';
    this.context = context;
  }
}

/**
 * AES-256-GCM with a fresh random nonce per value. `context` (column and record id) is bound as
 * additional data, so a ciphertext copied into another row or column fails to authenticate.
 * Layout: version byte ‖ nonce ‖ ciphertext ‖ tag.
 */
export function seal(key: Buffer, context: string, plaintext: string): Uint8Array {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.of(FORMAT_V1), nonce, body, cipher.getAuthTag()]);
}

export function unseal(key: Buffer, context: string, sealed: Uint8Array): string {
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (bytes.length < 1 + NONCE_BYTES + TAG_BYTES || bytes[0] !== FORMAT_V1) throw new DecryptError(context);
  const nonce = bytes.subarray(1, 1 + NONCE_BYTES);
  const body = bytes.subarray(1 + NONCE_BYTES, bytes.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    throw new DecryptError(context);
  }
}

/** Seals any JSON value; JSON (not raw UTF-8) so every JS string round-trips, lone surrogates included. */
export function sealJson(key: Buffer, context: string, value: unknown): Uint8Array {
  return seal(key, context, JSON.stringify(value ?? null));
}

export function unsealJson(key: Buffer, context: string, sealed: Uint8Array): unknown {
  return JSON.parse(unseal(key, context, sealed));
}

/** 32 bytes written as base64 (44 characters) or hex (64 characters). */
export function parseSecretKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) return Buffer.from(trimmed, 'base64');
  throw new Error(`${source}: expected ${KEY_BYTES} bytes as base64 or hex; ${MAKE_ONE}`);
}

/**
 * The store's key: from the environment value when set, else from keyFile, which is created (0600,
 * 32 random bytes as base64) on first use. `envName` only names the variable in error messages.
 */
export function loadSecretKey(opts: { env?: string; keyFile: string; envName?: string }): { key: Buffer; created: boolean } {
  if (opts.env !== undefined && opts.env.trim() !== '') {
    return { key: parseSecretKey(opts.env, opts.envName ?? 'LAP_SECRET_KEY'), created: false };
  }
  if (!pathExists(opts.keyFile) && createKeyFile(opts.keyFile)) {
    return { key: readKeyFile(opts.keyFile), created: true };
  }
  return { key: readKeyFile(opts.keyFile), created: false };
}

function readKeyFile(path: string): Buffer {
  const stat = statSync(path);
  if (!stat.isFile()) throw new Error(`key file ${path} is not a regular file`);
  if ((stat.mode & 0o077) !== 0) {
    const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
    throw new Error(`key file ${path} is accessible by group or others (mode ${mode}); run: chmod 600 ${path}`);
  }
  return parseSecretKey(readFileSync(path, 'utf8'), `key file ${path}`);
}

/** Writes a new key beside the target and links it into place, so a concurrent starter never reads a half-written file. False when another process won. */
function createKeyFile(path: string): boolean {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, `${randomBytes(KEY_BYTES).toString('base64')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(temporary);
  }
}

function pathExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
