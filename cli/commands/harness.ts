// `lap harness`: the harness programs on this machine (the gateway host with the local runtime), in
// LAP_HARNESS_DIR. The same installer as `npm run harness:install`.
import { defineCommand } from 'citty';
import { DEFAULT_HARNESS_DIR, HARNESS_PACKAGES, harnessPrefix, installHarness, isHarnessInstalled } from '../../scripts/harness-install.ts';
import { CliError, usageError } from '../errors.ts';
import { printJson, printTable } from '../output.ts';

const dirArg = {
  dir: { type: 'string', description: `Harness directory (default: $LAP_HARNESS_DIR or ${DEFAULT_HARNESS_DIR})`, valueHint: 'dir' },
} as const;
const harnessDir = (dir?: string) => dir || process.env.LAP_HARNESS_DIR || DEFAULT_HARNESS_DIR;

const install = defineCommand({
  meta: { name: 'install', description: `Install harness programs from the npm registry (${Object.keys(HARNESS_PACKAGES).join(', ')}, or all) on this machine` },
  args: { ...dirArg, name: { type: 'positional', required: true, description: 'Harness name(s), or all', valueHint: 'name' } },
  async run({ args }) {
    const names = args._.flatMap((n) => (n === 'all' ? Object.keys(HARNESS_PACKAGES) : [n]));
    const unknown = names.filter((n) => !HARNESS_PACKAGES[n]);
    if (unknown.length > 0) throw usageError(`unknown harness ${unknown.join(', ')}`, `installable: ${Object.keys(HARNESS_PACKAGES).join(', ')}, all`);
    for (const name of names) {
      process.stderr.write(`lap: installing ${name} (${HARNESS_PACKAGES[name]!.package}@${HARNESS_PACKAGES[name]!.version})…\n`);
      const result = await installHarness(name, harnessDir(args.dir)).catch((err: Error) => {
        throw new CliError(`installing ${name} failed: ${err.message}`, { hint: 'the npm registry must be reachable from this machine; run as a user that may write the harness directory' });
      });
      process.stderr.write(`lap: ${name} ${result.installed ? 'installed' : 'already installed'} in ${result.prefix}\n`);
    }
  },
});

const ls = defineCommand({
  meta: { name: 'ls', description: 'Which harness programs are installed on this machine' },
  args: { ...dirArg, json: { type: 'boolean', description: 'As JSON' } },
  run({ args }) {
    const dir = harnessDir(args.dir);
    const rows = Object.entries(HARNESS_PACKAGES).map(([name, pkg]) => ({ name, package: pkg.package, version: pkg.version, installed: isHarnessInstalled(name, dir), prefix: harnessPrefix(dir, name) }));
    if (args.json) return printJson(rows);
    printTable(['harness', 'package', 'installed'], rows.map((r) => [r.name, `${r.package}@${r.version}`, r.installed ? 'yes' : `no (lap harness install ${r.name})`]));
  },
});

export default defineCommand({
  meta: { name: 'harness', description: 'Install and list harness programs on this machine (the gateway host)' },
  subCommands: { ls, install },
  default: 'ls',
});
