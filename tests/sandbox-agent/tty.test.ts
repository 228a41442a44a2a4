// The harness's TTY (sandbox-agent/tty/): real programs under a real PTY, viewers over real WebSockets
// on loopback through the agent's upgrade handler. Screens are compared by rendering what a viewer
// received into its own headless terminal and reading the agent's mirror line by line.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventLog } from '../../sandbox-agent/events.ts';
import { createAgentServer } from '../../sandbox-agent/server.ts';
import type { TtyServerMessage } from '../../sandbox-agent/protocol.ts';
import { type AgentState, DEFAULT_LIMITS } from '../../sandbox-agent/state.ts';
import { startTerminal, type Terminal, type TerminalLaunch } from '../../sandbox-agent/tty/terminal.ts';
import { VIEWER_FLOW, type ViewerConnection } from '../../sandbox-agent/tty/viewers.ts';
import { CLOSE_DROPPED } from '../../sandbox-agent/tty/websocket.ts';
import { render, TtyViewer } from './tty-client.ts';

const PROMPT = 'lap$ ';
const TOKEN = randomBytes(32).toString('hex');
const AUTH = { authorization: `Bearer ${TOKEN}` };
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface TtyAgent {
  state: AgentState;
  terminal: Terminal;
  events: EventLog;
  url: string;
  viewer(options?: { record?: boolean }): Promise<TtyViewer>;
}

/** An agent state with a terminal running `launch` (as a claim would leave it), served by the real agent server on loopback. */
async function startTty(launch: Partial<TerminalLaunch> = {}): Promise<TtyAgent> {
  const workspace = mkdtempSync(join(tmpdir(), 'lap-tty-test-'));
  cleanups.push(() => rmSync(workspace, { recursive: true, force: true }));
  const events = new EventLog();
  const terminal = startTerminal(
    { harness: 'shell', file: '/bin/bash', args: ['--norc', '--noprofile', '-i'], env: { PATH: '/usr/bin:/bin', HOME: workspace, PS1: PROMPT, LANG: 'C.UTF-8' }, cwd: workspace, cols: 80, rows: 24, ...launch },
    events,
  );
  cleanups.push(() => terminal.kill('SIGKILL'));
  const state: AgentState = { workspace, events, limits: DEFAULT_LIMITS, claim: null, terminal };
  const server = await listen(state);
  const url = `ws://127.0.0.1:${port(server)}/v1/tty`;
  return {
    state, terminal, events, url,
    viewer: async (options) => {
      const viewer = await TtyViewer.connect(url, { ...options, headers: AUTH });
      cleanups.push(() => viewer.close());
      return viewer;
    },
  };
}

async function listen(state: AgentState): Promise<Server> {
  const server = createAgentServer(state, TOKEN);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => {
    server.close(resolve);
    server.closeAllConnections();
  }));
  return server;
}

function port(server: Server): number {
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('not listening');
  return address.port;
}

function controls(viewer: TtyViewer, type: TtyServerMessage['type']): TtyServerMessage[] {
  return viewer.messages.filter((m) => m.type === type);
}

