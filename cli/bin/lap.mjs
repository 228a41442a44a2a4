#!/usr/bin/env node
// The published package runs its bundle, dist/lap.mjs. In a checkout the bundle is rebuilt first
// when a source is newer (cli/build.ts, which needs a Node that runs TypeScript: ≥ 22.18).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// citty colours its help unless NO_COLOR is set (read once, when it loads): plain text into pipes and files.
if (!process.stdout.isTTY) process.env.NO_COLOR ??= '1';
const bundle = new URL('../dist/lap.mjs', import.meta.url);
if (existsSync(new URL('../build.ts', import.meta.url))) {
  const { isStale } = await import('../../scripts/bundle-freshness.mjs');
  if (isStale(fileURLToPath(bundle))) {
    if (!process.features?.typescript) {
      process.stderr.write(`lap: this Node (${process.version}) cannot build lap from its source\n  hint: run npx lap (the project's Node 24), or use Node 24\n`);
      process.exit(1);
    }
    const { cliBundle } = await import('../build.ts');
    cliBundle();
  }
}
const { main } = await import(bundle);
process.exit(await main(process.argv.slice(2)));
