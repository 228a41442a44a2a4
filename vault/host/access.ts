import { chmodSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

/**
 * The vault and the sandbox processes run as other users but execute Node and code from this checkout,
 * so every folder above it must be searchable by others. A clone in a 0700 temp dir is not: add o+x
 * (search only, never read) to each such ancestor, and say so.
 */
export function ensureCheckoutReachable(): void {
  ensureSearchableByOthers(REPO_ROOT, `the vault and sandbox users can reach ${REPO_ROOT}`);
}

/** Adds o+x to `dir` and each of its ancestors that lacks it, warning once per folder changed. */
export function ensureSearchableByOthers(dir: string, why: string, warn: (message: string) => void = console.warn): void {
  for (let current = dir; ; current = dirname(current)) {
    const mode = statSync(current).mode & 0o777;
    if ((mode & 0o001) === 0) {
      chmodSync(current, mode | 0o001);
      warn(`added o+x to ${current} so ${why}`);
    }
    if (current === dirname(current)) return;
  }
}
