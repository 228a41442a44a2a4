// `shell`: the user's shell, for debugging and tests (DESIGN.md §6). Interactive, not a login shell,
// so it reads ~/.bashrc-style files from the harness HOME but no /etc/profile that might reset PATH.
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { type Harness, type HarnessCommand, HarnessConfigError } from './harness.ts';

const FALLBACK_SHELLS = ['/bin/bash', '/bin/sh'];

export const shellHarness: Harness = {
  name: 'shell',
  command(env): HarnessCommand {
    const wanted = env.SHELL;
    if (wanted !== undefined) {
      const problem = executableProblem(wanted);
      if (problem) throw new HarnessConfigError('env.SHELL', `${wanted} ${problem}`);
      return { file: wanted, args: ['-i'] };
    }
    const file = FALLBACK_SHELLS.find((f) => executableProblem(f) === null);
    if (!file) throw new HarnessConfigError('harness', `no shell found: none of ${FALLBACK_SHELLS.join(', ')} is executable`);
    return { file, args: ['-i'] };
  },
};

function executableProblem(file: string): string | null {
  if (!isAbsolute(file)) return 'is not an absolute path';
  try {
    if (!statSync(file).isFile()) return 'is not a file';
    accessSync(file, constants.X_OK);
    return null;
  } catch {
    return 'does not exist or is not executable';
  }
}
