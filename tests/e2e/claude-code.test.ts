// Issue 6, proof 1 and 4 for claude-code: the real `claude` TUI in a local-runtime session. Its model
// key is a vaulted credential; the vault maps api.anthropic.com to the fake model server. A prompt typed
// through the gateway's TTY WebSocket gets the fake model's reply on the screen; the fake saw the real
// key, the program's environment (read inside the sandbox) holds only the stub, and the audit trail
// names the credential on each model request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, warnIfSkipped } from '../support/root.ts';
import { attach, claimTimings, environInSandbox, harnessPid, INSTALL_TIMEOUT_MS, requestsAudited, sessionEvents, startTuiSetup, type TuiSetup, waitForScreen } from './tui-session.ts';

warnIfSkipped('claude-code end to end (local runtime)');
const HOST = 'api.anthropic.com';
const REAL_KEY = 'sk-ant-api03-RealKeyValue0123456789abcdefABCDEFghijkl';
const REPLY = 'Hello from the fake model, via the vault';

describe.runIf(isRoot)('claude-code in a local-runtime session', () => {
  let setup: TuiSetup;

  beforeAll(async () => {
    setup = await startTuiSetup({ harness: 'claude-code', credential: 'ANTHROPIC_API_KEY', host: HOST, realKey: REAL_KEY });
  }, INSTALL_TIMEOUT_MS);
  afterAll(async () => {
    await setup?.close();
  });

  it("shows the fake model's reply to a typed prompt; the key is swapped on the wire and audited", async () => {
    const { gw, fake } = setup;
    fake.script(() => ({ text: REPLY }));
    const session = await gw.json('POST', '/api/v1/managed_agents/agents/claude-code/session?wait=true', { title: 'say hello' }, 201);
    expect(session.status, session.failure_reason).toBe('ready');
    const viewer = await attach(gw, session.id);
    await waitForScreen(viewer, 'bypass permissions on');
    const screenUpAt = Date.now();
    viewer.type('Say hello');
    await waitForScreen(viewer, 'Say hello');
    viewer.type('\r');
    await waitForScreen(viewer, REPLY);
    await viewer.close();

    expect(fake.keysSeen()).toContain(REAL_KEY);
    const pid = await harnessPid(gw, session.id);
    const environ = await environInSandbox(gw, session.id, pid);
    expect(environ.ANTHROPIC_API_KEY).toMatch(/^sk-ant-/);
    expect(environ.ANTHROPIC_API_KEY).not.toBe(REAL_KEY);
    expect(Object.values(environ).join('\n')).not.toContain(REAL_KEY);
    expect(environ.NODE_EXTRA_CA_CERTS).toBeTruthy();
    expect(environ.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC).toBe('1');

    const modelCalls = fake.requests.filter((r) => r.path.split('?')[0] === '/v1/messages');
    expect(modelCalls.length).toBeGreaterThan(0);
    const audited = await requestsAudited(gw, session.id, { host: HOST, path: '/v1/messages' }, modelCalls.length);
    expect(audited.length).toBe(modelCalls.length);
    for (const event of audited) expect(event.data.credentials).toEqual(['ANTHROPIC_API_KEY']);
    expect(JSON.stringify(await sessionEvents(gw, session.id))).not.toContain(REAL_KEY);

    console.log('claude-code timings', claimTimings(await sessionEvents(gw, session.id), screenUpAt));
    await gw.json('DELETE', `/api/v1/managed_agents/sessions/${session.id}`, undefined, 200);
  });
});
