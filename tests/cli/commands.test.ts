// lap's data commands against a real gateway with the local runtime (issue 5, Proof 1): login through
// a real PTY (the key never echoed; the config file 0600), every --json output parsed and compared
// with the API's own data, exec's exit code, prefixes, and errors as one line with a hint and a code.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HARNESS_PACKAGES } from '../../scripts/harness-install.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { LapTerminal, runLap } from '../support/lap.ts';
import { isRoot, warnIfSkipped } from '../support/root.ts';

warnIfSkipped('lap commands (local runtime)');
const MANAGED = '/api/v1/managed_agents';

/** A loopback port that nothing listens on (it was just free). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.runIf(isRoot)('lap commands', () => {
  let gw: TestGateway;
  let home: string;
  let sessionId: string;

  beforeAll(async () => {
    gw = await startTestGateway({ warmPool: 'shell=1' });
    await gw.json('POST', `${MANAGED}/agents`, { name: 'sh', harness: 'shell' }, 201);
    sessionId = (await gw.json('POST', `${MANAGED}/agents/sh/session?wait=true`, {}, 201)).id;
    home = mkdtempSync(join(tmpdir(), 'lap-cli-home-'));
  });
  afterAll(async () => {
    await gw?.close();
    rmSync(home, { recursive: true, force: true });
  });

  const baseEnv = () => ({ PATH: process.env.PATH!, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), TERM: 'xterm-256color' });
  const env = () => ({ ...baseEnv(), LAP_URL: gw.url, LAP_API_KEY: gw.key });
  const lap = (args: string[], input?: string) => runLap(args, env(), input);
  const lapJson = async (args: string[]) => {
    const result = await lap([...args, '--json']);
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout);
  };
  /** lap prints what the API said while it ran: live records may change (activity, new events) between calls. */
  const expectLapShowsApi = async (args: string[], fromApi: () => Promise<unknown>) => {
    const before = await fromApi();
    const printed = await lapJson(args);
    expect([before, await fromApi()]).toContainEqual(printed);
  };

  it('runs on Node 24, the version the project pins', async () => {
    const version = await lapJson(['version']);
    expect(version.node).toMatch(/^v24\./);
    expect(version.lap).toBe(JSON.parse(readFileSync(new URL('../../cli/package.json', import.meta.url), 'utf8')).version);
  });

  it('login asks for the URL and a hidden key, checks them, and saves a 0600 config', async () => {
    const t = LapTerminal.start('LAP login --profile work', baseEnv());
    await t.waitFor('Server URL');
    t.type(`${gw.url}\r`);
    await t.waitFor('API key (hidden)');
    t.type(`${gw.key}\r`);
    expect(await t.exitCode()).toBe(0);
    expect(t.text).not.toContain(gw.key);
    const file = join(home, 'config', 'lap', 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'config', 'lap')).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ current: 'work', profiles: { work: { url: gw.url, api_key: gw.key } } });
    const fromProfile = await runLap(['ls', '--json'], baseEnv());
    expect(fromProfile.code, fromProfile.stderr).toBe(0);
  });

  it('login refuses a wrong key and an unreachable server, saying what went wrong', async () => {
    const wrongKey = await runLap(['login', '--url', gw.url, '--profile', 'bad'], baseEnv(), 'lap_wrong_key\n');
    expect(wrongKey.code).toBe(3);
    expect(wrongKey.stderr).toMatch(/refused the API key[\s\S]*hint: /);
    const closedPort = await freePort();
    const nobody = await runLap(['login', '--url', `http://127.0.0.1:${closedPort}`, '--profile', 'bad'], baseEnv(), `${gw.key}\n`);
    expect(nobody.code).toBe(255);
    expect(nobody.stderr).toMatch(new RegExp(`cannot reach http://127\\.0\\.0\\.1:${closedPort}: ECONNREFUSED[\\s\\S]*hint: is the gateway running`));
    // Refused by fetch itself, before any connection: nothing listens there, nothing is dialled.
    const blockedPort = await runLap(['login', '--url', 'http://127.0.0.1:6000', '--profile', 'bad'], baseEnv(), `${gw.key}\n`);
    expect(blockedPort.code).toBe(255);
    expect(blockedPort.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:6000: fetch refuses that port[\s\S]*hint: run the gateway on another port/);
    const file = join(home, 'config', 'lap', 'config.json');
    expect(existsSync(file) ? readFileSync(file, 'utf8') : '').not.toContain('"bad"');
  });

  it('ls, agents, secrets, logs and vault print the API data with --json', async () => {
    const readySessions = async () => (await gw.json('GET', `${MANAGED}/sessions`)).data.filter((s: { status: string }) => s.status === 'ready');
    await expectLapShowsApi(['ls'], readySessions);
    expect(await lapJson(['agents'])).toEqual((await gw.json('GET', `${MANAGED}/agents`)).data);
    expect(await lapJson(['agents', 'show', 'sh'])).toEqual(await gw.json('GET', `${MANAGED}/agents/sh`));

    const set = await lap(['secrets', 'set', 'DEPLOY_KEY', '--json'], 'the-secret-value\n');
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout + set.stderr).not.toContain('the-secret-value');
    expect(await lapJson(['secrets', 'ls'])).toEqual((await gw.json('GET', '/api/v1/secrets')).data);

    await expectLapShowsApi(['logs', sessionId], async () => (await gw.json('GET', `${MANAGED}/sessions/${sessionId}/events`)).data);
    await expectLapShowsApi(['vault', sessionId], async () => (await gw.json('GET', `${MANAGED}/sessions/${sessionId}/audit`)).data);
  });

  it('agents create from flags and rm; ls and rm by a unique id prefix', async () => {
    const created = await lapJson(['agents', 'create', '--name', 'tmp-agent', '--harness', 'shell', '--env', 'GREETING=hi']);
    expect(created).toMatchObject({ name: 'tmp-agent', harness: 'shell', env_vars: { GREETING: 'hi' } });
    expect(await lapJson(['agents', 'rm', 'tmp-agent'])).toEqual(created);
    expect((await gw.call('GET', `${MANAGED}/agents/tmp-agent`)).status).toBe(404);

    const doomed = (await gw.json('POST', `${MANAGED}/agents/sh/session?wait=true`, {}, 201)).id as string;
    const text = await lap(['ls']);
    expect(text.stdout).toMatch(new RegExp(`^ID +AGENT +HARNESS +STATUS +AGE +ACTIVE\\n[\\s\\S]*${doomed} +sh +shell +ready`));
    const removed = await lapJson(['rm', doomed.slice(0, 12)]);
    expect(removed).toEqual([await gw.json('GET', `${MANAGED}/sessions/${doomed}`)]);
    expect(removed[0].status).toBe('dead');
  });

  it('exec streams the remote output and exits with the remote exit code', async () => {
    const ok = await lap(['exec', sessionId, '--', 'sh', '-c', 'cat; echo to-stderr >&2'], 'piped input\n');
    expect(ok).toEqual({ code: 0, stdout: 'piped input\n', stderr: 'to-stderr\n' });
    const failed = await lap(['exec', sessionId, '--', 'sh', '-c', 'exit 42']);
    expect(failed.code).toBe(42);
    const missing = await lap(['exec', sessionId, '--', 'no-such-program']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain('command not found');
  });

  it('exec: Ctrl-C stops lap and the remote command with it', async () => {
    const t = LapTerminal.start(`exec LAP exec ${sessionId} -- sh -c 'echo started; exec sleep 4242'`, env());
    const sleepers = async () => (await lap(['exec', sessionId, '--', 'sh', '-c', 'ps -eo args | grep -c "^sleep 4242" || true'])).stdout.trim();
    await t.waitFor('started');
    expect(await sleepers()).toBe('1');
    t.type('\x03');
    await t.exitCode();
    let left = '';
    for (const deadline = Date.now() + 5_000; Date.now() < deadline && left !== '0'; await new Promise((r) => setTimeout(r, 100))) left = await sleepers();
    expect(left, 'sleep processes left in the sandbox').toBe('0');
  });

  it('lap vault and lap logs print what the sandbox sent with its control characters escaped', async () => {
    // A Host header carrying C1 CSI (0x9b) and an ESC-free colour sequence: HTTP allows obs-text bytes in header values.
    const send = `printf 'GET /x HTTP/1.1\\r\\nHost: evil\\23331mred\\r\\nConnection: close\\r\\n\\r\\n' > /dev/tcp/api.github.com/80`;
    expect((await lap(['exec', sessionId, '--', 'bash', '-c', send])).code).toBe(0);
    let printed = '';
    for (const deadline = Date.now() + 10_000; !printed.includes('31mred') && Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
      printed = (await lap(['vault', sessionId])).stdout;
    }
    expect(printed).toContain('evil\\x9b31mred');
    expect(printed).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect((await lap(['logs', sessionId])).stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  });

  it('secrets rm removes a secret (the API then answers 404); lap harness ls tells installed from missing', async () => {
    expect((await lap(['secrets', 'set', 'DOOMED'], 'value\n')).code).toBe(0);
    expect((await gw.call('GET', '/api/v1/secrets/DOOMED')).status).toBe(200);
    const removed = await lap(['secrets', 'rm', 'DOOMED']);
    expect(removed.code, removed.stderr).toBe(0);
    expect((await gw.call('GET', '/api/v1/secrets/DOOMED')).status).toBe(404);
    expect((await lap(['secrets', 'rm', 'DOOMED'])).code).toBe(4);

    // codex counts as installed when its pinned package.json and its program are in place.
    const dir = join(home, 'harnesses');
    const codex = join(dir, 'codex', 'node_modules');
    mkdirSync(join(codex, '@openai', 'codex'), { recursive: true });
    mkdirSync(join(codex, '.bin'));
    writeFileSync(join(codex, '.bin', 'codex'), '');
    writeFileSync(join(codex, '@openai', 'codex', 'package.json'), JSON.stringify({ version: HARNESS_PACKAGES.codex!.version }));
    const listed = await lapJson(['harness', 'ls', '--dir', dir]);
    expect(listed.map((h: { name: string; installed: boolean }) => [h.name, h.installed])).toEqual(Object.keys(HARNESS_PACKAGES).map((name) => [name, name === 'codex']));
    expect((await lap(['harness', 'ls', '--dir', dir])).stdout).toContain('claude-code       @anthropic-ai/claude-code@');
    const unknown = await lap(['harness', 'install', 'nope']);
    expect(unknown).toEqual({ code: 2, stdout: '', stderr: `lap: unknown harness nope\n  hint: installable: ${Object.keys(HARNESS_PACKAGES).join(', ')}, all\n` });
  });

  it('errors are one line with a hint and a documented exit code', async () => {
    const unknownSession = await lap(['attach', 'ses_doesnotexist']);
    expect(unknownSession.code).toBe(4);
    expect(unknownSession.stderr).toMatch(/^lap: no session matches ses_doesnotexist\n  hint: lap ls/);
    const usage = await lap(['exec', sessionId]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^lap: no command given\n  hint: lap exec <session> -- <cmd...>\n$/);
    const loggedOut = await runLap(['ls'], { ...baseEnv(), XDG_CONFIG_HOME: join(home, 'empty') });
    expect(loggedOut.code).toBe(3);
    expect(loggedOut.stderr).toContain('hint: run `lap login`');
    const badAgent = await lap(['agents', 'create', '--name', 'x y', '--harness', 'shell']);
    expect(badAgent.code).toBe(1);
    expect(badAgent.stderr).toMatch(/^lap: .*name.*\n  hint: fix the value named above/);
    const taken = await lap(['agents', 'create', '--name', 'sh', '--harness', 'shell']);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/^lap: an agent named "sh" already exists\n  hint: the message above says what is in the way/);
    const noFile = await lap(['agents', 'create', '-f', join(home, 'no-such-agent.json')]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/^lap: cannot read .*no-such-agent\.json: ENOENT.*\n  hint: check the path/);
    const toTerminal = await lap(['send', sessionId, 'hello']);
    expect(toTerminal.code).toBe(1);
    expect(toTerminal.stderr).toMatch(/^lap: harness shell has no message API; talk to it through its terminal\n  hint: this session is a terminal: `lap attach <session>`/);
  });

  it('prints a completion script for bash that knows the commands', async () => {
    const script = await lap(['completion', 'bash']);
    expect(script.code).toBe(0);
    expect(script.stdout).toContain('complete -o default -F _lap lap');
    expect(script.stdout).toMatch(/"agents"\) words="ls create show rm/);
  });
});
