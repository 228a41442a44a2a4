// Shared proof for the message harnesses (issue 6, proof 3 and 4): a local-runtime session whose model
// key is a vaulted credential and whose model host (api.anthropic.com) the vault maps to the fake
// model server. A message goes through the REST API; the reply and the normalized events come back,
// including one tool call the fake model asks for (write a file) that really lands in the workspace.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { installHarness, isHarnessInstalled } from '../../scripts/harness-install.ts';
import { DEFAULT_HARNESS_DIR } from '../../sandbox-agent/harnesses/installed.ts';
import { readSse } from '../../gateway/sessions/sse-reader.ts';
import { replyWithToolCallOnce, startFakeModel, type FakeModel, type Script } from '../support/fake-model.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { runLap } from '../support/lap.ts';

export const REAL_KEY = 'sk-ant-api03-RealAnthropicKey0123456789abcdefABCDEF';
const FILE = 'hello.txt';
const FILE_CONTENT = 'written by the harness\n';
const FINAL_TEXT = `Done: I wrote ${FILE}.`;
const MANAGED = '/api/v1/managed_agents';

export interface MessageHarnessCase {
  harness: 'opencode' | 'claude-agent-sdk';
  /** The harness's file-writing tool, as offered to the model. */
  writeTool: RegExp;
  /** That tool's input for an absolute path. */
  writeInput(path: string, content: string): unknown;
}

interface TurnEvent {
  type: string;
  data: Record<string, any>;
}

