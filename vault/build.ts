// The vault as one ESM file, the form that ships in container images (DESIGN.md §1) and that every
// launcher starts (scripts/bundle.ts says why and how). `node vault/build.ts [--out <file>]` builds
// it; launchers call vaultNodeArgs(), which rebuilds only when a source is newer than the bundle.
import { fileURLToPath } from 'node:url';
import { type BundleSpec, buildBundle, ensureBundle, runBuildCommand } from '../scripts/bundle.ts';

export const VAULT_BUNDLE = fileURLToPath(new URL('dist/vault.mjs', import.meta.url));

const VAULT: BundleSpec = {
  entry: fileURLToPath(new URL('main.ts', import.meta.url)),
  bundle: VAULT_BUNDLE,
  buildScript: fileURLToPath(import.meta.url),
};

/**
 * V8 flags for the vault process. A 1 MiB semi-space keeps the young generation from growing to
 * 16-64 MiB per vault; requests allocate little, so the extra scavenges cost little throughput.
 */
export const VAULT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/** Bundles vault/main.ts and everything it imports into `outFile`. */
export function buildVault(outFile: string = VAULT_BUNDLE): void {
  buildBundle(VAULT, outFile);
}

/** The bundle's path, rebuilt first when it is missing or any file it was built from has changed. */
export function ensureVaultBundle(): string {
  return ensureBundle(VAULT);
}

/** Node arguments that start the vault: its V8 flags, then the (fresh) bundle. Append `--config <file>`. */
export function vaultNodeArgs(): string[] {
  return [...VAULT_NODE_FLAGS, ensureVaultBundle()];
}

runBuildCommand(VAULT, (outFile) => `node ${VAULT_NODE_FLAGS.join(' ')} ${outFile} --config <file>`);
