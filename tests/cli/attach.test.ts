// `lap attach` driven like a person would (issue 5, Proof 1): the real lap binary in a real PTY
// (node-pty) against a real gateway with the local runtime and a shell session. Typing, window size,
// the ~. detach and a re-attach to the same screen, Ctrl-D ending the remote shell with its status,
// the terminal put back afterwards, and a cut connection that lap recovers from.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { LapTerminal } from '../support/lap.ts';
import { isRoot, warnIfSkipped } from '../support/root.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

warnIfSkipped('lap attach (local runtime)');

describe.runIf(isRoot)('lap attach in a real terminal', () => {
  let gw: TestGateway;
  let home: string;
  let proxy: TcpProxy;
  const terminals: LapTerminal[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({ warmPool: 'shell=1' });
    await gw.json('POST', '/api/v1/managed_agents/agents', { name: 'sh', harness: 'shell' }, 201);
    const { hostname, port } = new URL(gw.url);
    proxy = await startTcpProxy({ host: hostname, port: Number(port) });
    home = mkdtempSync(join(tmpdir(), 'lap-cli-home-'));
  });
  afterAll(async () => {
    for (const t of terminals) t.kill();
    await proxy?.close();
    await gw?.close();
    rmSync(home, { recursive: true, force: true });
  });

  const env = (url = gw.url) => ({ PATH: process.env.PATH!, HOME: home, TERM: 'xterm-256color', LAP_URL: url, LAP_API_KEY: gw.key });
  const start = (command: string, url?: string, size?: { cols: number; rows: number }) => {
    const t = LapTerminal.start(command, env(url), size);
    terminals.push(t);
    return t;
  };
  const newSession = async () => (await gw.json('POST', '/api/v1/managed_agents/agents/sh/session?wait=true', {}, 201)).id as string;
  const status = async (id: string) => (await gw.json('GET', `/api/v1/managed_agents/sessions/${id}`)).status as string;

  it('runs typed commands, follows the window size, detaches with ~. and shows the same screen on re-attach', async () => {
    const id = await newSession();
    const first = start(`LAP attach ${id}`, undefined, { cols: 100, rows: 30 });
    await first.waitFor(/[$#] $/m);
    first.type('echo marker-$((6*7))\r');
    await first.waitFor('marker-42');
    first.type('stty size\r');
    await first.waitFor('30 100');
    first.pty.resize(132, 43);
    await new Promise((r) => setTimeout(r, 300));
    first.type('stty size\r');
    await first.waitFor('43 132');

    first.type('\r~.');
    expect(await first.exitCode()).toBe(0);
    expect(first.text).toMatch(/detached; session .* keeps running/);
    expect(await status(id)).toBe('ready');

    const again = start(`LAP attach ${id.slice(0, 10)}`, undefined, { cols: 132, rows: 43 });
    await again.waitFor('marker-42');
    again.type('echo back-$((1+1))\r');
    await again.waitFor('back-2');
    again.type('\r~.');
    expect(await again.exitCode()).toBe(0);
  });

  it('passes Ctrl-D to the remote shell, exits with its status and leaves the terminal as it was', async () => {
    const id = await newSession();
    const t = start(`stty -a | grep -o -- '-icanon\\|icanon' | head -1 | sed 's/^/before:/'; LAP attach ${id}; echo "lap-exit:$?"; stty -a | grep -o -- '-icanon\\|icanon' | head -1 | sed 's/^/after:/'`);
    await t.waitFor(/[$#] $/m);
    t.type('(exit 7)\r');
    await t.waitFor(/\(exit 7\)[\s\S]*[$#] $/);
    t.type('\x04');
    await t.waitFor(/after:\S+/);
    expect(t.text).toMatch(/lap-exit:7\b/);
    expect(t.text).toMatch(/before:icanon[\s\S]*after:icanon/);
  });

  it('lap <agent> --new shows the phases while it starts a session, lap <agent> finds it again, lap alone asks', async () => {
    const created = start('LAP sh --new');
    await created.waitFor(/ses_\w+: (sandbox|credentials|workspace|harness)/);
    await created.waitFor(/[$#] $/m);
    created.type('\r~.');
    expect(await created.exitCode()).toBe(0);
    const id = /session (ses_\w+) keeps running/.exec(created.text)?.[1];
    expect(id).toBeDefined();

    const again = start('LAP sh');
    await again.waitFor(/[$#] $/m);
    again.type('\r~.');
    expect(await again.exitCode()).toBe(0);
    const newest = (await gw.json('GET', '/api/v1/managed_agents/sessions?status=ready&limit=1')).data[0].id;
    expect(again.text).toContain(`session ${newest} keeps running`);

    const picked = start('LAP');
    await picked.waitFor(/1\) sh {2}\(shell\)[\s\S]*number \[1-1\]/);
    picked.type('1\r');
    await picked.waitFor(/[$#] $/m);
    picked.type('\r~.');
    expect(await picked.exitCode()).toBe(0);
  });

  it('puts the terminal back (mode, screen, cursor) when lap is killed with SIGTERM while attached', async () => {
    const id = await newSession();
    const t = start(`LAP attach ${id}; echo "lap-exit:$?"; stty -a | grep -o -- '-icanon\\|icanon' | head -1 | sed 's/^/after:/'`);
    await t.waitFor(/[$#] $/m);
    t.type("printf '\\033[?1049h\\033[?25l'; echo alt-screen-on\r");
    await t.waitFor(/^alt-screen-on$/m);
    const mark = t.raw.length;
    const lapPid = Number(execFileSync('pgrep', ['-P', String(t.pty.pid)]).toString().trim());
    expect(readFileSync(`/proc/${lapPid}/cmdline`, 'utf8')).toContain('lap.mjs');
    process.kill(lapPid, 'SIGTERM');
    await t.waitFor(/after:\S+/);
    expect(t.text).toMatch(/lap-exit:143\b/);
    expect(t.text).toMatch(/after:icanon/);
    const afterKill = t.raw.slice(mark);
    expect(afterKill).toContain('\x1b[?1049l');
    expect(afterKill).toContain('\x1b[?25h');
  });

  it('escape help with ~?, a doubled ~~ sends one ~', async () => {
    const id = await newSession();
    const t = start(`LAP attach ${id}`);
    await t.waitFor(/[$#] $/m);
    t.type('\r~?');
    await t.waitFor('~.  detach');
    t.type('echo ~~mid-line\r');
    await t.waitFor(/^~~mid-line$/m);
    const mark = t.raw.length;
    t.type('~~start');
    const typed = await t.waitFor('start', mark);
    expect(typed).toBe('~start');
    t.type('\x03\r~.');
    expect(await t.exitCode()).toBe(0);
  });

  it('keeps what is typed before the connection is open, as ssh does', async () => {
    const id = await newSession();
    const t = start(`LAP attach ${id}`);
    t.type('echo typed-$((3*3))\r');
    await t.waitFor(/^typed-9$/m);
    t.type('\r~.');
    expect(await t.exitCode()).toBe(0);
  });

  it('reconnects after the connection is cut, says so while it waits, and the session carries on', async () => {
    const id = await newSession();
    const t = start(`LAP attach ${id}`, proxy.url);
    await t.waitFor(/[$#] $/m);
    t.type('echo before-cut\r');
    await t.waitFor('before-cut');
    const mark = t.raw.length;
    expect(proxy.cutAll()).toBeGreaterThan(0);
    await t.waitFor(/connection lost .* reconnecting/, mark);
    await new Promise((r) => setTimeout(r, 1500));
    t.type('echo after-$((2+3))\r');
    await t.waitFor('after-5', mark);
    t.type('\r~.');
    expect(await t.exitCode()).toBe(0);
  });
});
