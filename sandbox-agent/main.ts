#!/usr/bin/env node
// The sandbox agent: one per sandbox. `node sandbox-agent/main.ts --listen ADDR:PORT --token-file F --workspace DIR`.
import { readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createLog } from '../vault/log.ts';
import { EventLog } from './events.ts';
import { createAgentServer } from './server.ts';
import { type AgentState, DEFAULT_LIMITS } from './state.ts';
import { WARM_UP_DELAY_MS, warmUp } from './warm-up.ts';

/** JSON lines on stdout; launchers read the port from "agent ready". */
const log = createLog('sandbox-agent');

const { values } = parseArgs({ options: { listen: { type: 'string', default: '0.0.0.0:7070' }, 'token-file': { type: 'string' }, workspace: { type: 'string' } } });

function fail(message: string): never {
  log.fatal(message);
  process.exit(2);
}

/** The token lives only in this process: the file is removed and nothing the agent starts inherits it. */
function takeToken(path: string): string {
  const token = readFileSync(path, 'utf8').trim();
  rmSync(path, { force: true });
  if (token.length < 32) fail(`the token in ${path} is shorter than 32 characters`);
  return token;
}

const tokenFile = values['token-file'] ?? fail('missing --token-file <file>');
const workspace = values.workspace ?? fail('missing --workspace <dir>');
const [host, port] = /^(.*):(\d+)$/.exec(values.listen ?? '')?.slice(1) ?? fail(`--listen must be ADDRESS:PORT, got ${values.listen}`);
const state: AgentState = { workspace, events: new EventLog(), limits: DEFAULT_LIMITS, claim: null, terminal: null };
const token = takeToken(tokenFile);
const server = createAgentServer(state, token);
server.listen(Number(port), host, () => {
  log.info({ port: (server.address() as AddressInfo).port, workspace }, 'agent ready');
  setTimeout(() => void warmUp(server, token), WARM_UP_DELAY_MS);
});
server.on('error', (err) => fail(`cannot listen on ${values.listen}: ${err.message}`));
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    state.terminal?.kill('SIGHUP');
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
