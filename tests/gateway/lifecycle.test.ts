// Sessions that survive a gateway restart, fail visibly when a part dies, and are reaped when idle
// (issue 4, Proof 3 and 4), on the local runtime with real processes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalRuntime } from '../../gateway/runtime/local/index.ts';
import type { SandboxHandle } from '../../gateway/runtime/types.ts';
import { apiClient, startGatewayProcess, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { isRoot, warnIfSkipped } from '../support/root.ts';
import { TtyViewer } from '../sandbox-agent/tty-client.ts';
import { runLap } from '../support/lap.ts';
import { vaultRefusals } from '../support/vault-refusals.ts';

warnIfSkipped('gateway lifecycle (local runtime)');
const MASTER = `lap_master_${'t'.repeat(43)}`;
/** The bound for noticing a dead part. */
const NOTICE_LIMIT_MS = 5_000;

const ttyUrl = (base: string, id: string) => `${base.replace('http', 'ws')}/api/v1/managed_agents/sessions/${id}/tty`;

describe.runIf(isRoot)('a gateway restart', () => {
  const root = mkdtempSync(join(tmpdir(), 'lap-restart-test-'));
  const dataDir = join(root, 'data');
  afterAll(async () => {
    await createLocalRuntime({ dataDir }).reapExcept(new Set());
    rmSync(root, { recursive: true, force: true });
  });

  it('keeps live sessions ready and attachable, with the same screen and events continuing in sequence', async () => {
    const first = await startGatewayProcess(dataDir, { masterKey: MASTER, warmPool: 'shell=1' });
    const api = apiClient(first.url, MASTER);
    await api.json('POST', '/api/v1/managed_agents/agents', { name: 'sh', harness: 'shell' }, 201);
    const session = await api.json('POST', '/api/v1/managed_agents/agents/sh/session?wait=true', {}, 201);
    expect(session.status, session.failure_reason).toBe('ready');
    const viewer = await TtyViewer.connect(ttyUrl(first.url, session.id), { headers: { authorization: `Bearer ${MASTER}` } });
    viewer.type('echo before-$((40+2))\r');
    await viewer.waitForText('before-42');
    await first.stop();
    await viewer.waitFor(() => viewer.closeCode !== null, 'the viewer to be cut off by the stop');

    const second = await startGatewayProcess(dataDir, { masterKey: MASTER, warmPool: 'shell=1' });
    try {
      const api2 = apiClient(second.url, MASTER);
      expect((await api2.json('GET', `/api/v1/managed_agents/sessions/${session.id}`)).status).toBe('ready');
      const again = await TtyViewer.connect(ttyUrl(second.url, session.id), { headers: { authorization: `Bearer ${MASTER}` } });
      expect(again.snapshot!.toString()).toContain('before-42');
      again.type('echo after-$((50+1))\r');
      await again.waitForText('after-51');
      await again.close();
      let events: { seq: number; type: string }[] = [];
      await waitFor(async () => (events = (await api2.json('GET', `/api/v1/managed_agents/sessions/${session.id}/events`)).data).filter((e: { type: string }) => e.type === 'tty.detached').length >= 2, 'the second detach event');
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.filter((e) => e.type === 'tty.attached')).toHaveLength(2);
      await api2.json('DELETE', `/api/v1/managed_agents/sessions/${session.id}`, undefined, 200);
    } finally {
      await second.stop();
    }
  });
});

describe.runIf(isRoot)('one gateway per data dir', () => {
  const root = mkdtempSync(join(tmpdir(), 'lap-lock-test-'));
  const dataDir = join(root, 'data');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('a second gateway on the same data dir refuses to start, naming the first; a killed one leaves no lock behind', async () => {
    const opts = { masterKey: MASTER, warmPool: 'shell=0' };
    const first = await startGatewayProcess(dataDir, opts);
    try {
      await expect(startGatewayProcess(dataDir, opts)).rejects.toThrow(`another LAP gateway (pid ${first.process.pid}) is running on LAP_DATA_DIR ${dataDir}`);
      expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    } finally {
      await first.stop('SIGKILL');
    }
    const next = await startGatewayProcess(dataDir, opts);
    await next.stop();
  });
});

describe.runIf(isRoot)('a sandbox that makes events without end', () => {
  let gw: TestGateway;
  const LIMIT = 300;
  beforeAll(async () => {
    gw = await startTestGateway({ env: { LAP_MAX_EVENTS_PER_SESSION: String(LIMIT) } });
    await gw.json('POST', '/api/v1/managed_agents/agents', { name: 'sh', harness: 'shell' }, 201);
  });
  afterAll(async () => gw?.close());

  it('fails its session at LAP_MAX_EVENTS_PER_SESSION, keeps the events so far and removes the sandbox', async () => {
    const session = await gw.json('POST', '/api/v1/managed_agents/agents/sh/session?wait=true', {}, 201);
    const sandboxId = gw.gateway.store.sessions.get(session.id)!.sandboxId!;
    void gw.call('POST', `/api/v1/managed_agents/sessions/${session.id}/exec`, { argv: vaultRefusals(2 * LIMIT) }).then((r) => r.text()).catch(() => '');
    const ended = await statusOf(gw, session.id, 30_000);
    expect(ended.status).toBe('failed');
    expect(ended.failure_reason).toBe(`its sandbox sent ${LIMIT} events, the most a session keeps (LAP_MAX_EVENTS_PER_SESSION); the events so far are kept`);
    const stored = (await gw.json('GET', `/api/v1/managed_agents/sessions/${session.id}/events?limit=1000`)).data;
    expect(stored.length).toBeGreaterThanOrEqual(LIMIT);
    expect(stored.length).toBeLessThan(LIMIT + 10);
    expect(stored.at(-1)).toMatchObject({ type: 'session.status', data: { status: 'failed' } });
    await waitFor(() => gw.gateway.store.sandboxes.get(sandboxId) === undefined, 'the sandbox to be removed');
  });
});