/** Polls the agent's mirror until the predicate holds on its visible lines. */
async function untilScreen(terminal: Terminal, predicate: (lines: string[]) => boolean, what: string): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const lines = await terminal.visibleText();
    if (predicate(lines)) return lines;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${lines.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('TTY viewers', () => {
  it('sends output to two viewers at once and takes input from either', async () => {
    const agent = await startTty();
    const [a, b] = [await agent.viewer(), await agent.viewer()];
    expect(a.messages[0]).toMatchObject({ type: 'hello', cols: 80, rows: 24, harness: 'shell', running: true });
    expect(b.messages[0]).toMatchObject({ type: 'hello', viewers: 2 });
    a.type('echo from-a-$((6*7))\r');
    await Promise.all([a.waitForText('from-a-42'), b.waitForText('from-a-42')]);
    b.type('echo from-b-$((7*8))\r');
    await Promise.all([a.waitForText('from-b-56'), b.waitForText('from-b-56')]);
    await b.close();
    await a.waitFor(() => agent.terminal.viewerCount === 1, 'the detach');
    const ttyEvents = agent.events.since(0).filter((e) => e.type.startsWith('tty.')).map((e) => [e.type, e.data.viewers]);
    expect(ttyEvents).toEqual([['tty.attached', 1], ['tty.attached', 2], ['tty.detached', 1]]);
    expect(agent.events.since(0).filter((e) => e.type === 'activity').map((e) => e.data.kind).sort()).toEqual(['input', 'output']);
  });

  it('applies the last resize to the PTY, so stty size reports it', async () => {
    const agent = await startTty();
    const [a, b] = [await agent.viewer(), await agent.viewer()];
    a.sendControl({ type: 'resize', cols: 100, rows: 30 });
    b.sendControl({ type: 'resize', cols: 132, rows: 43 });
    await b.waitFor(() => agent.terminal.cols === 132, 'the resize');
    a.type('stty size\r');
    await a.waitForText('43 132');
    expect([agent.terminal.cols, agent.terminal.rows]).toEqual([132, 43]);
    const c = await agent.viewer();
    expect(c.messages[0]).toMatchObject({ type: 'hello', cols: 132, rows: 43 });
  });

  it('answers bad control messages with an error naming the field and keeps the connection', async () => {
    const agent = await startTty();
    const viewer = await agent.viewer();
    const bad: [unknown, RegExp][] = [
      [{ type: 'resize', cols: 0, rows: 24 }, /^cols must be an integer from 1 to 1000, got 0$/],
      [{ type: 'resize', cols: 80, rows: 501 }, /^rows must be an integer from 1 to 500, got 501$/],
      [{ type: 'resize', cols: 80.5, rows: 24 }, /^cols must be an integer/],
      [{ type: 'resize', cols: '80', rows: 24 }, /^cols must be an integer .*got "80"$/],
      [{ type: 'resize', cols: 80 }, /^rows must be an integer .*got undefined$/],
      [{ type: 'scroll', lines: 3 }, /^type: unknown control message type "scroll"/],
      [[1, 2], /must be a JSON object/],
      ['not json', /must be JSON objects/],
    ];
    for (const [message] of bad) viewer.sendControl(message);
    await viewer.waitFor(() => controls(viewer, 'error').length === bad.length, 'one error per bad message');
    const errors = controls(viewer, 'error').map((m) => (m as { message: string }).message);
    bad.forEach(([, expected], i) => expect(errors[i]).toMatch(expected));
    expect([agent.terminal.cols, agent.terminal.rows]).toEqual([80, 24]);
    viewer.type('echo still-$((2+3))\r');
    await viewer.waitForText('still-5');
  });

  it('refuses an upgrade without the token, or with another token', async () => {
    const agent = await startTty();
    const refused: Record<string, string>[] = [{}, { authorization: `Bearer ${randomBytes(32).toString('hex')}` }];
    for (const headers of refused) {
      expect(await rawUpgrade(portOf(agent.url), headers)).toMatch(/^HTTP\/1\.1 401 /);
    }
    expect(agent.terminal.viewerCount).toBe(0);
  });

  it('refuses the upgrade with 409 before a claim', async () => {
    const state: AgentState = { workspace: tmpdir(), events: new EventLog(), limits: DEFAULT_LIMITS, claim: null, terminal: null };
    const server = await listen(state);
    const response = await rawUpgrade(port(server), AUTH);
    expect(response).toMatch(/^HTTP\/1\.1 409 /);
    expect(JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4))).toEqual({ error: { code: 'conflict', message: 'no harness: the sandbox has not been claimed', details: [] } });
  });
});

