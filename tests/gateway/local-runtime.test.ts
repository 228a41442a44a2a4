// The local runtime (DESIGN.md §2) with real namespaces, veths, iptables, vaults and agents: what a
// sandbox can see and reach, what create, destroy, probe and reapExcept leave on the host, and that
// sandboxes outlive the process that created them.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalRuntime } from '../../gateway/runtime/local/index.ts';
import type { Runtime, SandboxHandle } from '../../gateway/runtime/types.ts';
import type { ExecFrame } from '../../sandbox-agent/protocol.ts';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.ts';
import { isRoot, warnIfSkipped } from '../support/root.ts';
import { setPolicy } from '../support/vault-client.ts';
import { REPO_ROOT } from '../../vault/host/access.ts';

/** The checkout stays visible inside (the agent runs from it), also when it lies under /tmp. */
const isCheckoutPath = (path: string) => path === REPO_ROOT || REPO_ROOT.startsWith(`${path}/`) || path.startsWith(`${REPO_ROOT}/`);
const withoutCheckout = (paths: string[]) => paths.filter((p) => !isCheckoutPath(p) || p === '/tmp');

const run = promisify(execFile);
const RUNTIME_INDEX = new URL('../../gateway/runtime/local/index.ts', import.meta.url).pathname;
const UPSTREAM_HOST = 'api.example.test';

warnIfSkipped('local runtime (tests/gateway/local-runtime.test.ts)');

const newId = () => `sb${randomBytes(5).toString('hex')}`;

