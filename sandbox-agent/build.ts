// The sandbox agent as one CommonJS file, the form that ships in sandbox images (DESIGN.md §1) and that
// every launcher starts (scripts/bundle.ts says why and how). Left in node_modules: node-pty (a native
// addon), and ws and tar, which only a TTY viewer or an archive request loads. docs/benchmarks.md has
// what each choice here saves. `node sandbox-agent/build.ts [--out <file>]` builds it.
import { fileURLToPath } from 'node:url';
import { type BundleSpec, ensureBundle, runBuildCommand } from '../scripts/bundle.ts';

const AGENT: BundleSpec = {
  entry: fileURLToPath(new URL('main.ts', import.meta.url)),
  bundle: fileURLToPath(new URL('dist/agent.cjs', import.meta.url)),
  buildScript: fileURLToPath(import.meta.url),
  external: ['node-pty', 'ws', 'tar'],
  format: 'cjs',
  minifyWhitespace: true,
};

/**
 * V8 flags for the agent process. A 1 MiB semi-space keeps the young generation small; the agent
 * allocates little, so the extra scavenges cost little. Without Maglev (V8's mid-tier compiler) ~1.5
 * MiB less per idle agent: its code is not pulled into memory; hot code still reaches TurboFan.
 * TurboFan after 20 000 calls of a function instead of 3 000: the screen mirror's first fill calls
 * xterm's setCell once per cell (4 800 at 120×40), and the first TurboFan compile maps ~5.5 MiB of the
 * compiler's code into the process. Screens up to ~250×75 now stay below it until real output
 * arrives, which reaches 20 000 calls within a few hundred lines (docs/benchmarks.md).
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--no-maglev', '--invocation-count-for-turbofan=20000'];

/**
 * Variables for the agent's own environment (merge them into the env it is spawned with; nothing the
 * agent starts inherits them). One glibc malloc arena instead of one per thread: ~1 MiB less per
 * idle agent, and the agent's few threads rarely allocate at the same time.
 */
export const AGENT_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '1' };

/**
 * Node arguments that start the sandbox agent: its V8 flags, then the bundle of sandbox-agent/main.ts,
 * rebuilt first when it is missing or older than any file it is built from. Spawn the Node 24 binary
 * with these, then the agent's own flags (`--listen ADDR:PORT --token-file F --workspace DIR`), with
 * AGENT_ENV in its environment. The bundle resolves node-pty, ws and tar from the repository's node_modules.
 */
export function agentNodeArgs(): string[] {
  return [...AGENT_NODE_FLAGS, ensureBundle(AGENT)];
}

const envPrefix = Object.entries(AGENT_ENV).map(([name, value]) => `${name}=${value}`).join(' ');
runBuildCommand(AGENT, (outFile) => `${envPrefix} node ${AGENT_NODE_FLAGS.join(' ')} ${outFile} --listen ADDR:PORT --token-file F --workspace DIR`);