describe('TTY screen on reattach', () => {
  it('gives a new viewer the exact screen drawn with cursor movement and colours', async () => {
    const agent = await startTty();
    const first = await agent.viewer();
    first.type("clear; printf '\\e[5;10H\\e[31mRED\\e[0m\\e[10;3H\\e[1;44mBOLD-BLUE\\e[0m\\e[2;70Hcorner\\e[12;1H'; echo; echo drawn-$((1+1))\r");
    await first.waitForText('drawn-2');
    await untilScreen(agent.terminal, (lines) => lines.some((l) => l.startsWith(PROMPT)) && lines.some((l) => l.includes('drawn-2')), 'the prompt');
    await first.close();

    const again = await agent.viewer();
    const hello = again.messages[0] as { cols: number; rows: number };
    const { lines, emulator } = await render(again.snapshot!, hello.cols, hello.rows);
    const live = await agent.terminal.visibleText();
    expect(lines).toEqual(live);
    expect(lines[4]!.slice(9, 12)).toBe('RED');
    expect(lines[1]!.slice(69, 75)).toBe('corner');
    const red = emulator.buffer.active.getLine(4)!.getCell(9)!;
    expect([red.isFgPalette(), red.getFgColor()]).toEqual([true, 1]);
    const blue = emulator.buffer.active.getLine(9)!.getCell(2)!;
    expect([blue.isBold() !== 0, blue.isBgPalette(), blue.getBgColor()]).toEqual([true, true, 4]);
    expect([emulator.buffer.active.cursorX, emulator.buffer.active.cursorY]).toEqual([PROMPT.length, live.findLastIndex((l) => l.startsWith(PROMPT))]);
  });

  it('reproduces less on the alternate screen, and the normal screen after it quits', async () => {
    const agent = await startTty();
    const file = join(agent.state.workspace, 'numbers.txt');
    writeFileSync(file, Array.from({ length: 200 }, (_, i) => `\x1b[3${(i % 6) + 1}mline ${String(i + 1).padStart(3, '0')}\x1b[0m tail`).join('\n'));
    const first = await agent.viewer();
    first.type('echo before-less\r');
    await first.waitForText('before-less');
    first.type(`less -R ${file}\r`);
    await untilScreen(agent.terminal, (lines) => lines[0]!.startsWith('line 001') && lines[23]!.includes('numbers.txt'), 'less');
    first.type(' ');
    const paged = await untilScreen(agent.terminal, (lines) => lines[0]!.startsWith('line 024') && lines[23]!.startsWith(':'), 'the second page');
    await first.close();

    const again = await agent.viewer();
    const { lines, emulator } = await render(again.snapshot!, 80, 24);
    expect(lines).toEqual(paged);
    expect(emulator.buffer.active.type).toBe('alternate');
    expect(await again.screenLines()).toEqual(paged);
    const line24 = emulator.buffer.active.getLine(0)!.getCell(0)!;
    expect([line24.isFgPalette(), line24.getFgColor()]).toEqual([true, (23 % 6) + 1]);

    again.type('q');
    const after = await untilScreen(agent.terminal, (l) => l.some((line) => line.includes('before-less')) && l.filter((line) => line.startsWith(PROMPT)).length >= 3, 'the prompt after less');
    await again.waitFor(async () => (await again.screenLines()).join('\n') === after.join('\n'), 'the viewer to show the normal screen');
    expect(again.screen!.buffer.active.type).toBe('normal');
  });
});