interface ExecOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** POST /v1/exec on the sandbox's agent, the way the gateway talks to it. */
async function exec(handle: SandboxHandle, argv: string[], env: Record<string, string> = {}): Promise<ExecOutput> {
  const response = await fetch(`${handle.agentUrl}/v1/exec`, {
    method: 'POST',
    headers: { authorization: `Bearer ${handle.agentToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ argv, env, timeoutMs: 20_000 }),
  });
  if (response.status !== 200) throw new Error(`POST /v1/exec: ${response.status} ${await response.text()}`);
  const out: ExecOutput = { code: null, stdout: '', stderr: '' };
  for (const line of (await response.text()).split('\n').filter(Boolean)) {
    const frame = JSON.parse(line) as ExecFrame;
    if (frame.type === 'exit') out.code = frame.code;
    else out[frame.type] += Buffer.from(frame.data, 'base64').toString('utf8');
  }
  return out;
}

const sh = (handle: SandboxHandle, script: string, env?: Record<string, string>) => exec(handle, ['sh', '-c', script], env);

const detail = (handle: SandboxHandle) =>
  handle.detail as { dir: string; netns: string; hostInterface: string; hostAddress: string; sandboxAddress: string; pids: Record<string, { pid: number }> };

/**
 * Everything on the host that belongs to these sandboxes: netns, veth, processes (by the recorded and
 * netns pids, and by command lines naming the sandbox folder), mounts, folders, /etc/netns entries.
 */
async function hostTraces(handles: SandboxHandle[], extraPids: number[] = []): Promise<string[]> {
  const [netns, links, ps] = await Promise.all([run('ip', ['netns', 'list']), run('ip', ['-o', 'link']), run('ps', ['-eo', 'pid,args'])]);
  const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  const traces: string[] = [];
  for (const handle of handles) {
    const d = detail(handle);
    const pids = new Set([...Object.values(d.pids).map((p) => p.pid), ...extraPids].map(String));
    traces.push(...netns.stdout.split('\n').filter((l) => l.split(' ')[0] === d.netns).map((l) => `netns ${l}`));
    traces.push(...links.stdout.split('\n').filter((l) => l.includes(`${d.hostInterface}@`) || l.includes(`${d.hostInterface}:`)).map((l) => `link ${l}`));
    traces.push(...ps.stdout.split('\n').filter((l) => l.includes(d.dir) || pids.has(l.trim().split(' ')[0]!)).map((l) => `process ${l}`));
    traces.push(...mountinfo.split('\n').filter((l) => l.includes(d.netns) || l.includes(d.dir)).map((l) => `mount ${l}`));
    if (existsSync(d.dir)) traces.push(`folder ${d.dir}`);
    if (existsSync(`/etc/netns/${d.netns}`)) traces.push(`/etc/netns/${d.netns}`);
  }
  return traces;
}

async function netnsPids(handle: SandboxHandle): Promise<number[]> {
  const { stdout } = await run('ip', ['netns', 'pids', detail(handle).netns]);
  return stdout.split(/\s+/).filter(Boolean).map(Number);
}

async function expectRejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(() => undefined, (err: Error) => err);
  if (!outcome) throw new Error('expected the promise to reject');
  return outcome;
}

describe('local runtime config', () => {
  it('names every bad field in one error', () => {
    expect(() => createLocalRuntime({ dataDir: '/var/lib/lap-x', vethPool: '10.214.0.1/16', agentPort: 0, vault: { hosts: { a: 'nope' } } })).toThrow(
      /agentPort: must be an integer port.*vault\.hosts: .*expected 'ip'.*vethPool: .*host bits set/,
    );
  });
});

describe.runIf(isRoot)('local runtime', () => {
  let root: string;
  let dataDir: string;
  let upstream: FakeUpstream;
  let runtime: Runtime;
  let a: SandboxHandle;
  let b: SandboxHandle;

  beforeAll(async () => {
    root = mkdtempSync('/run/lap-runtime-test-'); // not under /tmp: the sandbox's /tmp must look empty
    dataDir = join(root, 'data');
    upstream = await startFakeUpstream();
    const caFile = join(root, 'upstream-ca.pem');
    writeFileSync(caFile, upstream.caPem);
    runtime = createLocalRuntime({ dataDir, vault: { hosts: { [UPSTREAM_HOST]: `127.0.0.1:${upstream.httpsPort}` }, extraCaFiles: [caFile] } });
    await runtime.preflight();
    [a, b] = await Promise.all([runtime.create({ id: newId() }), runtime.create({ id: newId() })]);
  });

  afterAll(async () => {
    await runtime?.reapExcept(new Set());
    await upstream?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('returns a handle whose agent and vault answer and whose CA the sandbox can read', async () => {
    expect(await runtime.probe(a)).toEqual({ alive: true });
    expect(a.caPem).toContain('-----BEGIN CERTIFICATE-----');
    const ca = await exec(a, ['cat', a.paths.caFile]);
    expect(ca.stdout).toBe(a.caPem);
    expect(detail(a).hostInterface).toMatch(/^lapv\d+$/);
    expect(a.agentUrl).toBe(`http://${detail(a).sandboxAddress}:7070`);
  });

  it('runs the agent as lap-sandbox with no capabilities and no_new_privs', async () => {
    const { stdout: uid } = await run('id', ['-u', 'lap-sandbox']);
    expect((await exec(a, ['id', '-u'])).stdout.trim()).toBe(uid.trim());
    const status = (await exec(a, ['cat', '/proc/self/status'])).stdout;
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) expect(status).toMatch(new RegExp(`${set}:\\s+0{16}\\n`));
    expect(status).toMatch(/NoNewPrivs:\s+1\n/);
  });

  it('gives the sandbox its own PID namespace: only its own processes are in /proc', async () => {
    const ps = await sh(a, 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done');
    const lines = ps.stdout.split('\n').filter(Boolean);
    const isAgent = (l: string) => l.includes('--token-file') && l.includes(detail(a).dir);
    expect(lines.some(isAgent)).toBe(true);
    expect(lines.every((l) => l.includes('lap-sandbox-init') || isAgent(l) || l.startsWith('sh -c') || l.startsWith('tr '))).toBe(true);
    const pids = (await exec(a, ['ls', '/proc'])).stdout.split('\n').filter((n) => /^\d+$/.test(n));
    expect(pids).toContain('1');
    expect(pids).not.toContain(String(detail(a).pids.vault!.pid));
  });

  it('hides the data dir: the sandbox sees only its own box, not the store nor other sandboxes', async () => {
    writeFileSync(join(dataDir, 'store.db'), 'secret store');
    const own = detail(a).dir;
    const view = await sh(a, `ls -A ${dataDir}; echo --; ls -A ${dataDir}/sandboxes; echo --; ls -A ${own}; echo --; ls -A ${own}/box`);
    expect(view.stdout.split('--\n').map((part) => part.trim().split('\n').filter(Boolean))).toEqual([
      ['sandboxes'],
      [a.id],
      ['box'],
      ['ca.pem', 'workspace'], // the agent token is gone: the agent deleted it after reading
    ]);
    expect((await exec(a, ['cat', join(dataDir, 'store.db')])).code).not.toBe(0);
    expect((await exec(a, ['ls', detail(b).dir])).code).not.toBe(0);
    expect(existsSync(join(dataDir, 'store.db'))).toBe(true); // still there on the host
  });

  it('has a private, empty /tmp (and /dev/shm) of its own', async () => {
    const entries = (await exec(a, ['ls', '-A', '/tmp'])).stdout.split('\n').filter(Boolean);
    expect(withoutCheckout(entries.map((e) => `/tmp/${e}`))).toEqual([]);
    const marker = `lap-test-${randomBytes(4).toString('hex')}`;
    expect((await sh(a, `echo hi > /tmp/${marker} && echo hi > /dev/shm/${marker} && ls /tmp /dev/shm`)).stdout).toContain(marker);
    expect((await sh(b, `ls -A /tmp /dev/shm`)).stdout).not.toContain(marker);
    expect(existsSync(`/tmp/${marker}`) || existsSync(`/dev/shm/${marker}`)).toBe(false);
  });

  it('points the resolver at the vault, and curl by name reaches the upstream through the vault', async () => {
    expect((await exec(a, ['cat', '/etc/resolv.conf'])).stdout).toBe(`nameserver ${detail(a).hostAddress}\n`);
    await setPolicy({ controlUrl: a.vaultUrl, controlToken: a.vaultToken }, { default: 'allow', allowPrivate: [UPSTREAM_HOST] });
    const curl = await exec(a, ['curl', '-sS', '--cacert', a.paths.caFile, `https://${UPSTREAM_HOST}/user`, '-H', 'Authorization: Bearer not-a-secret']);
    expect(curl.stderr).toBe('');
    expect(JSON.parse(curl.stdout)).toMatchObject({ login: 'octocat', seen_token: 'not-a-secret' });
    expect(upstream.received.at(-1)?.headers.host ?? upstream.received.at(-1)?.headers[':authority']).toContain(UPSTREAM_HOST);
  });

  it('runs a claimed harness under a PTY from its own devpts, where no other sandbox sees it', async () => {
    const claim = await fetch(`${b.agentUrl}/v1/claim`, {
      method: 'POST',
      headers: { authorization: `Bearer ${b.agentToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ session: 'ses_0123456789abcdef', harness: 'shell', env: {} }),
    });
    expect(claim.status, await claim.text()).toBe(200);
    const ready = await fetch(`${b.agentUrl}/readyz`, { headers: { authorization: `Bearer ${b.agentToken}` } });
    expect(ready.status).toBe(200);
    expect((await exec(b, ['ls', '/dev/pts'])).stdout.split('\n')).toContain('0');
    expect((await exec(a, ['ls', '/dev/pts'])).stdout.split('\n').filter(Boolean)).toEqual(['ptmx']);
  });

  it("keeps sandboxes apart: one cannot reach the other's agent or vault", async () => {
    const other = detail(b);
    const targets = [`http://${other.sandboxAddress}:7070/healthz`, `https://${other.hostAddress}:15443/`, `http://${other.hostAddress}:15080/`];
    for (const url of targets) {
      const curl = await exec(a, ['curl', '-sS', '-k', '-m', '2', '-o', '/dev/null', '-w', '%{http_code}', url]);
      expect(curl.code, url).not.toBe(0);
      expect(curl.stdout, url).toBe('000');
    }
    // The check can fail: the host reaches b's agent at the same address.
    expect((await fetch(`${b.agentUrl}/healthz`, { headers: { authorization: `Bearer ${b.agentToken}` } })).status).toBe(200);
  });

  it('destroy leaves nothing on the host, and is idempotent', async () => {
    const handle = await runtime.create({ id: newId() });
    const pids = await netnsPids(handle);
    const alive = await hostTraces([handle], pids);
    for (const kind of ['netns', 'link', 'process', 'mount', 'folder']) expect(alive.some((t) => t.startsWith(kind)), kind).toBe(true);
    await runtime.destroy(handle);
    expect(await hostTraces([handle], pids)).toEqual([]);
    await runtime.destroy(handle);
    expect(await runtime.probe(handle)).toMatchObject({ alive: false, part: 'sandbox' });
  });

  it('probe notices a dead vault and a dead agent; destroy still cleans up the half-dead sandbox', async () => {
    const [vaultGone, agentGone] = await Promise.all([runtime.create({ id: newId() }), runtime.create({ id: newId() })]);
    const pids = [...(await netnsPids(vaultGone)), ...(await netnsPids(agentGone))];
    process.kill(detail(vaultGone).pids.vault!.pid, 'SIGKILL');
    process.kill(detail(agentGone).pids.agent!.pid, 'SIGKILL');
    await expect.poll(() => runtime.probe(vaultGone)).toMatchObject({ alive: false, part: 'vault' });
    await expect.poll(() => runtime.probe(agentGone)).toMatchObject({ alive: false, part: 'agent' });
    await Promise.all([runtime.destroy(vaultGone), runtime.destroy(agentGone)]);
    expect(await hostTraces([vaultGone, agentGone], pids)).toEqual([]);
  });

  it('a create that fails part-way leaves nothing behind and says which step failed', async () => {
    const badCa = join(root, 'not-a-ca.pem');
    writeFileSync(badCa, 'not a certificate');
    const brokenVault = createLocalRuntime({ dataDir, vault: { extraCaFiles: [badCa] } });
    const brokenAgent = createLocalRuntime({ dataDir, agentPort: 80 }); // the sandbox user may not bind below 1024
    const ids = [newId(), newId()];
    const [vaultError, agentError] = await Promise.all([
      expectRejection(brokenVault.create({ id: ids[0]! })),
      expectRejection(brokenAgent.create({ id: ids[1]! })),
    ]);
    expect(vaultError.message).toMatch(new RegExp(`create sandbox ${ids[0]}: start the vault failed: .*holds no PEM certificate`, 's'));
    expect(agentError.message).toMatch(new RegExp(`create sandbox ${ids[1]}: start the agent failed: .*cannot listen`, 's'));
    const [psAfter, netnsAfter, linksAfter] = await Promise.all([run('ps', ['-eo', 'args']), run('ip', ['netns', 'list']), run('ip', ['-o', 'link'])]);
    for (const id of ids) {
      expect(existsSync(join(dataDir, 'sandboxes', id))).toBe(false);
      expect(netnsAfter.stdout).not.toContain(id);
      expect(psAfter.stdout).not.toContain(id);
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(id);
    }
    // A veth dies with its netns; a leaked one would name the netns it leads to.
    for (const id of ids) expect(linksAfter.stdout).not.toContain(id);
  });

  it('a sandbox outlives the process that created it; a new runtime on the same data dir probes and destroys it', async () => {
    const id = newId();
    const script = `import { createLocalRuntime } from ${JSON.stringify(RUNTIME_INDEX)};
      const handle = await createLocalRuntime({ dataDir: ${JSON.stringify(dataDir)} }).create({ id: ${JSON.stringify(id)} });
      console.log(JSON.stringify(handle));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 });
    const handle = JSON.parse(stdout) as SandboxHandle;
    const adopter = createLocalRuntime({ dataDir });
    expect(await adopter.probe(handle)).toEqual({ alive: true });
    expect((await exec(handle, ['echo', 'still here'])).stdout).toBe('still here\n');
    const pids = await netnsPids(handle);
    await adopter.destroy(handle);
    // Its processes were orphans: the host's init reaps their zombies, in its own time.
    await expect.poll(() => hostTraces([handle], pids), { timeout: 10_000 }).toEqual([]);
  });

  it('reapExcept removes the unknown sandboxes of its own data dir only', async () => {
    const otherRoot = mkdtempSync('/run/lap-runtime-test-other-');
    const otherRuntime = createLocalRuntime({ dataDir: join(otherRoot, 'data') });
    const [kept, unknown, elsewhere] = await Promise.all([runtime.create({ id: newId() }), runtime.create({ id: newId() }), otherRuntime.create({ id: newId() })]);
    try {
      const removed = await runtime.reapExcept(new Set([a.id, b.id, kept.id]));
      expect(removed).toEqual([unknown.id]);
      expect(await hostTraces([unknown])).toEqual([]);
      expect(await runtime.probe(kept)).toEqual({ alive: true });
      expect(await otherRuntime.probe(elsewhere)).toEqual({ alive: true });
      expect(await runtime.probe(a)).toEqual({ alive: true });
    } finally {
      await Promise.all([runtime.destroy(kept), otherRuntime.destroy(elsewhere)]);
      rmSync(otherRoot, { recursive: true, force: true });
    }
  });

  it('creates 20 sandboxes at once, all working and isolated, and destroys them all', async () => {
    const handles = await Promise.all(Array.from({ length: 20 }, () => runtime.create({ id: newId() })));
    const addresses = new Set(handles.map((h) => detail(h).sandboxAddress));
    expect(addresses.size).toBe(20);
    const probes = await Promise.all(handles.map((h) => runtime.probe(h)));
    expect(probes.every((p) => p.alive)).toBe(true);
    const uids = await Promise.all(handles.map((h) => exec(h, ['id', '-un'])));
    expect(uids.map((u) => u.stdout.trim())).toEqual(handles.map(() => 'lap-sandbox'));
    const neighbour = await exec(handles[0]!, ['curl', '-sS', '-m', '2', `${handles[1]!.agentUrl}/healthz`]);
    expect(neighbour.code).not.toBe(0);
    const pids = (await Promise.all(handles.map(netnsPids))).flat();
    await Promise.all(handles.map((h) => runtime.destroy(h)));
    expect(await hostTraces(handles, pids)).toEqual([]);
  });
});

describe.runIf(isRoot)('local runtime with its data dir under /tmp', () => {
  let root: string;
  let dataDir: string;
  let runtime: Runtime;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'lap-runtime-test-'));
    dataDir = join(root, 'data');
    runtime = createLocalRuntime({ dataDir });
  });
  afterAll(async () => {
    await runtime?.reapExcept(new Set());
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("gives a private /tmp that holds only the path to the sandbox's own box", async () => {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'store.db'), 'secret store');
    const handle = await runtime.create({ id: newId() });
    const found = await exec(handle, ['find', '/tmp', '-maxdepth', '6']);
    const box = join(detail(handle).dir, 'box');
    expect(withoutCheckout(found.stdout.split('\n').filter(Boolean)).sort()).toEqual(
      ['/tmp', root, dataDir, join(dataDir, 'sandboxes'), detail(handle).dir, box, join(box, 'ca.pem'), join(box, 'workspace')].sort(),
    );
    expect((await exec(handle, ['cat', join(dataDir, 'store.db')])).code).not.toBe(0);
    await runtime.destroy(handle);
  });
});
