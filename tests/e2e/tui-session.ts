// What the TUI harness e2e tests share: a gateway on the local runtime whose vault maps the provider's
// model host to the fake model server, an agent whose model key is a vaulted credential for that host,
// and helpers to drive the session's terminal and to look inside the sandbox.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installHarness } from '../../scripts/harness-install.ts';
import { TtyViewer } from '../sandbox-agent/tty-client.ts';
import { startFakeModel, type FakeModel } from '../support/fake-model.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { isRoot } from '../support/root.ts';

/** Installing a harness from the registry takes a while the first time (then it is kept). */
export const INSTALL_TIMEOUT_MS = 15 * 60 * 1000;
/** A TUI program's first start in a fresh HOME (cold caches) can take several seconds. */
export const SCREEN_TIMEOUT_MS = 60_000;

export interface TuiCase {
  harness: 'claude-code' | 'codex';
  /** The credential's name: the variable the program reads its key from. */
  credential: string;
  /** The provider's model host, which the vault maps to the fake model. */
  host: string;
  realKey: string;
}

export interface TuiSetup {
  fake: FakeModel;
  gw: TestGateway;
  close(): Promise<void>;
}

export interface SessionEvent {
  seq: number;
  ts: string;
  type: string;
  data: Record<string, any>;
}

export async function startTuiSetup(c: TuiCase): Promise<TuiSetup> {
  await installHarness(c.harness);
  const fake = await startFakeModel();
  const gw = await startTestGateway({ vaultHosts: { [c.host]: `127.0.0.1:${fake.httpsPort}` }, extraCaPem: fake.caPem });
  await gw.json('PUT', '/api/v1/secrets/model_key', { value: c.realKey }, 201);
  await gw.json('POST', '/api/v1/managed_agents/agents', {
    name: c.harness,
    harness: c.harness,
    credentials: [{ name: c.credential, secret: 'model_key', hosts: [c.host] }],
    // Only the model host: nothing else the program might try resolves or leaves the sandbox. The fake
    // listens on loopback, so, like any private upstream, it must be named in allow_private.
    egress_policy: { default: 'deny', allow: [c.host], deny: [], allow_private: [c.host] },
  }, 201);
  return {
    fake,
    gw,
    close: async () => {
      await gw.close();
      await fake.close();
    },
  };
}

export function attach(gw: TestGateway, sessionId: string): Promise<TtyViewer> {
  const url = `${gw.url.replace('http', 'ws')}/api/v1/managed_agents/sessions/${sessionId}/tty`;
  return TtyViewer.connect(url, { headers: { authorization: `Bearer ${gw.key}` } });
}

/** Waits until the viewer's rendered screen shows `text` (TUIs redraw, so the raw stream may split it). */
export async function waitForScreen(viewer: TtyViewer, text: string): Promise<void> {
  await viewer.waitFor(async () => (await viewer.screenLines()).join('\n').includes(text), `${JSON.stringify(text)} on the screen`, SCREEN_TIMEOUT_MS);
}

export async function sessionEvents(gw: TestGateway, sessionId: string): Promise<SessionEvent[]> {
  return (await gw.json('GET', `/api/v1/managed_agents/sessions/${sessionId}/events`, undefined, 200)).data;
}

/** The harness's pid as the sandbox sees it (its own PID namespace), from the harness.started event. */
export async function harnessPid(gw: TestGateway, sessionId: string): Promise<number> {
  const started = (await sessionEvents(gw, sessionId)).filter((e) => e.type === 'harness.started');
  const pid = started.at(-1)?.data.pid;
  if (typeof pid !== 'number') throw new Error(`no harness.started event with a pid in session ${sessionId}`);
  return pid;
}

/** `cat /proc/<pid>/environ` run inside the sandbox through the session's exec API, as a map. */
export async function environInSandbox(gw: TestGateway, sessionId: string, pid: number): Promise<Record<string, string>> {
  const response = await gw.call('POST', `/api/v1/managed_agents/sessions/${sessionId}/exec`, { argv: ['cat', `/proc/${pid}/environ`] });
  const frames = (await response.text()).split('\n').filter(Boolean).map((line) => JSON.parse(line));
  const exit = frames.at(-1);
  const text = (type: string) => frames.filter((f) => f.type === type).map((f) => Buffer.from(f.data, 'base64').toString()).join('');
  if (exit?.code !== 0) throw new Error(`cat /proc/${pid}/environ failed: ${JSON.stringify(exit)} ${text('stderr')}`);
  return Object.fromEntries(text('stdout').split('\0').filter(Boolean).map((entry) => {
    const eq = entry.indexOf('=');
    return [entry.slice(0, eq), entry.slice(eq + 1)];
  }));
}

