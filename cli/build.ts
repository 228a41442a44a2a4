// lap as one ES module file: the form the published package ships, and what bin/lap.mjs runs in a
// checkout too (rebuilt when a source is newer), because loading ~30 TypeScript files and citty one
// by one takes twice the time of `lap --help`'s budget. `node cli/build.ts [--out <file>]` builds it.
import { fileURLToPath } from 'node:url';
import { type BundleSpec, ensureBundle, runBuildCommand } from '../scripts/bundle.ts';

const CLI: BundleSpec = {
  entry: fileURLToPath(new URL('main.ts', import.meta.url)),
  bundle: fileURLToPath(new URL('dist/lap.mjs', import.meta.url)),
  buildScript: fileURLToPath(import.meta.url),
  // ws's optional native speed-ups; ws works without them.
  external: ['bufferutil', 'utf-8-validate'],
};

/** The bundle's path, rebuilt first when missing or older than a source. */
export function cliBundle(): string {
  return ensureBundle(CLI);
}

runBuildCommand(CLI, (outFile) => `node ${outFile} --help`);
