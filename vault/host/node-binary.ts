import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BUNDLED_NODE = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));

/** The vault and the sandbox agent need Node 24: this process's own binary when it is one, else the repo's. */
export function nodeBinary(): string {
  if (Number(process.versions.node.split('.')[0]) >= 24) return process.execPath;
  if (existsSync(BUNDLED_NODE)) return BUNDLED_NODE;
  throw new Error(`the vault and the sandbox agent need Node 24; this is Node ${process.versions.node} and ${BUNDLED_NODE} is missing`);
}
