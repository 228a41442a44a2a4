// The harness registry. Adding a harness is one file exporting a Harness (see harness.ts) and one
// entry in the list below.
import type { Harness } from './harness.ts';
import { shellHarness } from './shell.ts';

export { type Harness, type HarnessCommand, HarnessConfigError } from './harness.ts';

const HARNESSES: ReadonlyMap<string, Harness> = new Map([shellHarness].map((h) => [h.name, h]));

export function findHarness(name: string): Harness | undefined {
  return HARNESSES.get(name);
}

export function harnessNames(): string[] {
  return [...HARNESSES.keys()].sort();
}