describe('TTY bytes and flow control', () => {
  it('passes a 4-byte UTF-8 character split across PTY reads through intact', async () => {
    const agent = await startTty();
    const viewer = await agent.viewer();
    viewer.type("printf 'x\\360\\237'; sleep 0.3; printf '\\230\\200y\\n'\r");
    await viewer.waitForText('x😀y');
    const emoji = Buffer.from('😀');
    expect(emoji).toEqual(Buffer.from([0xf0, 0x9f, 0x98, 0x80]));
    const splitFrame = viewer.frames.findIndex((f) => f.subarray(-3).equals(Buffer.from('x\xf0\x9f', 'latin1')));
    expect(splitFrame).toBeGreaterThanOrEqual(0);
    expect(viewer.frames[splitFrame + 1]!.subarray(0, 3)).toEqual(Buffer.from('\x98\x80y', 'latin1'));
    expect(viewer.text).not.toContain('\ufffd');
    expect((await agent.terminal.visibleText()).some((l) => l.startsWith('x😀y'))).toBe(true);
  });

  it('sends bulk output whole, gathered into frames far larger than a PTY read, and the exit after its last byte', async () => {
    // "ready" says echo is off: typed before that, "go" would be echoed into the output.
    const agent = await startTty({ file: '/bin/sh', args: ['-c', 'stty -echo; printf ready; read go; head -c 3000000 /dev/zero | tr "\\0" "z"; exit 7'] });
    const viewer = await agent.viewer();
    // It may come before the viewer attached (then it is in the screen snapshot) or after.
    await viewer.waitFor(() => `${viewer.snapshot}${viewer.text}`.includes('ready'), 'ready');
    const before = viewer.frames.length;
    viewer.type('go\r');
    await viewer.waitFor(() => controls(viewer, 'exit').length === 1, 'the exit');
    const output = Buffer.concat(viewer.frames.slice(before));
    expect(output.length).toBe(3_000_000);
    expect(output.every((byte) => byte === 0x7a)).toBe(true);
    // Linux hands out at most ~4 KiB per PTY read: 3 MB would be ~730 frames if each read were one.
    expect(viewer.frames.length).toBeLessThan(300);
    expect(controls(viewer, 'exit')).toEqual([{ type: 'exit', code: 7, signal: null }]);
  });

  it('loses no output of a program that exits while a slow viewer holds the PTY paused', async () => {
    const agent = await startTty({ file: '/bin/sh', args: ['-c', 'stty -echo; read go; printf first; sleep 0.5; printf TAIL-$((40+2)); exit 5'] });
    const viewer = await agent.viewer();
    // A viewer whose socket never takes anything: after the first output the PTY pauses for it.
    const stalled: ViewerConnection = { bufferedAmount: 2 * VIEWER_FLOW.highWaterBytes, sendBytes: () => {}, sendMessage: () => {}, drop: () => {} };
    agent.terminal.attach(stalled);
    cleanups.push(() => agent.terminal.detach(stalled));
    viewer.type('go\r');
    await viewer.waitFor(() => agent.terminal.paused, 'the PTY to pause');
    await viewer.waitFor(() => controls(viewer, 'exit').length === 1, 'the exit');
    expect(viewer.text).toContain('firstTAIL-42');
    expect(controls(viewer, 'exit')).toEqual([{ type: 'exit', code: 5, signal: null }]);
  });

  it('keeps memory bounded under yes | head -c 200000000 with a viewer that never reads', { timeout: 300_000 }, async () => {
    const agent = await startTty({ file: '/bin/sh', args: ['-c', 'stty -echo; echo ready; read go; yes | head -c 200000000'] });
    await untilScreen(agent.terminal, (lines) => lines[0] === 'ready', 'the program to be ready');
    const slow = await stalledViewer(portOf(agent.url));
    const fast = await agent.viewer({ record: false });
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    let pausedSeen = false;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
      pausedSeen ||= agent.terminal.paused;
    }, 20);
    cleanups.push(() => clearInterval(sampler));
    fast.type('go\r');
    // The mirror parses `yes` output at about 20 MB/s on one core: give a busy machine room.
    await fast.waitFor(() => controls(fast, 'exit').length === 1, 'the exit', 280_000);
    clearInterval(sampler);

    // `yes` prints "y\n"; the PTY turns each into "y\r\n": 100 M lines, 300 MB, every byte to the fast viewer.
    expect(fast.liveBytes).toBe(300_000_000);
    expect(pausedSeen).toBe(true);
    const detached = agent.events.since(0).filter((e) => e.type === 'tty.detached');
    expect(detached.map((e) => e.data.reason)).toEqual([`read too slowly: more than ${VIEWER_FLOW.highWaterBytes} bytes unread for over ${VIEWER_FLOW.maxStallMs / 1000} s`]);
    expect(await slow.resumeUntilClosed()).toBe(true);
    // Without flow control the stalled viewer alone would hold the whole 300 MB (and xterm.js throws past 50 MB of backlog).
    expect(peak - baseline).toBeLessThan(200 * 1024 * 1024);
    expect(agent.terminal.exitStatus).toEqual({ code: 0, signal: null });
  });

  it('drops a stalled viewer with a dropped message and close code 4008', async () => {
    const agent = await startTty({ file: '/bin/sh', args: ['-c', 'read go; yes | head -c 50000000; sleep 1000'] });
    const viewer = await agent.viewer({ record: false });
    const socket = (viewer.ws as unknown as { _socket: Socket })._socket;
    viewer.type('go\r');
    await viewer.waitFor(() => agent.terminal.paused || viewer.liveBytes > 0, 'output');
    socket.pause();
    await viewer.waitFor(() => agent.events.since(0).some((e) => e.type === 'tty.detached'), 'the drop');
    socket.resume();
    await viewer.waitFor(() => viewer.closeCode !== null, 'the close');
    // The close may arrive as the frame (4008) or, if the grace ran out first, as an abort (1006).
    expect([CLOSE_DROPPED, 1006]).toContain(viewer.closeCode);
    if (viewer.closeCode === CLOSE_DROPPED) expect(controls(viewer, 'dropped')).toEqual([{ type: 'dropped', reason: expect.stringMatching(/^read too slowly/) }]);
    const next = await agent.viewer({ record: false });
    expect(next.messages[0]).toMatchObject({ type: 'hello', running: true, viewers: 1 });
  });
});

