// One JavaScript file per long-running process (the vault, the sandbox agent): the form that ships in
// images and that every launcher starts. Running the .ts sources keeps Node's type stripper and
// hundreds of module records resident, ~30 MiB more per idle process. Launchers call ensureBundle(),
// which rebuilds only when a source (or the build script) is newer than the bundle (~0.5 s).
import { createRequire } from 'node:module';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { inputsFile, isStale } from './bundle-freshness.mjs';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);

// CommonJS dependencies call require() for Node built-ins; an ESM bundle has no require of its own.
const REQUIRE_SHIM = "import { createRequire as __lapCreateRequire } from 'node:module'; const require = __lapCreateRequire(import.meta.url);";

export interface BundleSpec {
  /** The program's main .ts file. */
  entry: string;
  /** Where launchers find the bundle; its folder is build output and ignores itself in git. */
  bundle: string;
  /** The build script that describes this bundle: a change to it rebuilds the bundle too. */
  buildScript: string;
  /**
   * Packages left out, loaded from node_modules when first used: native addons, and (CommonJS only)
   * packages the process may never need, whose source would otherwise stay in memory all along.
   */
  external?: readonly string[];
  /**
   * 'cjs' spares the process Node's ESM loader (~1.5 MiB) but needs sources without top-level await
   * or import.meta; the bundle's name must then end in .cjs. Default 'esm'.
   */
  format?: 'esm' | 'cjs';
  /** V8 keeps a script's whole source in memory: a whitespace-free one is a third smaller (names stay). */
  minifyWhitespace?: boolean;
}

/** Bundles spec.entry and everything it imports into `outFile`, atomically (tests build in parallel). */
export function buildBundle(spec: BundleSpec, outFile: string = spec.bundle): void {
  // Loaded here, not at the top: launchers import this file on every start and rarely need to build.
  const { buildSync } = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  const result = buildSync({
    entryPoints: [spec.entry],
    bundle: true,
    platform: 'node',
    format: spec.format ?? 'esm',
    target: 'node24',
    external: [...(spec.external ?? [])],
    minifyWhitespace: spec.minifyWhitespace ?? false,
    write: false,
    metafile: true,
    absWorkingDir: REPO,
    banner: { js: spec.format === 'cjs' ? '' : REQUIRE_SHIM },
    logLevel: 'error',
  });
  const inputs = Object.keys(result.metafile.inputs).map((input) => resolve(REPO, input));
  mkdirSync(dirname(outFile), { recursive: true });
  if (outFile === spec.bundle) {
    // Build output stays out of git. npm pack reads a folder's .npmignore in place of its .gitignore:
    // a published package ships the bundle, and not the list of build inputs (this machine's paths).
    writeFileSync(join(dirname(outFile), '.gitignore'), '*\n');
    writeFileSync(join(dirname(outFile), '.npmignore'), '*.inputs.json\n');
  }
  writeAtomically(inputsFile(outFile), JSON.stringify([THIS_FILE, spec.buildScript, ...inputs]));
  writeAtomically(outFile, result.outputFiles[0]!.contents);
}

/** The bundle's path, rebuilt first when it is missing or any file it was built from has changed. */
export function ensureBundle(spec: BundleSpec): string {
  if (isStale(spec.bundle)) buildBundle(spec);
  return spec.bundle;
}

/**
 * `node <build script> [--out <file>]`, e.g. in a container image build: builds and prints how to
 * start the result. Does nothing unless the build script is the program being run.
 */
export function runBuildCommand(spec: BundleSpec, startHint: (outFile: string) => string): void {
  if (!process.argv[1] || resolve(process.argv[1]) !== spec.buildScript) return;
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const outFile = resolve(values.out ?? spec.bundle);
  const started = performance.now();
  buildBundle(spec, outFile);
  // stderr: stdout stays clean for whoever ran the build (`npm pack --json` prints its answer there).
  console.error(`built ${outFile} in ${Math.round(performance.now() - started)} ms; start it with ${startHint(outFile)}`);
}

function writeAtomically(path: string, contents: string | Uint8Array): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, contents, { mode: 0o644 });
  renameSync(temporary, path);
}
