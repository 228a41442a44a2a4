// Config files a harness writes into its HOME: merged into what is there (an image may ship one), so
// the user's own settings stay and ours win only where they must.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

type Json = Record<string, unknown>;

/** Deep-merges `values` into the JSON object at `path` (created 0600 with its folders when missing). */
export function mergeJsonFile(path: string, values: Json): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(deepMerge(readJsonObject(path), values), null, 2)}\n`, { mode: 0o600 });
}

function readJsonObject(path: string): Json {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return isObject(parsed) ? parsed : {};
  } catch {
    return {}; // missing or not JSON: ours replaces it
  }
}

function deepMerge(base: Json, values: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(values)) {
    const current = out[key];
    out[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
