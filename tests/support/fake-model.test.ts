// The fake model server speaks the wire shapes real clients expect: checked here over real HTTPS
// (its test CA, model host names pinned to loopback by a lookup, never DNS) with raw fetch, and with
// the official SDKs (installed from the registry into node_modules/.cache/lap-test-sdks on first run);
// the real harness CLIs in the e2e tests are the final judge.
import type { LookupAddress, LookupOptions } from 'node:dns';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { zstdCompressSync } from 'node:zlib';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_REPLY_TEXT, replyWithToolCallOnce, startFakeModel, type FakeModel, type ModelRequest } from './fake-model.ts';

let model: FakeModel;
let agent: Agent;

type LookupCallback = (err: Error | null, address: string | LookupAddress[], family?: number) => void;

/** Every name goes to loopback: the real api.anthropic.com is never looked up or dialled. */
function loopbackLookup(_host: string, options: LookupOptions, callback: LookupCallback): void {
  if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
}

beforeAll(async () => {
  model = await startFakeModel();
  // HTTP/1.1 unless a test asks for h2 (undici 8 offers h2 by default).
  agent = new Agent({ allowH2: false, connect: { ca: model.caPem, lookup: loopbackLookup } });
});
afterAll(async () => {
  await agent?.close();
  await model?.close();
});
beforeEach(() => {
  model.requests.length = 0;
  model.script(() => ({ text: DEFAULT_REPLY_TEXT }));
});

const base = (host: string) => `https://${host}:${model.httpsPort}`;

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await undiciFetch(url, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
}

interface SseEvent { event: string | undefined; data: any }

