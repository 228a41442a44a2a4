// Where harness programs are: the harness directory (LAP_HARNESS_DIR in the claim's env, default
// /opt/lap/harnesses), one npm prefix per harness, filled by scripts/harness-install.ts.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { HarnessConfigError } from './harness.ts';

export const DEFAULT_HARNESS_DIR = '/opt/lap/harnesses';

/** `<harness dir>/<harness>`: the npm prefix the install script fills. */
export function harnessPrefix(env: Readonly<Record<string, string>>, harness: string): string {
  return join(env.LAP_HARNESS_DIR || DEFAULT_HARNESS_DIR, harness);
}

/**
 * The first of `candidates` (paths relative to the harness's prefix) that is an executable file.
 * None: the harness is not installed, and the error says which command installs it.
 */
export function installedProgram(env: Readonly<Record<string, string>>, harness: string, candidates: readonly string[]): string {
  const prefix = harnessPrefix(env, harness);
  const paths = candidates.map((candidate) => join(prefix, candidate));
  const found = paths.find(isExecutable);
  if (found) return found;
  throw new HarnessConfigError(
    'harness',
    `harness ${harness} is not installed: run npm run harness:install -- ${harness} (or lap harness install ${harness}); ${paths[0]} is missing`,
  );
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
