// Installs harness programs into the harness directory (LAP_HARNESS_DIR, default /opt/lap/harnesses),
// one npm prefix per harness: <dir>/<harness>/node_modules/.bin/<program>. The local runtime shows that
// directory read-only inside every sandbox. Usage: node scripts/harness-install.ts <name...|all> [--dir D]
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_HARNESS_DIR } from '../sandbox-agent/harnesses/installed.ts';

export { DEFAULT_HARNESS_DIR };

export interface HarnessPackage {
  /** The npm package and the exact version installed (pinned: a harness is tested against it). */
  package: string;
  version: string;
  /** The program under node_modules/.bin; none for a library (the SDK: its module dir is what is used). */
  bin?: string;
}

/** What `install <name>` installs. Bump a version here, then re-run the install. */
export const HARNESS_PACKAGES: Readonly<Record<string, HarnessPackage>> = {
  'claude-code': { package: '@anthropic-ai/claude-code', version: '2.1.332', bin: 'claude' },
  codex: { package: '@openai/codex', version: '0.171.0', bin: 'codex' },
  opencode: { package: 'opencode-ai', version: '1.18.33', bin: 'opencode' },
  'claude-agent-sdk': { package: '@anthropic-ai/claude-agent-sdk', version: '0.3.332' },
};

const INSTALL_TIMEOUT_MS = 15 * 60 * 1000;

export interface InstallResult {
  name: string;
  prefix: string;
  version: string;
  /** false when the pinned version was already there. */
  installed: boolean;
}

/** The harness's npm prefix under `dir`. */
export function harnessPrefix(dir: string, name: string): string {
  return join(resolve(dir), name);
}

/** The pinned version is installed under `dir` (its package.json says so, and its program exists). */
export function isHarnessInstalled(name: string, dir: string): boolean {
  const pkg = packageOf(name);
  return installedVersion(harnessPrefix(dir, name), pkg) === pkg.version;
}

/**
 * Installs the pinned package into `<dir>/<name>` unless that version is already there. npm runs in a
 * staging prefix beside it, which replaces the old one only once complete, so a failed or interrupted
 * install never leaves a half-installed harness that looks usable. Files are world-readable (umask 022):
 * the sandbox user runs them.
 */
export async function installHarness(name: string, dir: string = DEFAULT_HARNESS_DIR): Promise<InstallResult> {
  const pkg = packageOf(name);
  const prefix = harnessPrefix(dir, name);
  if (installedVersion(prefix, pkg) === pkg.version) return { name, prefix, version: pkg.version, installed: false };
  mkdirSync(dirname(prefix), { recursive: true, mode: 0o755 });
  chmodSync(dirname(prefix), 0o755);
  const staging = `${prefix}.installing-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { mode: 0o755 });
  try {
    await runNpm(['install', '--prefix', staging, '--no-audit', '--no-fund', '--no-save', '--loglevel=error', `${pkg.package}@${pkg.version}`]);
    const got = installedVersion(staging, pkg);
    if (got !== pkg.version) throw new Error(`npm finished, but ${pkg.package}@${pkg.version}${pkg.bin ? ` with program ${pkg.bin}` : ''} is not in ${staging}`);
    rmSync(prefix, { recursive: true, force: true });
    renameSync(staging, prefix);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return { name, prefix, version: pkg.version, installed: true };
}

function packageOf(name: string): HarnessPackage {
  const pkg = HARNESS_PACKAGES[name];
  if (!pkg) throw new Error(`unknown harness ${JSON.stringify(name)}; installable: ${Object.keys(HARNESS_PACKAGES).join(', ')}`);
  return pkg;
}

function installedVersion(prefix: string, pkg: HarnessPackage): string | undefined {
  if (pkg.bin && !existsSync(join(prefix, 'node_modules', '.bin', pkg.bin))) return undefined;
  try {
    const manifest = JSON.parse(readFileSync(join(prefix, 'node_modules', pkg.package, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * npm under this Node (24), so the packages' install scripts run on it too, not on an older system node.
 * npm's own output goes to stderr: stdout stays for what the caller prints (the CLI's JSON, say).
 */
function runNpm(args: string[]): Promise<void> {
  const nodeDir = dirname(process.execPath);
  const env = { ...process.env, PATH: `${nodeDir}:${process.env.PATH ?? '/usr/bin:/bin'}` };
  return new Promise((resolveRun, reject) => {
    const child = spawn('/bin/sh', ['-c', 'umask 022 && exec npm "$@"', 'npm', ...args], { env, stdio: ['ignore', 2, 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4096);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), INSTALL_TIMEOUT_MS);
    child.once('error', (err) => reject(new Error(`cannot run npm: ${err.message}`)));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolveRun();
      else reject(new Error(`npm ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
    });
  });
}

async function main(argv: string[]): Promise<void> {
  let dir = process.env.LAP_HARNESS_DIR || DEFAULT_HARNESS_DIR;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--dir') dir = argv[++i] ?? '';
    else names.push(...(arg === 'all' ? Object.keys(HARNESS_PACKAGES) : [arg]));
  }
  if (names.length === 0 || dir === '') {
    throw new Error(`usage: node scripts/harness-install.ts <${Object.keys(HARNESS_PACKAGES).join('|')}|all>... [--dir DIR] (default: $LAP_HARNESS_DIR or ${DEFAULT_HARNESS_DIR})`);
  }
  names.forEach(packageOf); // every name is checked before anything is installed
  for (const name of names) {
    const result = await installHarness(name, dir);
    console.log(`${name}: ${HARNESS_PACKAGES[name]!.package}@${result.version} ${result.installed ? 'installed' : 'already installed'} in ${result.prefix}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: Error) => {
    console.error(`harness-install: ${err.message}`);
    process.exitCode = 1;
  });
}