describe.runIf(isRoot)('LAP_MAX_SESSIONS', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ env: { LAP_MAX_SESSIONS: '2' } });
    await gw.json('POST', '/api/v1/managed_agents/agents', { name: 'sh', harness: 'shell' }, 201);
  });
  afterAll(async () => gw?.close());

  it('refuses a create past the limit with 429, storing nothing, and takes one again once a session ends', async () => {
    const create = () => gw.call('POST', '/api/v1/managed_agents/agents/sh/session', {});
    const [first, second] = [await create(), await create()];
    expect([first.status, second.status]).toEqual([201, 201]);
    const refused = await create();
    expect(refused.status).toBe(429);
    expect((await refused.json()).error).toEqual({ code: 'too_many_sessions', message: 'this gateway already runs 2 live sessions, its limit (LAP_MAX_SESSIONS); delete one you no longer need, or raise the limit', details: [] });
    expect((await gw.json('GET', '/api/v1/managed_agents/sessions')).data).toHaveLength(2);
    const lap = await runLap(['sh', '--new'], { PATH: process.env.PATH!, HOME: gw.dataDir, LAP_URL: gw.url, LAP_API_KEY: gw.key });
    expect(lap.stderr).toContain('hint: end sessions you no longer need: `lap ls`, then `lap rm <session>`');
    await gw.json('DELETE', `/api/v1/managed_agents/sessions/${(await first.json()).id}`, undefined, 200);
    expect((await create()).status).toBe(201);
  });
});

/** The session once it has left ready (or creating), within `limitMs`. */
async function statusOf(gw: TestGateway, id: string, limitMs: number): Promise<any> {
  let session: any;
  await waitFor(async () => !['ready', 'creating'].includes((session = await gw.json('GET', `/api/v1/managed_agents/sessions/${id}`)).status), `session ${id} to end`, limitMs);
  return session;
}

describe.runIf(isRoot)('failures and idle reaping', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ warmPool: 'shell=2' });
    await gw.json('POST', '/api/v1/managed_agents/agents', { name: 'sh', harness: 'shell' }, 201);
    await gw.json('POST', '/api/v1/managed_agents/agents', { name: 'idle', harness: 'shell', idle_timeout_seconds: 5 }, 201);
  });
  afterAll(async () => gw?.close());

  const start = async (agent = 'sh') => {
    const session = await gw.json('POST', `/api/v1/managed_agents/agents/${agent}/session?wait=true`, {}, 201);
    expect(session.status, session.failure_reason).toBe('ready');
    return session.id as string;
  };
  const handleOf = (id: string) => gw.gateway.store.sandboxes.get(gw.gateway.store.sessions.get(id)!.sandboxId!)!.handle as SandboxHandle;

  it('a killed harness fails the session with its signal, and restart brings it back', async () => {
    const id = await start();
    const viewer = await TtyViewer.connect(ttyUrl(gw.url, id), { headers: { authorization: `Bearer ${gw.key}` } });
    viewer.type('kill -9 $$\r');
    const session = await statusOf(gw, id, NOTICE_LIMIT_MS);
    expect(session.status).toBe('failed');
    expect(session.failure_reason).toContain('SIGKILL');
    await viewer.close();
    expect((await gw.json('POST', `/api/v1/managed_agents/sessions/${id}/restart`, undefined, 200)).status).toBe('ready');
    await gw.call('DELETE', `/api/v1/managed_agents/sessions/${id}`);
  });

  for (const part of ['agent', 'vault'] as const) {
    it(`a killed ${part} fails the session with a reason naming it`, async () => {
      const id = await start();
      const pid = (handleOf(id).detail as { pids: Record<string, { pid: number }> }).pids[part]!.pid;
      process.kill(pid, 'SIGKILL');
      const session = await statusOf(gw, id, NOTICE_LIMIT_MS);
      expect(session.status).toBe('failed');
      expect(session.failure_reason).toContain(part);
    });
  }

  it("a deleted session's record is final: it holds the last activity, and later ticks leave it alone", async () => {
    const id = await start();
    const viewer = await TtyViewer.connect(ttyUrl(gw.url, id), { headers: { authorization: `Bearer ${gw.key}` } });
    const typing = setInterval(() => viewer.type('true\r'), 20);
    await new Promise((r) => setTimeout(r, 300));
    const typedBefore = Date.now();
    const deleted = await gw.json('DELETE', `/api/v1/managed_agents/sessions/${id}`, undefined, 200);
    clearInterval(typing);
    await viewer.close();
    expect(Date.parse(deleted.last_activity_at)).toBeGreaterThanOrEqual(typedBefore - 100);
    await new Promise((r) => setTimeout(r, 1_500)); // three reconciler ticks
    expect(await gw.json('GET', `/api/v1/managed_agents/sessions/${id}`)).toEqual(deleted);
  });

  it('reaps an idle session and spares one with terminal activity', async () => {
    const busy = await start('idle');
    const viewer = await TtyViewer.connect(ttyUrl(gw.url, busy), { headers: { authorization: `Bearer ${gw.key}` } });
    const typing = setInterval(() => viewer.type('true\r'), 500);
    const idle = await start('idle');
    try {
      const reaped = await statusOf(gw, idle, 20_000);
      expect(reaped.status).toBe('dead');
      expect(reaped.failure_reason).toMatch(/idle/);
      expect((await gw.json('GET', `/api/v1/managed_agents/sessions/${busy}`)).status).toBe('ready');
    } finally {
      clearInterval(typing);
      await viewer.close();
    }
  });
});

async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, limitMs = 60_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
