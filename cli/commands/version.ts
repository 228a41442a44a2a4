import { readFileSync } from 'node:fs';
import { defineCommand } from 'citty';
import { printJson } from '../output.ts';

/** cli/package.json: one folder up from commands/ in the checkout, and from dist/ when published. */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export default defineCommand({
  meta: { name: 'version', description: "Print lap's version (and Node's)" },
  args: { json: { type: 'boolean', description: 'As JSON' } },
  run({ args }) {
    if (args.json) return printJson({ lap: VERSION, node: process.version });
    process.stdout.write(`lap ${VERSION} (node ${process.version})\n`);
  },
});