/** Waits for a condition the server sets on its own schedule (a socket close), for at most 5 s. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 250 && !condition(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(condition()).toBe(true);
}

function parseSse(text: string): SseEvent[] {
  return text.split('\n\n').filter((block) => block.trim() !== '').map((block) => {
    const event = /^event: (.*)$/m.exec(block)?.[1];
    const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
    return { event, data: data === '[DONE]' ? data : JSON.parse(data) };
  });
}

const anthropicHeaders = { 'x-api-key': 'sk-ant-real-key', 'anthropic-version': '2023-06-01', 'user-agent': 'claude-cli/test' };
const anthropicBody = (extra: object = {}) => ({ model: 'claude-sonnet-5', max_tokens: 64, messages: [{ role: 'user', content: 'Say hello' }], ...extra });
const writeTool = { name: 'Write', description: 'write a file', input_schema: { type: 'object', properties: { file_path: { type: 'string' }, content: { type: 'string' } } } };
const writeInput = (tool: string) => ({ file_path: 'hello.txt', content: `written by ${tool}` });

describe('Anthropic Messages', () => {
  it('streams the reply as message_start, a text block of several deltas, message_delta with usage, message_stop', async () => {
    const res = await post(`${base('api.anthropic.com')}/v1/messages?beta=true`, anthropicBody({ stream: true }), anthropicHeaders);
    expect(res.status).toBe(200);
    expect(res.type).toContain('text/event-stream');
    const events = parseSse(res.text);
    for (const e of events) expect(e.event).toBe(e.data.type);
    const names = [...new Set(events.map((e) => e.event))];
    expect(names).toEqual(['message_start', 'ping', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    const deltas = events.filter((e) => e.event === 'content_block_delta').map((e) => e.data.delta);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.map((d) => d.text).join('')).toBe(DEFAULT_REPLY_TEXT);
    expect(events[0]?.data.message).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-sonnet-5', content: [] });
    const messageDelta = events.find((e) => e.event === 'message_delta')?.data;
    expect(messageDelta.delta.stop_reason).toBe('end_turn');
    expect(messageDelta.usage.output_tokens).toBeGreaterThan(0);
  });

  it('answers stream:false with one message JSON', async () => {
    const res = await post(`${base('api.anthropic.com')}/v1/messages`, anthropicBody(), anthropicHeaders);
    expect(res.status).toBe(200);
    const message = JSON.parse(res.text);
    expect(message).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'end_turn', content: [{ type: 'text', text: DEFAULT_REPLY_TEXT }] });
    expect(message.usage.input_tokens).toBeGreaterThan(0);
  });

  it('asks for a tool once, then answers the tool_result with the final text', async () => {
    const seen: ModelRequest[] = [];
    const flow = replyWithToolCallOnce(/^(write|Write)$/, writeInput, 'File written.');
    model.script((req) => (seen.push(req), flow(req)));
    const first = parseSse((await post(`${base('api.anthropic.com')}/v1/messages`, anthropicBody({ stream: true, tools: [writeTool] }), anthropicHeaders)).text);
    const start = first.find((e) => e.event === 'content_block_start' && e.data.content_block.type === 'tool_use')?.data.content_block;
    expect(start).toMatchObject({ type: 'tool_use', name: 'Write', input: {} });
    expect(start.id).toMatch(/^toolu_/);
    const json = first.filter((e) => e.data.delta?.type === 'input_json_delta').map((e) => e.data.delta.partial_json).join('');
    expect(JSON.parse(json)).toEqual({ file_path: 'hello.txt', content: 'written by Write' });
    expect(first.find((e) => e.event === 'message_delta')?.data.delta.stop_reason).toBe('tool_use');

    const messages = [
      { role: 'user', content: [{ type: 'text', text: 'Write hello.txt' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: start.id, name: 'Write', input: JSON.parse(json) }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: start.id, content: 'ok, 16 bytes' }] },
    ];
    const second = JSON.parse((await post(`${base('api.anthropic.com')}/v1/messages`, anthropicBody({ messages, tools: [writeTool] }), anthropicHeaders)).text);
    expect(second.content).toEqual([{ type: 'text', text: 'File written.' }]);
    expect(seen[1]).toMatchObject({ api: 'anthropic', lastUserText: 'Write hello.txt', toolNames: ['Write'], toolResults: [{ id: start.id, name: 'Write', output: 'ok, 16 bytes' }] });
  });

  it('answers count_tokens and the model list', async () => {
    const count = await post(`${base('api.anthropic.com')}/v1/messages/count_tokens`, anthropicBody(), anthropicHeaders);
    expect(JSON.parse(count.text).input_tokens).toBeGreaterThan(0);
    const list = await undiciFetch(`${base('api.anthropic.com')}/v1/models`, { dispatcher: agent, headers: anthropicHeaders });
    const body = (await list.json()) as any;
    expect(body.data[0]).toMatchObject({ type: 'model', object: 'model' });
    expect(body.has_more).toBe(false);
  });

  it('sends a scripted error in the Anthropic error shape', async () => {
    model.script(() => ({ error: { status: 529, message: 'Overloaded' } }));
    const res = await post(`${base('api.anthropic.com')}/v1/messages`, anthropicBody({ stream: true }), anthropicHeaders);
    expect(res.status).toBe(529);
    expect(JSON.parse(res.text)).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  });
});

const openaiHeaders = { authorization: 'Bearer sk-real-openai-key', 'user-agent': 'codex_cli_rs/test' };
const functionTool = { type: 'function', name: 'write', parameters: { type: 'object', properties: { file_path: { type: 'string' } } } };

describe('OpenAI Responses', () => {
  it('streams created, output item, text deltas, done events and completed with usage', async () => {
    const res = await post(`${base('api.openai.com')}/v1/responses`, { model: 'gpt-5', input: 'Say hello', stream: true }, openaiHeaders);
    expect(res.status).toBe(200);
    const events = parseSse(res.text);
    for (const e of events) expect(e.event).toBe(e.data.type);
    expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i));
    expect([...new Set(events.map((e) => e.event))]).toEqual([
      'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added', 'response.output_text.delta',
      'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed',
    ]);
    expect(events.filter((e) => e.event === 'response.output_text.delta').map((e) => e.data.delta).join('')).toBe(DEFAULT_REPLY_TEXT);
    const completed = events.at(-1)?.data.response;
    expect(completed.status).toBe('completed');
    expect(completed.output[0].content[0]).toMatchObject({ type: 'output_text', text: DEFAULT_REPLY_TEXT });
    expect(completed.usage.total_tokens).toBe(completed.usage.input_tokens + completed.usage.output_tokens);
  });

  it('answers stream:false with the response object', async () => {
    const res = JSON.parse((await post(`${base('api.openai.com')}/v1/responses`, { model: 'gpt-5', input: [{ role: 'user', content: 'hi' }] }, openaiHeaders)).text);
    expect(res).toMatchObject({ object: 'response', status: 'completed', output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: DEFAULT_REPLY_TEXT }] }] });
  });

  it('streams a function_call with argument deltas, then answers its function_call_output', async () => {
    const seen: ModelRequest[] = [];
    const flow = replyWithToolCallOnce(/^(write|Write)$/, writeInput, 'Done.');
    model.script((req) => (seen.push(req), flow(req)));
    const events = parseSse((await post(`${base('api.openai.com')}/v1/responses`, { model: 'gpt-5', input: 'write it', tools: [functionTool], stream: true }, openaiHeaders)).text);
    const item = events.find((e) => e.event === 'response.output_item.done')?.data.item;
    expect(item).toMatchObject({ type: 'function_call', name: 'write', status: 'completed' });
    const args = events.filter((e) => e.event === 'response.function_call_arguments.delta').map((e) => e.data.delta).join('');
    expect(JSON.parse(args)).toEqual({ file_path: 'hello.txt', content: 'written by write' });
    expect(events.find((e) => e.event === 'response.function_call_arguments.done')?.data.arguments).toBe(args);

    const input = [{ role: 'user', content: [{ type: 'input_text', text: 'write it' }] }, item, { type: 'function_call_output', call_id: item.call_id, output: 'written' }];
    const next = parseSse((await post(`${base('api.openai.com')}/v1/responses`, { model: 'gpt-5', input, tools: [functionTool], stream: true }, openaiHeaders)).text);
    expect(next.at(-1)?.data.response.output[0].content[0].text).toBe('Done.');
    expect(seen[1]).toMatchObject({ api: 'responses', lastUserText: 'write it', toolResults: [{ id: item.call_id, name: 'write', output: 'written' }] });
  });

  it('calls a freeform (custom) tool with a plain-string input', async () => {
    model.script(replyWithToolCallOnce('apply_patch', () => '*** Begin Patch\n*** End Patch', 'ok'));
    const tools = [{ type: 'custom', name: 'apply_patch', description: 'patch' }];
    const events = parseSse((await post(`${base('api.openai.com')}/v1/responses`, { model: 'gpt-5', input: 'patch', tools, stream: true }, openaiHeaders)).text);
    expect(events.find((e) => e.event === 'response.output_item.done')?.data.item).toMatchObject({ type: 'custom_tool_call', name: 'apply_patch', input: '*** Begin Patch\n*** End Patch' });
    expect(events.some((e) => e.event === 'response.custom_tool_call_input.delta')).toBe(true);
  });
});

describe('OpenAI Chat Completions', () => {
  const chatTool = { type: 'function', function: { name: 'write', parameters: { type: 'object' } } };

  it('streams content deltas, a finish chunk, a usage chunk and [DONE]', async () => {
    const res = await post(`${base('litellm.test')}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true }, openaiHeaders);
    const events = parseSse(res.text);
    expect(events.every((e) => e.event === undefined)).toBe(true);
    expect(events.at(-1)?.data).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => e.data);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(DEFAULT_REPLY_TEXT);
    expect(chunks.at(-2).choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) } });
  });

  it('answers stream:false with a chat.completion', async () => {
    const res = JSON.parse((await post(`${base('litellm.test')}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, openaiHeaders)).text);
    expect(res).toMatchObject({ object: 'chat.completion', choices: [{ message: { role: 'assistant', content: DEFAULT_REPLY_TEXT }, finish_reason: 'stop' }] });
  });

  it('streams tool_calls deltas, then answers the tool message', async () => {
    const seen: ModelRequest[] = [];
    const flow = replyWithToolCallOnce('write', writeInput, 'Written.');
    model.script((req) => (seen.push(req), flow(req)));
    const chunks = parseSse((await post(`${base('litellm.test')}/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'go' }], tools: [chatTool], stream: true }, openaiHeaders)).text)
      .slice(0, -1).map((e) => e.data);
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'write', arguments: '' } });
    expect(JSON.parse(calls.map((c: any) => c.function.arguments).join(''))).toEqual(writeInput('write'));
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe('tool_calls');

    const messages = [
      { role: 'user', content: 'go' },
      { role: 'assistant', content: null, tool_calls: [{ id: calls[0].id, type: 'function', function: { name: 'write', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: calls[0].id, content: 'done' },
    ];
    const final = JSON.parse((await post(`${base('litellm.test')}/chat/completions`, { model: 'm', messages, tools: [chatTool] }, openaiHeaders)).text);
    expect(final.choices[0].message.content).toBe('Written.');
    expect(seen[1]?.toolResults).toEqual([{ id: calls[0].id, name: 'write', output: 'done' }]);
  });
});

describe('recording and routing', () => {
  it('records method, path, host, headers and body, and lists the keys received', async () => {
    await post(`${base('api.anthropic.com')}/v1/messages`, anthropicBody(), anthropicHeaders);
    await post(`${base('api.openai.com')}/v1/responses`, { model: 'gpt-5', input: 'x' }, openaiHeaders);
    await post(`${base('api.openai.com')}/v1/responses`, { model: 'gpt-5', input: 'y' }, openaiHeaders);
    expect(model.requests[0]).toMatchObject({
      method: 'POST', path: '/v1/messages', host: `api.anthropic.com:${model.httpsPort}`, api: 'anthropic', status: 200,
      headers: { 'x-api-key': 'sk-ant-real-key', 'anthropic-version': '2023-06-01', 'user-agent': 'claude-cli/test' },
      body: anthropicBody(),
    });
    expect(model.requests[1]?.headers.authorization).toBe('Bearer sk-real-openai-key');
    expect(model.keysSeen()).toEqual(['sk-ant-real-key', 'sk-real-openai-key']);
  });

  it('answers anything else with a recorded 404 JSON', async () => {
    const res = await undiciFetch(`${base('api.anthropic.com')}/api/hello?x=1`, { dispatcher: agent, headers: { 'x-api-key': 'sk-ant-probe' } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.message).toContain('/api/hello');
    expect(model.requests).toMatchObject([{ method: 'GET', path: '/api/hello?x=1', status: 404 }]);
    expect(model.keysSeen()).toEqual(['sk-ant-probe']);
  });

  it('refuses a malformed request with a 400 naming the field', async () => {
    const notJson = await post(`${base('api.anthropic.com')}/v1/messages`, '{"model": ', anthropicHeaders);
    expect(notJson.status).toBe(400);
    expect(notJson.text).toContain('request body must be a JSON object');
    const noMessages = await post(`${base('api.anthropic.com')}/v1/messages`, { model: 'claude' }, anthropicHeaders);
    expect(noMessages.status).toBe(400);
    expect(JSON.parse(noMessages.text).error.message).toContain('messages');
    const noModel = await post(`${base('api.openai.com')}/v1/responses`, { input: 'x' }, openaiHeaders);
    expect(JSON.parse(noModel.text).error.message).toContain('model');
  });

  it('streams over HTTP/2 (as the vault dials upstreams) and records :authority as the host', async () => {
    const h2 = new Agent({ allowH2: true, connect: { ca: model.caPem, lookup: loopbackLookup } });
    try {
      const res = await undiciFetch(`${base('api.anthropic.com')}/v1/messages`, {
        method: 'POST', dispatcher: h2, headers: anthropicHeaders, body: JSON.stringify(anthropicBody({ stream: true })),
      });
      const events = parseSse(await res.text());
      expect(events.at(-1)?.event).toBe('message_stop');
      expect(model.requests[0]).toMatchObject({ host: `api.anthropic.com:${model.httpsPort}`, headers: { 'x-api-key': 'sk-ant-real-key' } });
      expect(Object.keys(model.requests[0]?.headers ?? {}).some((name) => name.startsWith(':'))).toBe(false);
    } finally {
      await h2.close();
    }
  });

  it('reads a zstd-compressed request body (Codex can send one)', async () => {
    const body = zstdCompressSync(JSON.stringify({ model: 'gpt-5', input: 'compressed hello' }));
    const res = await undiciFetch(`${base('api.openai.com')}/v1/responses`, {
      method: 'POST', dispatcher: agent, headers: { ...openaiHeaders, 'content-type': 'application/json', 'content-encoding': 'zstd' }, body,
    });
    expect(res.status).toBe(200);
    expect(model.requests[0]?.body).toEqual({ model: 'gpt-5', input: 'compressed hello' });
  });

  it.each(['HTTP/1.1', 'HTTP/2'])('holds a reply while the script is pending and records a turn the client aborted (%s)', async (protocol) => {
    const dispatcher = protocol === 'HTTP/2' ? new Agent({ allowH2: true, connect: { ca: model.caPem, lookup: loopbackLookup } }) : agent;
    let called!: () => void;
    let release!: () => void;
    const scriptCalled = new Promise<void>((r) => (called = r));
    const released = new Promise<void>((r) => (release = r));
    model.script(async () => (called(), await released, { text: 'too late' }));
    const abort = new AbortController();
    const turn = undiciFetch(`${base('api.anthropic.com')}/v1/messages`, {
      method: 'POST', dispatcher, signal: abort.signal, headers: anthropicHeaders, body: JSON.stringify(anthropicBody({ stream: true })),
    }).catch((err: Error) => err.name);
    await scriptCalled;
    abort.abort();
    expect(await turn).toBe('AbortError');
    await until(() => model.requests[0]?.aborted === true);
    release();
    model.script(() => ({ text: 'next turn' }));
    const next = await post(`${base('api.anthropic.com')}/v1/messages`, anthropicBody(), anthropicHeaders);
    expect(JSON.parse(next.text).content[0].text).toBe('next turn');
    expect(model.requests.map((r) => r.aborted)).toEqual([true, false]);
    if (dispatcher !== agent) await dispatcher.close();
  });

  it('serves plain HTTP and HTTPS by address with the same routes', async () => {
    const plain = await fetch(`http://127.0.0.1:${model.httpPort}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: 'Bearer sk-plain' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(((await plain.json()) as any).choices[0].message.content).toBe(DEFAULT_REPLY_TEXT);
    const byAddress = await undiciFetch(`https://127.0.0.1:${model.httpsPort}/v1/models`, { dispatcher: agent });
    expect(byAddress.status).toBe(200);
  });
});

describe('closing', () => {
  it('close() finishes while requests are still waiting for a reply, over HTTP/2 and HTTP/1.1', async () => {
    const other = await startFakeModel({ script: () => new Promise(() => {}) });
    const h2 = new Agent({ allowH2: true, connect: { ca: other.caPem, lookup: loopbackLookup } });
    const h1 = new Agent({ allowH2: false, connect: { ca: other.caPem, lookup: loopbackLookup } });
    try {
      const pending = [h2, h1].map((dispatcher) =>
        undiciFetch(`https://api.openai.com:${other.httpsPort}/v1/responses`, { method: 'POST', dispatcher, body: '{"model":"m","input":"hold"}' }).then(
          (res) => res.status,
          (err: Error) => err.name,
        ));
      await until(() => other.requests.length === 2);
      await other.close();
      expect(await Promise.all(pending)).toEqual(['TypeError', 'TypeError']);
    } finally {
      await Promise.all([h2.destroy(), h1.destroy()]);
    }
  });
});

// The official SDKs parse and validate the streams themselves (e.g. the Responses stream helper
// refuses a text delta without its content part): if they accept them, so should the CLIs built on them.
const SDK_PREFIX = fileURLToPath(new URL('../../node_modules/.cache/lap-test-sdks', import.meta.url));
const SDK_DIR = `${SDK_PREFIX}/node_modules`;
/** Pinned: the versions these tests were written against. */
const SDK_PACKAGES = ['@anthropic-ai/sdk@1.14.0', 'openai@7.59.0'];

