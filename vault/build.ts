// The vault as one CommonJS file, the form that ships in container images (DESIGN.md §1) and that every
// launcher starts (scripts/bundle.ts says why and how). `node vault/build.ts [--out <file>]` builds it;
// launchers call vaultNodeArgs(), which rebuilds only when a source is newer than the bundle, and put
// VAULT_ENV in the vault's environment.
import { fileURLToPath } from 'node:url';
import { type BundleSpec, ensureBundle, runBuildCommand } from '../scripts/bundle.ts';

const VAULT: BundleSpec = {
  entry: fileURLToPath(new URL('main.ts', import.meta.url)),
  bundle: fileURLToPath(new URL('dist/vault.cjs', import.meta.url)),
  buildScript: fileURLToPath(import.meta.url),
  format: 'cjs',
  minifyWhitespace: true,
  // Loaded from node_modules at the first upstream request (intercept/upstream.ts): an idle vault then
  // holds neither undici's code nor its source text (~0.6 MiB).
  external: ['undici'],
};

/**
 * V8 flags for the vault process. A 1 MiB semi-space keeps the young generation from growing to
 * 16-64 MiB per vault; requests allocate little, so the extra scavenges cost little throughput.
 * Without Maglev (V8's mid-tier compiler) the code V8 compiles at start-up does not pull Maglev's
 * own code into memory: ~1.7 MiB less per idle vault; hot code still reaches TurboFan.
 */
export const VAULT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--no-maglev'];

/**
 * Variables for the vault's own environment (merge them into the env it is spawned with). One glibc
 * malloc arena instead of one per thread: ~1.5 MiB less per idle vault; its main thread does nearly
 * all the allocating (the libuv pool only hashes and resolves now and then), so they rarely contend.
 */
export const VAULT_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '1' };

/** The bundle's path, rebuilt first when it is missing or any file it was built from has changed. */
export function ensureVaultBundle(): string {
  return ensureBundle(VAULT);
}

/**
 * Node arguments that start the vault: its V8 flags, then the (fresh) bundle. Append `--config <file>`,
 * and spawn with VAULT_ENV in the environment.
 */
export function vaultNodeArgs(): string[] {
  return [...VAULT_NODE_FLAGS, ensureVaultBundle()];
}

const envPrefix = Object.entries(VAULT_ENV).map(([name, value]) => `${name}=${value}`).join(' ');
runBuildCommand(VAULT, (outFile) => `${envPrefix} node ${VAULT_NODE_FLAGS.join(' ')} ${outFile} --config <file>`);
