import { chmodSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

/**
 * The vault and the sandbox clients run as other users but execute Node and code from this checkout, so
 * every folder above it must be searchable by others. A clone in a 0700 temp dir is not: add o+x (search
 * only, never read) to each such ancestor, and say so.
 */
export function ensureCheckoutReachable(): void {
  for (let dir = REPO_ROOT; ; dir = dirname(dir)) {
    const mode = statSync(dir).mode & 0o777;
    if ((mode & 0o001) === 0) {
      chmodSync(dir, mode | 0o001);
      console.warn(`testbed: added o+x to ${dir} so the vault and sandbox users can reach ${REPO_ROOT}`);
    }
    if (dir === dirname(dir)) return;
  }
}
