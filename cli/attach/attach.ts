// `lap attach`: the user's terminal joined to a session's PTY, like ssh. Reconnects with backoff when
// the connection is lost (the server repaints from its screen snapshot), and ends with the remote
// program's exit code, or 0 on a detach.
import { setTimeout as sleep } from 'node:timers/promises';
import { type Client, MANAGED } from '../client.ts';
import { CliError, EXIT } from '../errors.ts';
import { ESCAPE_HELP, EscapeReader } from './escapes.ts';
import { openTerminalLink, type Outcome, type TerminalLink } from './connection.ts';
import { LocalTerminal } from './local-terminal.ts';

const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];
/** After this long without a connection lap gives up (the session itself keeps running). */
const GIVE_UP_AFTER_MS = 5 * 60_000;
const CLEAR_LINE = '\r\x1b[2K';

export async function attachSession(client: Client, sessionId: string): Promise<number> {
  const terminal = new LocalTerminal();
  const url = `${client.connection.url.replace(/^http/, 'ws')}${MANAGED}/sessions/${sessionId}/tty`;
  let link: TerminalLink | undefined;
  let detach!: () => void;
  const detached = new Promise<'detached'>((resolve) => (detach = () => resolve('detached')));
  const escapes = new EscapeReader();
  const beforeFirstLink: Buffer[] = [];
  terminal.enter();
  process.stdin.on('data', (chunk: Buffer) => {
    const { data, actions } = escapes.read(chunk);
    if (data.length > 0 && link) link.send(data);
    else if (data.length > 0) beforeFirstLink.push(data);
    if (actions.includes('help')) process.stderr.write(`\r\n${ESCAPE_HELP}\r\n`);
    if (actions.includes('detach')) detach();
  });
  terminal.onResize(({ cols, rows }) => link?.resize(cols, rows));
  try {
    for (let attempt = 0, lostAt = 0, everConnected = false; ; ) {
      const current = await openTerminalLink(url, client.connection.api_key, terminal);
      link = current;
      for (const bytes of beforeFirstLink.splice(0)) current.send(bytes);
      let connected = false;
      void current.opened.then(() => {
        connected = everConnected = true;
        if (lostAt) process.stderr.write(CLEAR_LINE);
      });
      const outcome = await Promise.race([current.outcome, detached]);
      current.close();
      if (outcome === 'detached') return finishDetached(terminal, sessionId);
      if (outcome.kind !== 'lost') return await finish(terminal, client, sessionId, outcome);
      if (!everConnected) throw new CliError(`cannot reach ${client.connection.url}: ${outcome.reason}`, { hint: 'is the gateway running? check the URL with `lap login`', exitCode: EXIT.unreachable });
      if (connected) [attempt, lostAt] = [0, Date.now()];
      if (Date.now() - lostAt > GIVE_UP_AFTER_MS) throw new CliError(`lost the connection to session ${sessionId} and could not get it back (${outcome.reason})`, { hint: `the session keeps running: lap attach ${sessionId}`, exitCode: EXIT.unreachable });
      const delay = BACKOFF_MS[Math.min(attempt++, BACKOFF_MS.length - 1)]!;
      process.stderr.write(`${CLEAR_LINE}lap: connection lost (${outcome.reason}); reconnecting in ${(delay / 1000).toFixed(1)} s, attempt ${attempt} (~. gives up)`);
      if ((await Promise.race([sleep(delay, 'retry' as const), detached])) === 'detached') return finishDetached(terminal, sessionId);
    }
  } finally {
    link?.close();
    terminal.restore({ resetModes: true });
  }
}

function finishDetached(terminal: LocalTerminal, sessionId: string): number {
  terminal.restore({ resetModes: true });
  process.stderr.write(`\r\nlap: detached; session ${sessionId} keeps running (lap attach ${sessionId})\n`);
  return EXIT.ok;
}

async function finish(terminal: LocalTerminal, client: Client, sessionId: string, outcome: Exclude<Outcome, { kind: 'lost' }>): Promise<number> {
  terminal.restore({ resetModes: outcome.kind !== 'exit' });
  if (outcome.kind === 'exit') return outcome.code;
  const session = await client.json('GET', `${MANAGED}/sessions/${sessionId}`).catch(() => undefined);
  const why = session?.failure_reason ? `: ${session.failure_reason}` : '';
  if (outcome.kind === 'not-running' || outcome.status === 409) {
    throw new CliError(`the program in session ${sessionId} is not running (${session?.status ?? 'unknown'}${why})`, { hint: `start it again with POST …/sessions/${sessionId}/restart, or start a new session with lap <agent> --new` });
  }
  if (outcome.status === 401) throw new CliError('the server refused the API key', { hint: 'run `lap login` with a valid key', exitCode: EXIT.auth });
  if (outcome.status === 404) throw new CliError(`no session ${sessionId}`, { hint: 'lap ls lists your sessions', exitCode: EXIT.notFound });
  throw new CliError(`the server refused the terminal (${outcome.status}): ${outcome.message}`);
}
