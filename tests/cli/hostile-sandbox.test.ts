// What the sandbox's side sends must not crash lap. The gateway relays the agent's terminal frames and
// turn events, and the agent runs as the sandbox's user, so code in the sandbox can replace it (or
// ptrace it) and send anything; in `lap attach` a crash would also leave the person's terminal raw. A
// real HTTP + WebSocket server on loopback stands in for that whole path here (it answers what lap
// asks: the session, then the terminal or the message); lap runs for real, in a real PTY to attach.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { LapTerminal, runLap } from '../support/lap.ts';

const SESSION = { id: 'ses_0123456789abcdef', agent_id: 'agt_0123456789abcdef', title: null, harness: 'shell', status: 'ready', failure_reason: null, created_at: '2026-12-07T00:00:00.000Z', last_activity_at: '2026-12-07T00:00:00.000Z' };
const HELLO = JSON.stringify({ type: 'hello', cols: 80, rows: 24, harness: 'shell', running: true, viewers: 1 });

describe('lap against a sandbox whose agent sends malformed messages', () => {
  let server: Server;
  let home: string;
  /** What the terminal sends after hello and the screen: set by each test. */
  let script: (socket: WebSocket) => void = () => {};
  /** The events a message's answer streams: set by each test. */
  let turn: { type: string; data: unknown }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.method === 'POST' && req.url?.endsWith('/message')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        return void res.end(turn.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join(''));
      }
      res.writeHead(req.url === `/api/v1/managed_agents/sessions/${SESSION.id}` ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.url?.endsWith(SESSION.id) ? SESSION : { error: { code: 'not_found', message: 'no such thing', details: [] } }));
    });
    const terminals = new WebSocketServer({ server });
    terminals.on('connection', (socket) => {
      socket.send(HELLO);
      socket.send(Buffer.from('screen$ '), { binary: true });
      script(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    home = mkdtempSync(join(tmpdir(), 'lap-hostile-terminal-'));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(home, { recursive: true, force: true });
  });

  const env = () => ({ PATH: process.env.PATH!, HOME: home, XDG_CONFIG_HOME: home, TERM: 'xterm-256color', LAP_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, LAP_API_KEY: 'lap_anything' });
  const attach = () => {
    return LapTerminal.start(`LAP attach ${SESSION.id}; echo "lap-exit:$?"; stty -a | grep -o -- '-icanon\\|icanon' | head -1 | sed 's/^/after:/'`, env());
  };

  it('ignores text frames that are not JSON or not objects, and keeps showing the terminal', async () => {
    script = (socket) => {
      for (const frame of ['not json', 'null', '42', '[1,2]', '{"type":"nonsense"}']) socket.send(frame);
      socket.send(Buffer.from('still-here'), { binary: true });
      setTimeout(() => socket.send(JSON.stringify({ type: 'exit', code: 3, signal: null })), 200);
    };
    const t = attach();
    await t.waitFor(/lap-exit:3\b/);
    await t.waitFor('after:icanon');
    expect(t.text).toContain('still-here');
    expect(t.text).not.toMatch(/unexpected error|SyntaxError/);
  });

  it.each([
    ['a code that is not a number', { type: 'exit', code: 'abc', signal: null }, 1],
    ['a code out of range', { type: 'exit', code: 1e9, signal: null }, 1],
    ['an unknown signal', { type: 'exit', code: null, signal: 'SIGNOPE' }, 1],
    ['a known signal', { type: 'exit', code: null, signal: 'SIGTERM' }, 143],
  ])('an exit message with %s gives a shell exit status', async (_what, exit, status) => {
    script = (socket) => socket.send(JSON.stringify(exit));
    const t = attach();
    await t.waitFor(new RegExp(`lap-exit:${status}\\b`));
    await t.waitFor('after:icanon');
    expect(t.text).not.toMatch(/unexpected error|TypeError/);
  });

  it('lap send prints only text deltas that are text, and an error without a message still reads as one', async () => {
    turn = [
      { type: 'message.delta', data: { turn: 't1', text: { not: 'text' } } },
      { type: 'message.delta', data: { turn: 't1', text: 'hello' } },
      { type: 'message.delta' } as never,
      { type: 'turn.finished', data: { turn: 't1', text: 'hello' } },
    ];
    expect(await runLap(['send', SESSION.id, 'hi'], env())).toEqual({ code: 0, stdout: 'hello\n', stderr: '' });
    turn = [{ type: 'error', data: { turn: 't2', message: { nested: true } } }];
    const failed = await runLap(['send', SESSION.id, 'hi'], env());
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^lap: the harness reported an error: no message\n  hint: lap logs ses_0123456789abcdef\n$/);
  });

  it("an error message is printed with its control characters escaped (it cannot set the reader's clipboard)", async () => {
    turn = [{ type: 'error', data: { turn: 't3', message: '\x1b]52;c;ZXZpbA==\x07done' } }];
    const failed = await runLap(['send', SESSION.id, 'hi'], env());
    expect(failed.stderr).toContain('lap: the harness reported an error: \\x1b]52;c;ZXZpbA==\\x07done\n');
    expect(failed.stderr).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  });
});
