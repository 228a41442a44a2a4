// Whether a bundle from scripts/bundle.ts must be rebuilt: missing, or older than a file it was built
// from. Plain JavaScript so that a launcher can ask without loading Node's TypeScript stripper
// (bin/lap.mjs, where that costs more than a third of `lap --help`).
import { readFileSync, statSync } from 'node:fs';

/** The list of files a bundle was built from sits beside it. */
export function inputsFile(bundle) {
  return `${bundle}.inputs.json`;
}

export function isStale(bundle) {
  const built = mtimeOf(bundle);
  if (built === undefined) return true;
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(inputsFile(bundle), 'utf8'));
  } catch {
    return true;
  }
  return inputs.some((input) => (mtimeOf(input) ?? Infinity) > built);
}

function mtimeOf(path) {
  return statSync(path, { throwIfNoEntry: false })?.mtimeMs;
}