describe('TTY exit and restart', () => {
  it('reports an exit code', async () => {
    const agent = await startTty({ file: '/bin/sh', args: ['-c', 'read go; echo bye; exit 3'] });
    const viewer = await agent.viewer();
    viewer.type('go\r');
    await viewer.waitFor(() => controls(viewer, 'exit').length > 0, 'the exit');
    expect(controls(viewer, 'exit')).toEqual([{ type: 'exit', code: 3, signal: null }]);
    expect(viewer.text).toContain('bye');
    expect([agent.terminal.running, agent.terminal.pid, agent.terminal.exitStatus]).toEqual([false, null, { code: 3, signal: null }]);
    expect(agent.events.since(0).find((e) => e.type === 'harness.exited')?.data).toEqual({ harness: 'shell', code: 3, signal: null });
    const late = await agent.viewer();
    expect(late.messages.map((m) => m.type)).toEqual(['hello', 'exit']);
    expect(late.messages[0]).toMatchObject({ running: false });
    expect((await render(late.snapshot!, 80, 24)).lines.some((l) => l.includes('bye'))).toBe(true);
  });

  it('reports a signal', async () => {
    const agent = await startTty({ file: '/bin/sh', args: ['-c', 'read go; kill -TERM $$'] });
    const viewer = await agent.viewer();
    viewer.type('go\r');
    await viewer.waitFor(() => controls(viewer, 'exit').length > 0, 'the exit');
    expect(controls(viewer, 'exit')).toEqual([{ type: 'exit', code: null, signal: 'SIGTERM' }]);
  });

  it('restarts the program with the viewers still attached', async () => {
    const agent = await startTty({ file: '/bin/sh', args: ['-c', 'read line; echo run-$$-got-$line; exit 5'] });
    const viewer = await agent.viewer();
    const firstPid = agent.terminal.pid;
    viewer.type('one\r');
    await viewer.waitForText(`run-${firstPid}-got-one`);
    await viewer.waitFor(() => controls(viewer, 'exit').length === 1, 'the first exit');
    expect(controls(viewer, 'exit')[0]).toEqual({ type: 'exit', code: 5, signal: null });

    agent.terminal.restart();
    expect(agent.terminal.running).toBe(true);
    expect(agent.terminal.pid).not.toBe(firstPid);
    viewer.type('two\r');
    await viewer.waitForText(`run-${agent.terminal.pid}-got-two`);
    const screen = await agent.terminal.visibleText();
    expect(screen.join('\n')).not.toContain('got-one');
    expect(await viewer.screenLines()).toEqual(screen);
    await viewer.waitFor(() => controls(viewer, 'exit').length === 2, 'the second exit');

    agent.terminal.restart();
    const thirdPid = agent.terminal.pid;
    agent.terminal.restart(); // while running: SIGHUP, then the launch again
    await viewer.waitFor(() => controls(viewer, 'exit').length === 3, 'the exit of the hung-up run');
    expect(controls(viewer, 'exit')[2]).toEqual({ type: 'exit', code: null, signal: 'SIGHUP' });
    await viewer.waitFor(() => agent.terminal.running && agent.terminal.pid !== thirdPid, 'the fourth run');
    viewer.type('four\r');
    await viewer.waitForText(`run-${agent.terminal.pid}-got-four`);
    expect(agent.events.since(0).filter((e) => e.type === 'harness.started')).toHaveLength(4);
    expect(viewer.closeCode).toBeNull();
  });
});

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** A WebSocket client that upgrades, reads the response head, then stops reading. */
async function stalledViewer(portNumber: number): Promise<{ resumeUntilClosed(): Promise<boolean> }> {
  const socket = connect(portNumber, '127.0.0.1');
  cleanups.push(() => socket.destroy());
  socket.write(upgradeRequest(AUTH));
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.pause();
  const closed = new Promise<boolean>((resolve) => socket.once('close', () => resolve(true)));
  return {
    resumeUntilClosed: () => {
      socket.resume();
      return closed;
    },
  };
}

function upgradeRequest(headers: Record<string, string>): string {
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return `GET /v1/tty HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
}

async function rawUpgrade(portNumber: number, headers: Record<string, string>): Promise<string> {
  const socket = connect(portNumber, '127.0.0.1');
  socket.write(upgradeRequest(headers));
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
