// lap as a published package (issue 5): `npm pack` in cli/ builds the bundle (prepack) and the tarball
// holds the bin and the bundle, no TypeScript source; the unpacked package runs on its own.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const CLI_DIR = fileURLToPath(new URL('../../cli', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'lap-pack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('packs into a package with bin/lap.mjs and dist/lap.mjs that runs without the repository', () => {
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: CLI_DIR, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as [{ filename: string; files: { path: string }[] }];
  const files = packed.files.map((f) => f.path).sort();
  expect(files).toEqual(['README.md', 'bin/lap.mjs', 'dist/lap.mjs', 'package.json']);
  execFileSync('tar', ['xzf', join(dir, packed.filename), '-C', dir]);
  expect(readdirSync(join(dir, 'package', 'dist'))).toEqual(['lap.mjs']);
  const version = JSON.parse(execFileSync(process.execPath, [join(dir, 'package', 'bin', 'lap.mjs'), 'version', '--json'], { encoding: 'utf8', env: { PATH: env.PATH, HOME: dir } }));
  expect(version).toEqual({ lap: '0.1.0', node: process.version });
});
