// The claim against the real agent process: phases, validation, the harness's environment, files,
// and a git clone over real HTTPS from a smart-HTTP server with Basic auth on loopback.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { credentialHelperScript } from '../../sandbox-agent/claim/git.ts';
import type { AgentEvent, ClaimRequest } from '../../sandbox-agent/protocol.ts';
import { DEFAULT_LIMITS } from '../../sandbox-agent/state.ts';
import { harnessEnviron, type RunningAgent, startAgent } from '../support/agent.ts';
import { GIT_HOST, type GitHttpServer, startGitHttpServer } from './git-http-server.ts';

const execFileAsync = promisify(execFile);
/** The agent's base, plus PWD, which node-pty sets to the working directory. */
const BASE_ENV_KEYS = ['HOME', 'LANG', 'PATH', 'PWD', 'TERM'];
const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

let agent: RunningAgent;
afterEach(async () => {
  await agent?.close();
});

async function claim(body: unknown, raw = false): Promise<{ status: number; json: Record<string, any> }> {
  const res = await agent.fetch('/v1/claim', { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ? String(body) : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

async function events(): Promise<AgentEvent[]> {
  return ((await (await agent.fetch('/v1/events')).json()) as { events: AgentEvent[] }).events;
}

async function phases(): Promise<string[]> {
  return (await events()).filter((e) => e.type === 'phase').map((e) => `${e.data.phase}:${e.data.status}`);
}

/** The variables a process was started with, from /proc (what it really got, not what we meant to give). */
/** Warm and untouched: no events, empty workspace, nothing beside it but what startAgent made. */
async function expectWarmAndUntouched(): Promise<void> {
  expect((await agent.fetch('/readyz')).status).toBe(503);
  expect(await phases()).toEqual([]);
  expect(readdirSync(agent.workspace)).toEqual([]);
  expect(readdirSync(dirname(agent.workspace))).toEqual(['workspace']);
}

describe('claim', () => {
  it('goes from warm to ready, reporting each phase in order, and places files with their modes', async () => {
    agent = await startAgent();
    const ready = await agent.fetch('/readyz');
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as any).error.message).toMatch(/warm/);

    const { status, json } = await claim({
      session: 'sess-1', harness: 'shell', env: { GREETING: 'hello' }, cols: 100, rows: 30,
      files: [
        { path: 'bin/run.sh', content: b64('#!/bin/sh\necho run\n'), mode: 0o755 },
        { path: 'secret/notes.txt', content: b64('private'), mode: 0o600 },
        { path: 'plain.txt', content: b64(Buffer.from([0, 1, 2, 255])) },
        { path: '/docs/../top.txt', content: b64('top') },
      ],
    });
    expect(status).toBe(200);
    expect(json).toMatchObject({ session: 'sess-1', harness: 'shell', workspace: agent.workspace, home: join(dirname(agent.workspace), 'home') });

    expect(await phases()).toEqual(['workspace:started', 'workspace:done', 'files:started', 'files:done', 'harness:started', 'harness:done']);
    const started = (await events()).find((e) => e.type === 'harness.started');
    expect(started?.data).toEqual({ harness: 'shell', pid: json.pid });

    const readyNow = await agent.fetch('/readyz');
    expect(readyNow.status).toBe(200);
    expect(await readyNow.json()).toEqual({ ready: true, session: 'sess-1', harness: 'shell', pid: json.pid });

    const modeOf = (p: string) => statSync(join(agent.workspace, p)).mode & 0o777;
    expect([modeOf('bin/run.sh'), modeOf('secret/notes.txt'), modeOf('plain.txt')]).toEqual([0o755, 0o600, 0o644]);
    expect(execFileSync(join(agent.workspace, 'bin/run.sh'), { encoding: 'utf8' })).toBe('run\n');
    expect(readFileSync(join(agent.workspace, 'plain.txt'))).toEqual(Buffer.from([0, 1, 2, 255]));
    // As in the files API, '/' is the workspace root.
    expect(readFileSync(join(agent.workspace, 'top.txt'), 'utf8')).toBe('top');
    expect(readFileSync(`/proc/${json.pid}/cmdline`, 'utf8').split('\0')[0]).toMatch(/\/(bash|sh)$/);
    expect(readFileSync(`/proc/${json.pid}/cwd/plain.txt`)).toEqual(Buffer.from([0, 1, 2, 255]));
  });

  it("gives the harness exactly the base env plus the claim's env, and never the agent's token", async () => {
    agent = await startAgent();
    const claimEnv = { ANTHROPIC_API_KEY: 'sk-ant-stub', LAP_MARKER: 'x y=z', PATH: '/opt/tools/bin:/usr/bin:/bin' };
    const { status, json } = await claim({ session: 's', harness: 'shell', env: claimEnv });
    expect(status).toBe(200);
    const env = await harnessEnviron(json.pid);
    expect(Object.keys(env).sort()).toEqual([...new Set([...BASE_ENV_KEYS, ...Object.keys(claimEnv)])].sort());
    expect(env).toMatchObject({ ...claimEnv, HOME: json.home, TERM: 'xterm-256color', LANG: 'C.UTF-8', PWD: agent.workspace });
    for (const file of ['environ', 'cmdline']) expect(readFileSync(`/proc/${json.pid}/${file}`, 'utf8')).not.toContain(agent.token);
    expect(statSync(json.home).isDirectory()).toBe(true);
  });

  it('refuses bad claims with 400 naming the field, changing nothing, and stays claimable', async () => {
    agent = await startAgent();
    const valid = { session: 's', harness: 'shell', env: {} };
    const cases: { name: string; body: unknown; raw?: boolean; field: string; message?: RegExp }[] = [
      { name: 'unknown harness', body: { ...valid, harness: 'nope' }, field: 'harness', message: /^harness: unknown harness nope; known: (.+, )?shell(, .+)?$/ },
      { name: 'malformed JSON', body: '{"session": "s", ', raw: true, field: 'body', message: /not valid JSON/ },
      { name: 'not an object', body: '[1]', raw: true, field: 'body' },
      { name: 'empty session', body: { ...valid, session: '' }, field: 'session' },
      { name: 'bad env key', body: { ...valid, env: { '1BAD': 'x' } }, field: 'env.1BAD' },
      { name: 'env value not a string', body: { ...valid, env: { N: 1 } }, field: 'env.N' },
      { name: 'too many env keys', body: { ...valid, env: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`K${i}`, 'v'])) }, field: 'env', message: /at most 50 keys/ },
      { name: 'env too large', body: { ...valid, env: { BIG: 'x'.repeat(16 * 1024) } }, field: 'env', message: /16384 bytes/ },
      { name: 'HOME set by the claim', body: { ...valid, env: { HOME: '/root' } }, field: 'env.HOME' },
      { name: 'SHELL not executable', body: { ...valid, env: { SHELL: '/nonexistent/sh' } }, field: 'env.SHELL' },
      { name: 'file escaping with ..', body: { ...valid, files: [{ path: '../escape.txt', content: b64('x') }] }, field: 'files.0.path', message: /outside the workspace/ },
      { name: 'escape from the root', body: { ...valid, files: [{ path: '/../etc/lap-escape', content: b64('x') }] }, field: 'files.0.path' },
      { name: 'a directory path', body: { ...valid, files: [{ path: 'dir/', content: b64('x') }] }, field: 'files.0.path' },
      { name: 'content not base64', body: { ...valid, files: [{ path: 'a', content: 'not base64!' }] }, field: 'files.0.content' },
      { name: 'mode not an integer', body: { ...valid, files: [{ path: 'a', content: '', mode: 'rwx' }] }, field: 'files.0.mode' },
      { name: 'cols 0', body: { ...valid, cols: 0 }, field: 'cols' },
      { name: 'rows too large', body: { ...valid, rows: 501 }, field: 'rows' },
      { name: 'repository with credentials', body: { ...valid, workspace: { repository: 'https://u:stub@example.test/r.git' } }, field: 'workspace.repository' },
      { name: 'branch without repository', body: { ...valid, workspace: { branch: 'main' } }, field: 'workspace.branch' },
      { name: 'unknown field', body: { ...valid, harnes: 'shell' }, field: 'harnes' },
    ];
    for (const c of cases) {
      const { status, json } = await claim(c.body, c.raw);
      expect({ name: c.name, status, code: json.error?.code }).toEqual({ name: c.name, status: 400, code: 'invalid_request' });
      expect(json.error.message, c.name).toMatch(new RegExp(`^${c.field.replaceAll('.', '\\.')}: `));
      if (c.message) expect(json.error.message, c.name).toMatch(c.message);
      expect(json.error.details.map((d: { field: string }) => d.field), c.name).toContain(c.field);
    }
    await expectWarmAndUntouched();
    expect((await claim(valid)).status).toBe(200);
  });

  it('refuses a file over the size limit, naming it', async () => {
    agent = await startAgent();
    const { status, json } = await claim({ session: 's', harness: 'shell', env: {}, files: [{ path: 'big.bin', content: b64(Buffer.alloc(DEFAULT_LIMITS.maxFileBytes + 1)) }] });
    expect(status).toBe(400);
    expect(json.error.message).toBe(`files.0.content: the file has ${DEFAULT_LIMITS.maxFileBytes + 1} bytes, more than the limit of ${DEFAULT_LIMITS.maxFileBytes}`);
    await expectWarmAndUntouched();
  });

  it('refuses files through symlinks that lead out, undoing the claim and keeping what was there', async () => {
    agent = await startAgent();
    const outside = mkdtempSync(join(tmpdir(), 'lap-outside-'));
    try {
      symlinkSync(outside, join(agent.workspace, 'link'));
      symlinkSync(join(outside, 'target'), join(agent.workspace, 'file-link'));
      mkdirSync(join(agent.workspace, 'sub'));
      symlinkSync('sub', join(agent.workspace, 'inside'));
      const files = [{ path: 'ok.txt', content: b64('fine') }];
      for (const path of ['link/escape.txt', 'file-link']) {
        const { status, json } = await claim({ session: 's', harness: 'shell', env: {}, files: [...files, { path, content: b64('x') }] });
        expect(status).toBe(400);
        expect(json.error.message).toMatch(/^files\.1\.path: .*leads outside the workspace/);
      }
      expect(readdirSync(outside)).toEqual([]);
      expect(readdirSync(agent.workspace).sort()).toEqual(['file-link', 'inside', 'link', 'sub']);
      expect(existsSync(join(dirname(agent.workspace), 'home'))).toBe(false);
      expect((await phases()).slice(-2)).toEqual(['files:started', 'files:failed']);
      // A link that stays inside is followed, as in the files API.
      expect((await claim({ session: 's2', harness: 'shell', env: {}, files: [...files, { path: 'inside/x.txt', content: b64('x') }] })).status).toBe(200);
      expect(readFileSync(join(agent.workspace, 'sub/x.txt'), 'utf8')).toBe('x');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('answers a second claim, and a concurrent one, with 409 naming the session', async () => {
    agent = await startAgent();
    const bodies = ['a', 'b'].map((session) => ({ session, harness: 'shell', env: {} }));
    const results = await Promise.all(bodies.map((b) => claim(b)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const winner = results.find((r) => r.status === 200)!.json.session;
    const again = await claim({ session: 'c', harness: 'shell', env: {} });
    expect(again).toEqual({ status: 409, json: { error: { code: 'already_claimed', message: `already claimed by session ${winner}`, details: [] } } });
    expect((await phases()).filter((p) => p === 'harness:done')).toHaveLength(1);
  });

  it('restarts the harness on request, and refuses to while warm', async () => {
    agent = await startAgent();
    const warm = await agent.fetch('/v1/harness/restart', { method: 'POST' });
    expect(warm.status).toBe(409);
    const { json } = await claim({ session: 's', harness: 'shell', env: {} });
    const res = await agent.fetch('/v1/harness/restart', { method: 'POST' });
    expect(res.status).toBe(200);
    const restarted = (await res.json()) as { pid: number; running: boolean };
    expect(restarted.running).toBe(true);
    expect(restarted.pid).not.toBe(json.pid);
    const harnessEvents = (await events()).filter((e) => e.type.startsWith('harness.')).map((e) => [e.type, e.data.pid ?? null]);
    expect(harnessEvents).toEqual([['harness.started', json.pid], ['harness.exited', null], ['harness.started', restarted.pid]]);
    expect((await agent.fetch('/readyz')).status).toBe(200);
  });
});

describe('claim with a git repository', () => {
  let git: GitHttpServer;
  beforeAll(async () => {
    git = await startGitHttpServer();
  });
  afterAll(async () => {
    await git?.close();
  });

  const stub = `ghp_${'S'.repeat(36)}`;
  const decoy = `ghp_${'D'.repeat(36)}`;
  const gitClaim = (branch: string, files: ClaimRequest['files'] = []): ClaimRequest => ({
    session: 'git-session', harness: 'shell', env: git.clientEnv, files,
    workspace: { repository: git.repositoryUrl, branch },
    gitCredentials: [{ host: GIT_HOST, stub }, { host: 'other.test', username: 'someone', stub: decoy }],
  });

  it('clones the branch over HTTPS, handing git the stub through the helper, never in a URL', async () => {
    agent = await startAgent();
    git.received.length = 0;
    const { status, json } = await claim(gitClaim('feature', [{ path: 'feature.txt', content: b64('overlaid\n') }]));
    expect(status, JSON.stringify(json)).toBe(200);
    expect(await phases()).toEqual(['workspace:started', 'workspace:done', 'clone:started', 'clone:done', 'files:started', 'files:done', 'harness:started', 'harness:done']);

    const authed = git.received.filter((r) => r.password !== null);
    expect(authed.length).toBeGreaterThan(0);
    expect(authed.every((r) => r.username === 'x-access-token' && r.password === stub)).toBe(true);
    expect(git.received.some((r) => r.url.includes(stub) || r.url.includes(decoy) || r.password === decoy)).toBe(false);

    const inWorkspace = (...args: string[]) => execFileSync('git', ['-C', agent.workspace, ...args], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: json.home } }).trim();
    expect(inWorkspace('rev-parse', '--abbrev-ref', 'HEAD')).toBe('feature');
    expect(inWorkspace('remote', 'get-url', 'origin')).toBe(git.repositoryUrl);
    expect(readFileSync(join(agent.workspace, 'README'), 'utf8')).toBe('on main\n');
    expect(readFileSync(join(agent.workspace, 'feature.txt'), 'utf8')).toBe('overlaid\n');
    expect(readFileSync(join(agent.workspace, '.git/config'), 'utf8')).not.toContain(stub);

    const helper = join(dirname(agent.workspace), '.lap-agent', 'git-credential-lap');
    expect(lstatSync(helper).mode & 0o777).toBe(0o700);
    expect(lstatSync(dirname(helper)).mode & 0o777).toBe(0o700);
  });

  it('lets the harness push later with the same helper, from its own environment', async () => {
    agent = await startAgent();
    const { status, json } = await claim(gitClaim('feature'));
    expect(status).toBe(200);
    const harnessEnv = await harnessEnviron(json.pid);
    // Async: the git server runs in this process, a blocking exec would starve it.
    const asHarness = (...args: string[]) => execFileAsync('git', args, { cwd: agent.workspace, env: harnessEnv, timeout: 30_000 });
    writeFileSync(join(agent.workspace, 'pushed.txt'), 'from the harness\n');
    await asHarness('add', 'pushed.txt');
    await asHarness('-c', 'user.name=h', '-c', 'user.email=h@lap.test', 'commit', '--quiet', '-m', 'pushed by the harness');
    git.received.length = 0;
    await asHarness('push', '--quiet', 'origin', 'feature');
    expect(git.received.some((r) => r.url.includes('git-receive-pack') && r.password === stub)).toBe(true);
    expect(execFileSync('git', ['--git-dir', git.bareRepository, 'log', '-1', '--format=%s', 'feature'], { encoding: 'utf8' }).trim()).toBe('pushed by the harness');
  });

  it('reports a failed clone as a failed phase and an error, then is claimable again', async () => {
    agent = await startAgent();
    const { status, json } = await claim(gitClaim('no-such-branch', [{ path: 'a.txt', content: b64('a') }]));
    expect(status).toBe(502);
    expect(json.error.code).toBe('clone_failed');
    expect(json.error.message).toMatch(/no-such-branch/);
    const failed = (await events()).filter((e) => e.type === 'phase').at(-1);
    expect(failed?.data).toMatchObject({ phase: 'clone', status: 'failed' });
    expect(String(failed?.data.detail)).toMatch(/no-such-branch/);
    expect(await phases()).toEqual(['workspace:started', 'workspace:done', 'clone:started', 'clone:failed']);
    expect((await agent.fetch('/readyz')).status).toBe(503);
    expect(readdirSync(agent.workspace)).toEqual([]);
    expect(readdirSync(dirname(agent.workspace))).toEqual(['workspace']);

    const retry = await claim(gitClaim('main'));
    expect(retry.status).toBe(200);
    expect(readFileSync(join(agent.workspace, 'README'), 'utf8')).toBe('on main\n');
  });
});

describe('the git credential helper script', () => {
  let dir: string;
  let helper: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lap-helper-'));
    helper = join(dir, 'helper');
    writeFileSync(helper, credentialHelperScript([{ host: '*.corp.test', stub: 'wild' }, { host: 'git.corp.test', username: 'bot', stub: 'exact' }]), { mode: 0o700 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const ask = (input: string, action = 'get') => execFileSync('/bin/sh', [helper, action], { input, encoding: 'utf8' });

  it('answers https requests for matching hosts (port stripped, case folded), exact before wildcard', () => {
    expect(ask('protocol=https\nhost=GIT.corp.test:8443\n\n')).toBe('username=bot\npassword=exact\n');
    expect(ask('protocol=https\nhost=other.corp.test\n')).toBe('username=x-access-token\npassword=wild\n');
  });

  it('answers nothing for other hosts, plain http, or other actions', () => {
    expect(ask('protocol=https\nhost=corp.test\n\n')).toBe('');
    expect(ask('protocol=https\nhost=evil.test\n\n')).toBe('');
    expect(ask('protocol=http\nhost=git.corp.test\n\n')).toBe('');
    expect(ask('protocol=https\nhost=git.corp.test\n\n', 'store')).toBe('');
  });
});
