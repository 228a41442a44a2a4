// What a warm agent does while it waits for its claim, so that the claim itself is short: load what
// every claim needs, and run one claim that it refuses through its own server in memory, so the claim's
// request path is compiled before a real claim takes it. Measured on one agent on loopback
// (docs/benchmarks.md): the preload took a claim's harness phase from ~40 to ~15 ms, the refused
// claim a claim's receipt (request to "workspace started") from ~10-16 to ~4-5 ms.
import type { Server } from 'node:http';
import { warmUpServer } from '../vault/http/warm-up.ts';
import type { ClaimRequest } from './protocol.ts';

/** After the first health probes have been answered: start-up itself is not slowed. */
export const WARM_UP_DELAY_MS = 200;

/** A claim that passes every check but names no harness: refused before it changes anything. */
const REFUSED_CLAIM: ClaimRequest = {
  session: 'warm-up',
  harness: 'warm-up (not a harness)',
  env: { LANG: 'C.UTF-8', SHELL: '/bin/bash' },
  gitCredentials: [{ host: 'github.com', username: 'x-access-token', stub: 'stub' }],
  files: [{ path: 'warm-up.txt', content: '' }],
  cols: 80,
  rows: 24,
};

export async function warmUp(server: Server, token: string): Promise<void> {
  // node-pty and the headless screen: a claimed agent holds them anyway (idle RSS unchanged).
  await import('./tty/terminal.ts');
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  await warmUpServer(server, [{ method: 'POST', path: '/v1/claim', headers, body: JSON.stringify(REFUSED_CLAIM) }]);
}