/** The audit trail's requests (vault.request events) to `host` and `path`, once at least `count` are there. */
export async function requestsAudited(gw: TestGateway, sessionId: string, target: { host: string; path: string }, count: number): Promise<SessionEvent[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const audit: SessionEvent[] = (await gw.json('GET', `/api/v1/managed_agents/sessions/${sessionId}/audit`, undefined, 200)).data;
    const requests = audit.filter((e) => e.type === 'vault.request' && e.data.host === target.host && e.data.path === target.path);
    if (requests.length >= count || Date.now() > deadline) return requests;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Claim-to-ready from the session's own event timestamps: the agent's first claim phase started →
 * harness.started (the program is running) → the session is ready; plus, measured by the test, the
 * moment its first screen was up.
 */
export function claimTimings(events: SessionEvent[], screenUpAt: number): Record<string, number> {
  const at = (predicate: (e: SessionEvent) => boolean) => {
    const event = events.find(predicate);
    if (!event) throw new Error('an expected session event is missing');
    return Date.parse(event.ts);
  };
  const claim = at((e) => e.type === 'phase' && e.data.phase === 'workspace' && e.data.status === 'started');
  return {
    claimToHarnessStartedMs: at((e) => e.type === 'harness.started') - claim,
    claimToReadyMs: at((e) => e.type === 'session.status' && e.data.status === 'ready') - claim,
    claimToFirstScreenMs: screenUpAt - claim,
  };
}

export interface TuiProof extends TuiCase {
  /** The model API path the program calls (the audit must list each call). */
  modelPath: string;
  /** The stub's look: the vault mints it in the provider's key format. */
  stubPattern: RegExp;
  /** Text on the program's first screen: it is ready for input. */
  readyText: string;
  /** Variables the program's environment must hold (the CA variable it reads, quiet switches). */
  expectEnv: Record<string, RegExp>;
}

/**
 * Issue 6, proofs 1, 2 and 4 for one TUI harness: a prompt typed through the gateway's TTY WebSocket
 * gets the fake model's reply on the screen; the fake saw the real key; the program's environment,
 * read inside the sandbox, holds only the stub; the audit lists each model call, allowed, with the
 * credential's name; no session event holds the key.
 */
export function proveTuiHarness(p: TuiProof): void {
  const reply = 'Hello from the fake model, via the vault';
  describe.runIf(isRoot)(`${p.harness} in a local-runtime session`, () => {
    let setup: TuiSetup;
    beforeAll(async () => {
      setup = await startTuiSetup(p);
    }, INSTALL_TIMEOUT_MS);
    afterAll(async () => {
      await setup?.close();
    });

    it("shows the fake model's reply to a typed prompt; the key is swapped on the wire and audited", async () => {
      const { gw, fake } = setup;
      fake.script(() => ({ text: reply }));
      const session = await gw.json('POST', `/api/v1/managed_agents/agents/${p.harness}/session?wait=true`, { title: 'say hello' }, 201);
      expect(session.status, session.failure_reason).toBe('ready');
      const viewer = await attach(gw, session.id);
      await waitForScreen(viewer, p.readyText);
      const screenUpAt = Date.now();
      viewer.type('Say hello');
      await waitForScreen(viewer, 'Say hello');
      viewer.type('\r');
      await waitForScreen(viewer, reply);
      await viewer.close();

      expect(fake.keysSeen()).toContain(p.realKey);
      const environ = await environInSandbox(gw, session.id, await harnessPid(gw, session.id));
      expect(environ[p.credential]).toMatch(p.stubPattern);
      expect(environ[p.credential]).not.toBe(p.realKey);
      expect(Object.values(environ).join('\n')).not.toContain(p.realKey);
      for (const [name, pattern] of Object.entries(p.expectEnv)) expect(environ[name], name).toMatch(pattern);

      const modelCalls = fake.requests.filter((r) => r.path.split('?')[0] === p.modelPath);
      expect(modelCalls.length).toBeGreaterThan(0);
      const audited = await requestsAudited(gw, session.id, { host: p.host, path: p.modelPath }, modelCalls.length);
      expect(audited.length).toBe(modelCalls.length);
      for (const event of audited) expect(event.data).toMatchObject({ credentials: [p.credential], decision: 'allow', status: 200 });
      expect(JSON.stringify(await sessionEvents(gw, session.id))).not.toContain(p.realKey);

      console.log(`${p.harness} timings`, claimTimings(await sessionEvents(gw, session.id), screenUpAt));
      await gw.json('DELETE', `/api/v1/managed_agents/sessions/${session.id}`, undefined, 200);
    });
  });
}