export function proveMessageHarness(spec: MessageHarnessCase): void {
  let model: FakeModel;
  let gw: TestGateway;
  let workspace = '';
  const workspaceHome = mkdtempSync(join(tmpdir(), 'lap-send-home-'));
  const toolScript = (): Script => replyWithToolCallOnce(spec.writeTool, () => spec.writeInput(`${workspace}/${FILE}`, FILE_CONTENT), FINAL_TEXT);

  beforeAll(async () => {
    // A harness is a large download: installed once into the harness directory, then reused.
    if (!isHarnessInstalled(spec.harness, DEFAULT_HARNESS_DIR)) await installHarness(spec.harness, DEFAULT_HARNESS_DIR);
    model = await startFakeModel();
    gw = await startTestGateway({ vaultHosts: { 'api.anthropic.com': `127.0.0.1:${model.httpsPort}` }, extraCaPem: model.caPem });
    await gw.json('PUT', '/api/v1/secrets/anthropic', { value: REAL_KEY }, 201);
    // The fake listens on loopback: like any private upstream, it must be named in allow_private.
    const egress_policy = { default: 'allow', allow: [], deny: [], allow_private: ['api.anthropic.com'] };
    await gw.json('POST', `${MANAGED}/agents`, { name: spec.harness, harness: spec.harness, credentials: [{ name: 'ANTHROPIC_API_KEY', secret: 'anthropic' }], egress_policy }, 201);
  }, 15 * 60 * 1000);
  afterAll(async () => {
    await gw?.close();
    await model?.close();
    rmSync(workspaceHome, { recursive: true, force: true });
  });

  const exec = async (id: string, argv: string[]) => {
    const frames = (await (await gw.call('POST', `${MANAGED}/sessions/${id}/exec`, { argv })).text()).trim().split('\n').map((l) => JSON.parse(l));
    return frames.filter((f) => f.type === 'stdout').map((f) => Buffer.from(f.data, 'base64').toString()).join('');
  };
  const streamMessage = async (id: string, content: string, onEvent: (e: TurnEvent) => void = () => {}) => {
    const response = await fetch(`${gw.url}${MANAGED}/sessions/${id}/message`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ content }),
      signal: AbortSignal.timeout(180_000),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const events: TurnEvent[] = [];
    for await (const message of readSse(response.body!)) {
      const event = JSON.parse(message.data) as TurnEvent;
      expect(message.event).toBe(event.type);
      events.push(event);
      onEvent(event);
    }
    return events;
  };
  const newSession = async () => {
    const session = await gw.json('POST', `${MANAGED}/agents/${spec.harness}/session?wait=true`, {}, 201);
    expect(session.status, session.failure_reason).toBe('ready');
    return session as { id: string };
  };

  it('answers a message with the reply and normalized events, runs the tool call in the workspace, and keeps the key in the vault', async () => {
    const session = await newSession();
    workspace = (await exec(session.id, ['pwd'])).trim();
    model.script(toolScript());
    const events = await streamMessage(session.id, `Please write ${FILE}.`);

    const types = events.map((e) => e.type);
    expect(types[0]).toBe('message.user');
    expect(types[1]).toBe('turn.started');
    expect(types.at(-1)).toBe('turn.finished');
    const started = events.find((e) => e.type === 'tool.started');
    const finished = events.find((e) => e.type === 'tool.finished');
    expect(started?.data.name).toMatch(spec.writeTool);
    expect(finished?.data).toMatchObject({ id: started?.data.id, name: started?.data.name });
    expect(finished?.data.error).toBeUndefined();
    expect(types.indexOf('tool.started')).toBeLessThan(types.indexOf('tool.finished'));
    const deltas = events.filter((e) => e.type === 'message.delta').map((e) => e.data.text).join('');
    expect(deltas).toContain(FINAL_TEXT);
    const last = events.at(-1)!;
    expect(last.data.text).toBe(FINAL_TEXT);
    expect(last.data.usage.input_tokens).toBeGreaterThan(0);
    expect(last.data.usage.output_tokens).toBeGreaterThan(0);
    expect(new Set(events.map((e) => e.data.turn)).size).toBe(1);

    // The tool really ran in the sandbox's workspace.
    expect(await exec(session.id, ['cat', FILE])).toBe(FILE_CONTENT);

    // The fake model saw the real key and only it; the harness's environment holds only the stub.
    const modelCalls = model.requests.filter((r) => r.api === 'anthropic');
    expect(modelCalls.length).toBeGreaterThanOrEqual(2);
    expect(model.keysSeen()).toEqual([REAL_KEY]);
    const log = await gw.json('GET', `${MANAGED}/sessions/${session.id}/events`);
    const pid = log.data.findLast((e: TurnEvent) => e.type === 'harness.started').data.pid;
    const environ = (await exec(session.id, ['cat', `/proc/${pid}/environ`])).split('\0');
    const stub = environ.find((v) => v.startsWith('ANTHROPIC_API_KEY='))?.slice('ANTHROPIC_API_KEY='.length);
    expect(stub).toMatch(/^sk-ant-/);
    expect(stub).not.toBe(REAL_KEY);
    expect(environ.join('\n')).not.toContain(REAL_KEY);

    // The audit names the credential on every model request.
    const audit = await waitFor(async () => {
      const entries = (await gw.json('GET', `${MANAGED}/sessions/${session.id}/audit`)).data.filter((e: TurnEvent) => e.data.host === 'api.anthropic.com' && /\/messages$/.test(e.data.path));
      return entries.length >= modelCalls.length ? entries : undefined;
    });
    for (const entry of audit) expect(entry.data).toMatchObject({ decision: 'allow', credentials: ['ANTHROPIC_API_KEY'] });
    // Nothing but model traffic left the sandbox (no update checks, catalogues, telemetry).
    const hosts = (await gw.json('GET', `${MANAGED}/sessions/${session.id}/audit`)).data.map((e: TurnEvent) => e.data.host);
    expect([...new Set(hosts)]).toEqual(['api.anthropic.com']);

    // The same events are in the session's event log, the user's message included, without the key.
    const stored = (await gw.json('GET', `${MANAGED}/sessions/${session.id}/events`)).data as TurnEvent[];
    expect(stored.find((e) => e.type === 'message.user')?.data.text).toBe(`Please write ${FILE}.`);
    expect(stored.filter((e) => e.type === 'turn.finished').map((e) => e.data.text)).toEqual([FINAL_TEXT]);
    expect(JSON.stringify(stored)).not.toContain(REAL_KEY);
  });

  it('answers JSON without streaming, refuses a second turn while one runs, aborts it, and keeps the history after the sandbox is gone', async () => {
    const session = await newSession();
    model.script(() => ({ text: 'Plain answer.' }));
    const reply = await gw.json('POST', `${MANAGED}/sessions/${session.id}/message`, { content: 'Say something.' }, 200);
    expect(reply.message).toMatchObject({ role: 'assistant', text: 'Plain answer.' });
    expect(reply.message.usage.output_tokens).toBeGreaterThan(0);
    expect(reply.events.map((e: TurnEvent) => e.type)).toEqual(expect.arrayContaining(['message.user', 'turn.started', 'message.delta', 'turn.finished']));

    // A model that never answers: the turn runs until it is aborted.
    let release = () => {};
    const hanging = new Promise<void>((resolve) => (release = resolve));
    model.script(async () => {
      await hanging;
      return { text: 'too late' };
    });
    let turnStarted = () => {};
    const startedSeen = new Promise<void>((resolve) => (turnStarted = resolve));
    const streamed = streamMessage(session.id, 'Take your time.', (e) => e.type === 'turn.started' && turnStarted());
    await startedSeen;
    const second = await gw.call('POST', `${MANAGED}/sessions/${session.id}/message`, { content: 'me too' });
    expect(second.status).toBe(409);
    expect(await second.text()).toMatch(/still running/);
    const aborted = await gw.json('POST', `${MANAGED}/sessions/${session.id}/abort`, undefined, 200);
    expect(aborted.aborted).toBe(true);
    const events = await streamed;
    release();
    expect(events.at(-1)).toMatchObject({ type: 'error', data: { aborted: true } });
    expect((await gw.json('POST', `${MANAGED}/sessions/${session.id}/abort`, undefined, 200)).aborted).toBe(false);

    // The conversation goes on after an abort.
    model.script(() => ({ text: 'Back again.' }));
    const after = await gw.json('POST', `${MANAGED}/sessions/${session.id}/message`, { content: 'Still there?' }, 200);
    expect(after.message?.text, JSON.stringify(after.error)).toBe('Back again.');

    await gw.json('DELETE', `${MANAGED}/sessions/${session.id}`, undefined, 200);
    const kept = (await gw.json('GET', `${MANAGED}/sessions/${session.id}/events`)).data as TurnEvent[];
    expect(kept.filter((e) => e.type === 'message.user').map((e) => e.data.text)).toEqual(['Say something.', 'Take your time.', 'Still there?']);
    expect(kept.filter((e) => e.type === 'turn.finished').map((e) => e.data.text)).toEqual(['Plain answer.', 'Back again.']);
  });

  it('lap send and lap chat stream the reply; lap send --json prints the normalized events', async () => {
    const { id } = await newSession();
    model.script(() => ({ text: 'Hello from the fake model, through lap.' }));
    const env = { PATH: process.env.PATH!, HOME: workspaceHome, LAP_URL: gw.url, LAP_API_KEY: gw.key };
    const sent = await runLap(['send', id, 'Say', 'hello'], env);
    expect(sent, sent.stderr).toMatchObject({ code: 0, stdout: 'Hello from the fake model, through lap.\n' });
    const json = await runLap(['send', id, 'Again', '--json'], env);
    const events = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as TurnEvent);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['message.user', 'turn.started', 'message.delta']));
    expect(events.at(-1)).toMatchObject({ type: 'turn.finished', data: { text: 'Hello from the fake model, through lap.' } });
    // Piped lines all arrive at once: each one is a turn, in order, until the empty line.
    model.script((req) => ({ text: req.lastUserText.includes('Say more') ? 'Second.' : req.lastUserText.includes('Say hello') ? 'First.' : 'Other.' }));
    const chat = await runLap(['chat', id], env, 'Say hello\nSay more\n\nnot sent\n');
    expect(chat.code, chat.stderr).toBe(0);
    expect(chat.stdout).toBe('First.\nSecond.\n');
    // Input that ends at once (a closed stdin) ends the chat cleanly, having sent nothing.
    const empty = await runLap(['chat', id], env, '');
    expect(empty, empty.stderr).toMatchObject({ code: 0, stdout: '' });
    await gw.json('DELETE', `${MANAGED}/sessions/${id}`, undefined, 200);
  });

  it('refuses messages to a session whose harness has no message API', async () => {
    const shell = await gw.json('POST', `${MANAGED}/agents`, { name: `${spec.harness}-shell`, harness: 'shell' }, 201);
    const session = await gw.json('POST', `${MANAGED}/agents/${shell.id}/session?wait=true`, {}, 201);
    const response = await gw.call('POST', `${MANAGED}/sessions/${session.id}/message`, { content: 'hi' });
    expect(response.status).toBe(409);
    expect((await response.json()).error.code).toBe('not_a_message_harness');
    const abort = await gw.call('POST', `${MANAGED}/sessions/${session.id}/abort`);
    expect(abort.status).toBe(409);
    expect((await abort.json()).error).toMatchObject({ code: 'not_a_message_harness', message: expect.stringContaining('no message API') });
  });
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 200));
  }
}