/** npm under this Node; a few MB from the registry, once, then kept in node_modules/.cache. */
function installSdks(): void {
  if (existsSync(`${SDK_DIR}/@anthropic-ai/sdk/index.mjs`) && existsSync(`${SDK_DIR}/openai/index.mjs`)) return;
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
  execFileSync('npm', ['install', '--prefix', SDK_PREFIX, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', ...SDK_PACKAGES], { env, stdio: 'inherit', timeout: 5 * 60_000 });
}

describe('the official SDKs', () => {
  beforeAll(installSdks, 5 * 60_000);
  const sdkFetch = (url: any, init: any) => undiciFetch(url, { ...init, dispatcher: agent }) as unknown as Promise<Response>;
  const load = async (pkg: string) => import(pathToFileURL(`${SDK_DIR}/${pkg}/index.mjs`).href);

  it('@anthropic-ai/sdk streams text and a tool_use, and reads counts and models', async () => {
    const { Anthropic } = await load('@anthropic-ai/sdk');
    const client = new Anthropic({ apiKey: 'sk-ant-sdk', baseURL: base('api.anthropic.com'), fetch: sdkFetch, maxRetries: 0 });
    const text = await client.messages.stream(anthropicBody()).finalMessage();
    expect(text.content).toMatchObject([{ type: 'text', text: DEFAULT_REPLY_TEXT }]);
    model.script(replyWithToolCallOnce('Write', writeInput, 'ok'));
    const tool = await client.messages.stream(anthropicBody({ tools: [writeTool] })).finalMessage();
    expect(tool.stop_reason).toBe('tool_use');
    expect(tool.content[0]).toMatchObject({ type: 'tool_use', name: 'Write', input: writeInput('Write') });
    expect((await client.messages.countTokens(anthropicBody())).input_tokens).toBeGreaterThan(0);
    expect((await client.models.list()).data.length).toBeGreaterThan(0);
    expect(model.keysSeen()).toEqual(['sk-ant-sdk']);
  });

  it('openai streams Responses (text and function_call) and Chat Completions with tool_calls', async () => {
    const { OpenAI } = await load('openai');
    const client = new OpenAI({ apiKey: 'sk-sdk', baseURL: `${base('api.openai.com')}/v1`, fetch: sdkFetch, maxRetries: 0 });
    const response = await client.responses.stream({ model: 'gpt-5', input: 'hi' }).finalResponse();
    expect(response.output_text).toBe(DEFAULT_REPLY_TEXT);
    model.script(replyWithToolCallOnce('write', writeInput, 'ok'));
    const call = await client.responses.stream({ model: 'gpt-5', input: 'hi', tools: [functionTool] }).finalResponse();
    expect(call.output[0]).toMatchObject({ type: 'function_call', name: 'write', arguments: JSON.stringify(writeInput('write')) });

    model.script(replyWithToolCallOnce('write', writeInput, 'ok'));
    const chatTool = { type: 'function', function: { name: 'write', parameters: { type: 'object' } } };
    const chat = await client.chat.completions.stream({ model: 'm', messages: [{ role: 'user', content: 'hi' }], tools: [chatTool] }).finalChatCompletion();
    expect(chat.choices[0].message.tool_calls[0].function).toMatchObject({ name: 'write', arguments: JSON.stringify(writeInput('write')) });
    const plainChat = await client.chat.completions.stream({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }).finalChatCompletion();
    expect(plainChat.choices[0].message.content).toBe('ok');
    expect((await client.models.list()).data.map((m: any) => m.id)).toContain('gpt-5');
  });
});
