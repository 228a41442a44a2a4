// The harness registry. Adding a harness is one file exporting a Harness (see harness.ts) and one
// entry in the list below; an installable one also gets a line in scripts/harness-install.ts.
import { claudeAgentSdkHarness } from './claude-agent-sdk.ts';
import { claudeCodeHarness } from './claude-code.ts';
import { codexHarness } from './codex.ts';
import type { Harness } from './harness.ts';
import { opencodeHarness } from './opencode.ts';
import { shellHarness } from './shell.ts';

export { type Harness, type HarnessCommand, HarnessConfigError } from './harness.ts';

const HARNESSES: ReadonlyMap<string, Harness> = new Map(
  [
    shellHarness,
    claudeCodeHarness,
    codexHarness,
    opencodeHarness,
    claudeAgentSdkHarness,
  ].map((h) => [h.name, h]),
);

export function findHarness(name: string): Harness | undefined {
  return HARNESSES.get(name);
}

export function harnessNames(): string[] {
  return [...HARNESSES.keys()].sort();
}
