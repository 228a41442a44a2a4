// The vault as one ESM file, the form that ships in container images (DESIGN.md §1) and that every
// launcher starts. Running the .ts sources costs an idle vault ~30 MiB more: Node's type stripper and
// hundreds of module records stay resident. `node vault/build.ts` builds it; launchers call
// vaultNodeArgs(), which rebuilds only when a source is newer than the bundle (~0.4 s).
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildSync } from 'esbuild';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const ENTRY = fileURLToPath(new URL('main.ts', import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);
export const VAULT_BUNDLE = fileURLToPath(new URL('dist/vault.mjs', import.meta.url));
const INPUTS_FILE = `${VAULT_BUNDLE}.inputs.json`;

/**
 * V8 flags for the vault process. A 1 MiB semi-space keeps the young generation from growing to
 * 16-64 MiB per vault; requests allocate little, so the extra scavenges cost little throughput.
 */
export const VAULT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

// CommonJS dependencies call require() for Node built-ins; an ESM bundle has no require of its own.
const REQUIRE_SHIM = "import { createRequire as __lapCreateRequire } from 'node:module'; const require = __lapCreateRequire(import.meta.url);";

/** Bundles vault/main.ts and everything it imports into `outFile`, atomically (tests build in parallel). */
export function buildVault(outFile: string = VAULT_BUNDLE): void {
  const result = buildSync({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    write: false,
    metafile: true,
    absWorkingDir: REPO,
    banner: { js: REQUIRE_SHIM },
    logLevel: 'error',
  });
  const inputs = Object.keys(result.metafile.inputs).map((input) => resolve(REPO, input));
  mkdirSync(dirname(outFile), { recursive: true });
  // Build output, never committed; the folder says so itself, so nothing outside vault/ has to.
  if (outFile === VAULT_BUNDLE) writeFileSync(join(dirname(outFile), '.gitignore'), '*\n');
  writeAtomically(`${outFile}.inputs.json`, JSON.stringify([THIS_FILE, ...inputs]));
  writeAtomically(outFile, result.outputFiles[0]!.contents);
}

/** The bundle's path, rebuilt first when it is missing or any file it was built from has changed. */
export function ensureVaultBundle(): string {
  if (isStale()) buildVault();
  return VAULT_BUNDLE;
}

/** Node arguments that start the vault: its V8 flags, then the (fresh) bundle. Append `--config <file>`. */
export function vaultNodeArgs(): string[] {
  return [...VAULT_NODE_FLAGS, ensureVaultBundle()];
}

function isStale(): boolean {
  const built = mtimeOf(VAULT_BUNDLE);
  if (built === undefined) return true;
  let inputs: string[];
  try {
    inputs = JSON.parse(readFileSync(INPUTS_FILE, 'utf8')) as string[];
  } catch {
    return true;
  }
  return inputs.some((input) => (mtimeOf(input) ?? Infinity) > built);
}

function mtimeOf(path: string): number | undefined {
  return statSync(path, { throwIfNoEntry: false })?.mtimeMs;
}

function writeAtomically(path: string, contents: string | Uint8Array): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, contents, { mode: 0o644 });
  renameSync(temporary, path);
}

// `node vault/build.ts [--out <file>]`, e.g. in a container image build.
if (process.argv[1] && resolve(process.argv[1]) === THIS_FILE) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const outFile = resolve(values.out ?? VAULT_BUNDLE);
  const started = performance.now();
  buildVault(outFile);
  console.log(`built ${outFile} in ${Math.round(performance.now() - started)} ms; start it with node ${VAULT_NODE_FLAGS.join(' ')} ${outFile} --config <file>`);
}
