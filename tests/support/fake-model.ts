// A fake model server for harness tests (issue 6): Anthropic Messages, OpenAI Responses and OpenAI
// Chat Completions, streaming and not, with tool calls, on loopback HTTPS (HTTP/2 and HTTP/1.1, a
// test CA, one leaf for the model hosts the tests map) and plain HTTP. What it answers is scripted per
// request; everything it receives is recorded, so a test can check which credential reached it.
// Paths are matched by their ending (…/messages, …/responses, …/chat/completions, …/models), so base
// URLs with or without /v1 or a LiteLLM-style prefix all work.
// reflect-metadata must load before @peculiar/x509: its dependency tsyringe checks for it at load time.
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { brotliDecompressSync, gunzipSync, inflateSync, zstdDecompressSync } from 'node:zlib';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export type ModelApi = 'anthropic' | 'responses' | 'chat';

/** A model request as the script sees it. `messages` (anthropic, chat) and `input` (responses) are as sent. */
export interface ModelRequest {
  api: ModelApi;
  model: string;
  stream: boolean;
  messages: unknown[];
  input: unknown;
  tools: unknown[];
  /** Names of the offered tools, in order (Anthropic `name`, Responses `name`, Chat `function.name`). */
  toolNames: string[];
  /** Text of the latest user message that has text (tool results excluded). */
  lastUserText: string;
  /** Tool results found anywhere in the conversation; `name` from the matching call when present. */
  toolResults: ToolResult[];
  /** The whole parsed body. */
  body: Record<string, unknown>;
}

export interface ToolResult {
  id: string;
  name: string | undefined;
  output: string;
}

export type Reply =
  | { text: string }
  | { toolCall: { name: string; input: unknown }; text?: string }
  | { error: { status: number; message: string } };

export type Script = (req: ModelRequest) => Reply | Promise<Reply>;

export interface RecordedRequest {
  method: string;
  /** Path with its query, as sent. */
  path: string;
  /** Host / :authority as sent. */
  host: string;
  /** Lowercase names; repeated headers joined with ", "; HTTP/2 pseudo-headers left out. */
  headers: Record<string, string>;
  /** Parsed JSON body; the raw text when it is not JSON; undefined when empty. */
  body: unknown;
  /** Which API answered it; undefined for lists, counts and 404s. */
  api: ModelApi | undefined;
  /** Status sent back; 0 until the reply starts. */
  status: number;
  /** True when the client went away before the reply was complete (an aborted turn). */
  aborted: boolean;
}

export interface FakeModelOptions {
  /** Extra DNS names the certificate is valid for, besides DEFAULT_MODEL_HOSTS. */
  hosts?: string[];
  /** The first script; default replies DEFAULT_REPLY_TEXT. */
  script?: Script;
  /** Model ids listed by GET …/models. */
  models?: string[];
}

export interface FakeModel {
  readonly httpsPort: number;
  readonly httpPort: number;
  /** PEM of the test CA that issued the server certificate. */
  readonly caPem: string;
  /** Every request received, in arrival order (live array). */
  readonly requests: RecordedRequest[];
  /** Replaces the script used for the following requests. */
  script(fn: Script): void;
  /** Distinct credentials received (x-api-key, or the Bearer token of Authorization), in first-seen order. */
  keysSeen(): string[];
  close(): Promise<void>;
}

export const DEFAULT_REPLY_TEXT = 'Hello from the fake model.';
export const DEFAULT_MODEL_HOSTS = ['api.anthropic.com', 'api.openai.com', 'litellm.test', 'localhost'];
const DEFAULT_MODELS = ['claude-sonnet-5', 'claude-opus-4-7', 'claude-haiku-4-5', 'gpt-5', 'gpt-5-codex', 'gpt-4o-mini'];
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export async function startFakeModel(opts: FakeModelOptions = {}): Promise<FakeModel> {
  const tls = await mintServerCertificate([...DEFAULT_MODEL_HOSTS, ...(opts.hosts ?? [])]);
  const requests: RecordedRequest[] = [];
  const state = { script: opts.script ?? defaultScript, models: opts.models ?? DEFAULT_MODELS };
  // A write after the client went away (an aborted turn) may throw: the record already says `aborted`.
  const handle = (req: IncomingMessage | Http2ServerRequest, res: Res) =>
    void receive(req, res, requests).then((record) => record && answer(record, res, state)).catch(() => undefined);
  const https: Http2SecureServer = createSecureServer({ allowHTTP1: true, key: tls.keyPem, cert: tls.certPem }, (req, res) =>
    handle(req, res as unknown as Res),
  );
  const http: Server = createHttpServer((req, res) => handle(req, res));
  const sockets = trackSockets(https, http);
  await Promise.all([listen(https), listen(http)]);
  return {
    httpsPort: (https.address() as AddressInfo).port,
    httpPort: (http.address() as AddressInfo).port,
    caPem: tls.caPem,
    requests,
    script: (fn) => void (state.script = fn),
    keysSeen: () => [...new Set(requests.map(credentialOf).filter((k): k is string => k !== undefined))],
    close: async () => {
      const closed = Promise.all([https, http].map((server) => new Promise((resolve) => server.close(resolve))));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

const defaultScript: Script = () => ({ text: DEFAULT_REPLY_TEXT });

/**
 * The common "ask for a tool once, then answer" flow. The first request that offers a tool whose name
 * matches gets a call to it with `inputFor(thatName)`; every other request gets `finalText`.
 * Harnesses name their tools differently (write, Write, apply_patch…), hence the pattern.
 */
export function replyWithToolCallOnce(matchToolName: RegExp | string, inputFor: (toolName: string) => unknown, finalText: string): Script {
  const matches = (name: string) => (typeof matchToolName === 'string' ? name === matchToolName : matchToolName.test(name));
  let asked = false;
  return (req) => {
    const tool = req.toolNames.find(matches);
    if (asked || tool === undefined) return { text: finalText };
    asked = true;
    return { toolCall: { name: tool, input: inputFor(tool) } };
  };
}

// ---------------------------------------------------------------------------------------------
// Receiving and routing

type Res = {
  on(event: 'finish' | 'close', listener: () => void): unknown;
  writeHead(status: number, headers?: Record<string, string | number>): unknown;
  write(chunk: string): boolean;
  end(chunk?: string): unknown;
  /** HTTP/2 only: its `aborted` says the client reset the stream. */
  stream?: { aborted: boolean };
};

interface State {
  script: Script;
  models: string[];
}

async function receive(req: IncomingMessage | Http2ServerRequest, res: Res, requests: RecordedRequest[]): Promise<RecordedRequest | undefined> {
  const headers = plainHeaders(req.headers);
  const record: RecordedRequest = {
    method: req.method ?? '',
    path: req.url ?? '',
    host: headers.host ?? String(req.headers[':authority'] ?? ''),
    headers,
    body: undefined,
    api: undefined,
    status: 0,
    aborted: false,
  };
  requests.push(record);
  let finished = false;
  res.on('finish', () => (finished = true));
  // Over HTTP/2 a reset stream also emits 'finish' (Node's compat layer), so the stream says it instead.
  res.on('close', () => (record.aborted = !finished || res.stream?.aborted === true));
  try {
    record.body = parseBody(decodeBody(await readBody(req), headers['content-encoding']));
    return record;
  } catch (err) {
    sendJson(record, res, 400, errorBody(undefined, 400, `request body: ${(err as Error).message}`));
    return undefined;
  }
}

async function answer(record: RecordedRequest, res: Res, state: State): Promise<void> {
  const path = record.path.split('?')[0] ?? '';
  const route = `${record.method} ${path.replace(/\/+$/, '')}`;
  try {
    if (/^POST .*\/messages\/count_tokens$/.test(route)) return sendJson(record, res, 200, { input_tokens: estimateTokens(JSON.stringify(record.body ?? '')) });
    if (/^GET .*\/models$/.test(route)) return sendJson(record, res, 200, modelList(state.models));
    const api = apiOf(route);
    if (api === undefined) return sendJson(record, res, 404, errorBody(undefined, 404, `no route for ${record.method} ${path}`));
    record.api = api;
    const req = parseModelRequest(api, record.body);
    if (typeof req === 'string') return sendJson(record, res, 400, errorBody(api, 400, req));
    const reply = await state.script(req);
    if ('error' in reply) return sendJson(record, res, reply.error.status, errorBody(api, reply.error.status, reply.error.message));
    writeReply(record, res, req, reply);
  } catch (err) {
    sendJson(record, res, 500, errorBody(record.api, 500, `fake model script failed: ${(err as Error).message}`));
  }
}

function apiOf(route: string): ModelApi | undefined {
  if (/^POST .*\/messages$/.test(route)) return 'anthropic';
  if (/^POST .*\/responses$/.test(route)) return 'responses';
  if (/^POST .*\/chat\/completions$/.test(route)) return 'chat';
  return undefined;
}

function plainHeaders(raw: NodeJS.Dict<string | string[]>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (!name.startsWith(':') && value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function credentialOf(record: RecordedRequest): string | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(record.headers.authorization ?? '')?.[1];
  return record.headers['x-api-key'] ?? bearer;
}

async function readBody(req: IncomingMessage | Http2ServerRequest): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error(`larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Some clients compress request bodies (Codex can send zstd). */
function decodeBody(body: Buffer, encoding: string | undefined): Buffer {
  switch ((encoding ?? 'identity').trim().toLowerCase()) {
    case 'identity': return body;
    case 'gzip': return gunzipSync(body);
    case 'deflate': return inflateSync(body);
    case 'br': return brotliDecompressSync(body);
    case 'zstd': return zstdDecompressSync(body);
    default: throw new Error(`unsupported content-encoding ${JSON.stringify(encoding)}`);
  }
}

function parseBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  const text = body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing a model request into what the script sees

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The parsed request, or an error message naming the bad field. */
function parseModelRequest(api: ModelApi, body: unknown): ModelRequest | string {
  if (!isObject(body)) return 'request body must be a JSON object';
  if (typeof body.model !== 'string' || body.model === '') return 'model: must be a non-empty string';
  const conversationField = api === 'responses' ? 'input' : 'messages';
  const conversation = body[conversationField];
  if (api === 'responses' ? conversation === undefined : !Array.isArray(conversation)) return `${conversationField}: is required${api === 'responses' ? '' : ' and must be an array'}`;
  if (body.tools !== undefined && !Array.isArray(body.tools)) return 'tools: must be an array';
  const items = api === 'responses' ? responsesItems(conversation) : asArray(conversation);
  const tools = asArray(body.tools);
  return {
    api,
    model: body.model,
    stream: body.stream === true,
    messages: api === 'responses' ? [] : items,
    input: api === 'responses' ? conversation : undefined,
    tools,
    toolNames: tools.map(toolName).filter((n): n is string => n !== undefined),
    lastUserText: lastUserText(api, items),
    toolResults: toolResults(api, items),
    body,
  };
}

function responsesItems(input: unknown): unknown[] {
  return typeof input === 'string' ? [{ role: 'user', content: input }] : asArray(input);
}

function toolName(tool: unknown): string | undefined {
  if (!isObject(tool)) return undefined;
  if (typeof tool.name === 'string') return tool.name;
  return isObject(tool.function) && typeof tool.function.name === 'string' ? tool.function.name : undefined;
}

/** Text parts of a message's content: a string, or blocks of type text / input_text. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  return asArray(content)
    .filter((b): b is Json => isObject(b) && (b.type === 'text' || b.type === 'input_text') && typeof b.text === 'string')
    .map((b) => b.text as string)
    .join('\n');
}

function lastUserText(api: ModelApi, items: unknown[]): string {
  for (const item of [...items].reverse()) {
    if (!isObject(item) || item.role !== 'user') continue;
    if (api === 'responses' && item.type !== undefined && item.type !== 'message') continue;
    const text = textOf(item.content);
    if (text !== '') return text;
  }
  return '';
}

function toolResults(api: ModelApi, items: unknown[]): ToolResult[] {
  const calls = new Map<string, string>();
  const results: ToolResult[] = [];
  for (const item of items.filter(isObject)) {
    for (const [id, name] of toolCallsIn(api, item)) calls.set(id, name);
    for (const [id, output] of toolOutputsIn(api, item)) results.push({ id, name: calls.get(id), output });
  }
  return results;
}

function toolCallsIn(api: ModelApi, item: Json): Array<[string, string]> {
  if (api === 'anthropic') {
    return asArray(item.content).filter(isObject).filter((b) => b.type === 'tool_use').map((b) => [String(b.id), String(b.name)]);
  }
  if (api === 'responses') {
    return item.type === 'function_call' || item.type === 'custom_tool_call' ? [[String(item.call_id), String(item.name)]] : [];
  }
  return asArray(item.tool_calls).filter(isObject).map((c) => [String(c.id), String(isObject(c.function) ? c.function.name : '')]);
}

function toolOutputsIn(api: ModelApi, item: Json): Array<[string, string]> {
  if (api === 'anthropic') {
    return asArray(item.content).filter(isObject).filter((b) => b.type === 'tool_result').map((b) => [String(b.tool_use_id), textOf(b.content)]);
  }
  if (api === 'responses') {
    const isOutput = item.type === 'function_call_output' || item.type === 'custom_tool_call_output';
    return isOutput ? [[String(item.call_id), typeof item.output === 'string' ? item.output : textOf(item.output)]] : [];
  }
  return item.role === 'tool' ? [[String(item.tool_call_id), textOf(item.content)]] : [];
}

// ---------------------------------------------------------------------------------------------
// Writing replies

interface ReplyParts {
  text: string;
  toolCall: { name: string; input: unknown; id: string } | undefined;
  inputTokens: number;
  outputTokens: number;
}

function writeReply(record: RecordedRequest, res: Res, req: ModelRequest, reply: Exclude<Reply, { error: unknown }>): void {
  const toolCall = 'toolCall' in reply ? { ...reply.toolCall, id: randomId() } : undefined;
  const text = reply.text ?? '';
  const parts: ReplyParts = {
    text,
    toolCall,
    inputTokens: estimateTokens(JSON.stringify(req.body)),
    outputTokens: estimateTokens(text + (toolCall ? JSON.stringify(toolCall.input) : '')),
  };
  const writer = WRITERS[req.api];
  if (!req.stream) return sendJson(record, res, 200, writer.json(req, parts));
  record.status = 200;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': `req_${randomId()}`, 'x-request-id': `req_${randomId()}` });
  for (const event of writer.events(req, parts)) res.write(event);
  res.end();
}

const WRITERS: Record<ModelApi, { json(req: ModelRequest, p: ReplyParts): unknown; events(req: ModelRequest, p: ReplyParts): string[] }> = {
  anthropic: { json: anthropicMessage, events: anthropicEvents },
  responses: { json: (req, p) => responseObject(req, p, 'completed'), events: responsesEvents },
  chat: { json: chatCompletion, events: chatEvents },
};

// Anthropic Messages ------------------------------------------------------------------------------

function anthropicBlocks(p: ReplyParts): Json[] {
  const blocks: Json[] = p.text === '' && p.toolCall ? [] : [{ type: 'text', text: p.text }];
  if (p.toolCall) blocks.push({ type: 'tool_use', id: `toolu_${p.toolCall.id}`, name: p.toolCall.name, input: p.toolCall.input });
  return blocks;
}

function anthropicMessage(req: ModelRequest, p: ReplyParts): Json {
  return {
    id: `msg_${randomId()}`,
    type: 'message',
    role: 'assistant',
    model: req.model,
    content: anthropicBlocks(p),
    stop_reason: p.toolCall ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: p.inputTokens, output_tokens: p.outputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
}

function anthropicEvents(req: ModelRequest, p: ReplyParts): string[] {
  const message = anthropicMessage(req, p);
  const start = { ...message, content: [], stop_reason: null, usage: { ...(message.usage as Json), output_tokens: 1 } };
  const events = [sse('message_start', { type: 'message_start', message: start }), sse('ping', { type: 'ping' })];
  anthropicBlocks(p).forEach((block, index) => {
    const isTool = block.type === 'tool_use';
    const empty = isTool ? { ...block, input: {} } : { type: 'text', text: '' };
    events.push(sse('content_block_start', { type: 'content_block_start', index, content_block: empty }));
    const deltas = isTool
      ? chunksOf(JSON.stringify(block.input)).map((partial_json) => ({ type: 'input_json_delta', partial_json }))
      : chunksOf(String(block.text)).map((text) => ({ type: 'text_delta', text }));
    for (const delta of deltas) events.push(sse('content_block_delta', { type: 'content_block_delta', index, delta }));
    events.push(sse('content_block_stop', { type: 'content_block_stop', index }));
  });
  events.push(
    sse('message_delta', { type: 'message_delta', delta: { stop_reason: message.stop_reason, stop_sequence: null }, usage: { output_tokens: p.outputTokens } }),
    sse('message_stop', { type: 'message_stop' }),
  );
  return events;
}

// OpenAI Responses ---------------------------------------------------------------------------------

/** A freeform ("custom") tool takes a plain string; a function tool takes JSON arguments. */
function isCustomTool(req: ModelRequest, name: string): boolean {
  return req.tools.some((t) => isObject(t) && t.type === 'custom' && t.name === name);
}

function responsesOutput(req: ModelRequest, p: ReplyParts, messageId: string): Json[] {
  const output: Json[] = [];
  if (p.text !== '' || !p.toolCall) {
    output.push({ id: messageId, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: p.text, annotations: [], logprobs: [] }] });
  }
  if (p.toolCall) {
    const { name, input, id } = p.toolCall;
    output.push(
      isCustomTool(req, name)
        ? { id: `ctc_${id}`, type: 'custom_tool_call', status: 'completed', call_id: `call_${id}`, name, input: typeof input === 'string' ? input : JSON.stringify(input) }
        : { id: `fc_${id}`, type: 'function_call', status: 'completed', call_id: `call_${id}`, name, arguments: JSON.stringify(input) },
    );
  }
  return output;
}

function responseObject(req: ModelRequest, p: ReplyParts, status: 'in_progress' | 'completed', responseId = `resp_${randomId()}`, messageId = `msg_${randomId()}`): Json {
  const done = status === 'completed';
  return {
    id: responseId,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status,
    error: null,
    incomplete_details: null,
    model: req.model,
    output: done ? responsesOutput(req, p, messageId) : [],
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: req.tools,
    usage: done ? {
      input_tokens: p.inputTokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: p.outputTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: p.inputTokens + p.outputTokens,
    } : null,
  };
}

function responsesEvents(req: ModelRequest, p: ReplyParts): string[] {
  const responseId = `resp_${randomId()}`;
  const messageId = `msg_${randomId()}`;
  let sequence = 0;
  const events: string[] = [];
  const emit = (type: string, data: Json) => events.push(sse(type, { type, sequence_number: sequence++, ...data }));
  emit('response.created', { response: responseObject(req, p, 'in_progress', responseId) });
  emit('response.in_progress', { response: responseObject(req, p, 'in_progress', responseId) });
  responsesOutput(req, p, messageId).forEach((item, output_index) => {
    emit('response.output_item.added', { output_index, item: inProgress(item) });
    if (item.type === 'message') emitTextItem(emit, item, output_index);
    else emitToolItem(emit, item, output_index);
    emit('response.output_item.done', { output_index, item });
  });
  emit('response.completed', { response: responseObject(req, p, 'completed', responseId, messageId) });
  return events;
}

function inProgress(item: Json): Json {
  const empty = item.type === 'message' ? { content: [] } : item.type === 'function_call' ? { arguments: '' } : { input: '' };
  return { ...item, status: 'in_progress', ...empty };
}

type Emit = (type: string, data: Json) => void;

function emitTextItem(emit: Emit, item: Json, output_index: number): void {
  const part = asArray(item.content)[0] as Json;
  const text = String(part.text);
  const at = { item_id: item.id, output_index, content_index: 0 };
  emit('response.content_part.added', { ...at, part: { ...part, text: '' } });
  for (const delta of chunksOf(text)) emit('response.output_text.delta', { ...at, delta, logprobs: [] });
  emit('response.output_text.done', { ...at, text, logprobs: [] });
  emit('response.content_part.done', { ...at, part });
}

function emitToolItem(emit: Emit, item: Json, output_index: number): void {
  const at = { item_id: item.id, output_index };
  if (item.type === 'function_call') {
    for (const delta of chunksOf(String(item.arguments))) emit('response.function_call_arguments.delta', { ...at, delta });
    emit('response.function_call_arguments.done', { ...at, name: item.name, arguments: item.arguments });
  } else {
    for (const delta of chunksOf(String(item.input))) emit('response.custom_tool_call_input.delta', { ...at, delta });
    emit('response.custom_tool_call_input.done', { ...at, input: item.input });
  }
}

// OpenAI Chat Completions ----------------------------------------------------------------------------

function chatUsage(p: ReplyParts): Json {
  return { prompt_tokens: p.inputTokens, completion_tokens: p.outputTokens, total_tokens: p.inputTokens + p.outputTokens };
}

function chatToolCall(p: ReplyParts): Json | undefined {
  if (!p.toolCall) return undefined;
  return { id: `call_${p.toolCall.id}`, type: 'function', function: { name: p.toolCall.name, arguments: JSON.stringify(p.toolCall.input) } };
}

function chatCompletion(req: ModelRequest, p: ReplyParts): Json {
  const call = chatToolCall(p);
  const message = { role: 'assistant', content: p.text === '' && call ? null : p.text, refusal: null, ...(call ? { tool_calls: [call] } : {}) };
  return {
    id: `chatcmpl-${randomId()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: req.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: call ? 'tool_calls' : 'stop' }],
    usage: chatUsage(p),
  };
}

function chatEvents(req: ModelRequest, p: ReplyParts): string[] {
  const head = { id: `chatcmpl-${randomId()}`, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: req.model };
  const chunk = (delta: Json, finish_reason: string | null = null) => sse(undefined, { ...head, choices: [{ index: 0, delta, logprobs: null, finish_reason }] });
  const events = [chunk({ role: 'assistant', content: '' })];
  for (const content of chunksOf(p.text)) events.push(chunk({ content }));
  const call = chatToolCall(p);
  if (call) {
    const fn = call.function as Json;
    events.push(chunk({ tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: fn.name, arguments: '' } }] }));
    for (const args of chunksOf(String(fn.arguments))) events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: args } }] }));
  }
  events.push(chunk({}, call ? 'tool_calls' : 'stop'));
  events.push(sse(undefined, { ...head, choices: [], usage: chatUsage(p) }), 'data: [DONE]\n\n');
  return events;
}

// Lists, errors, small helpers ---------------------------------------------------------------------

/** One list both SDKs read: OpenAI's {object:'list', data:[{id, object:'model'}]} and Anthropic's {data:[{type:'model'}], has_more}. */
function modelList(models: string[]): Json {
  const created = Math.floor(Date.now() / 1000);
  const data = models.map((id) => ({
    id, object: 'model', type: 'model', created, owned_by: 'fake-model', display_name: id, created_at: new Date(created * 1000).toISOString(),
  }));
  return { object: 'list', data, has_more: false, first_id: models[0] ?? null, last_id: models.at(-1) ?? null };
}

function errorBody(api: ModelApi | undefined, status: number, message: string): Json {
  if (api === 'anthropic') return { type: 'error', error: { type: anthropicErrorType(status), message } };
  return { error: { message, type: status === 404 ? 'not_found_error' : status < 500 ? 'invalid_request_error' : 'server_error', code: null, param: null } };
}

function anthropicErrorType(status: number): string {
  const types: Record<number, string> = { 400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error', 429: 'rate_limit_error', 529: 'overloaded_error' };
  return types[status] ?? 'api_error';
}

function sendJson(record: RecordedRequest, res: Res, status: number, body: unknown): void {
  record.status = status;
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${randomId()}`, 'x-request-id': `req_${randomId()}` });
  res.end(JSON.stringify(body));
}

function sse(event: string | undefined, data: unknown): string {
  return `${event === undefined ? '' : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`;
}

/** Splits text into word-sized pieces so a stream carries several deltas. */
function chunksOf(text: string): string[] {
  return text === '' ? [] : (text.match(/\S*\s*/g) ?? [text]).filter((piece) => piece !== '');
}

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function randomId(): string {
  return randomBytes(12).toString('hex');
}

function listen(server: Server | Http2SecureServer): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
}

/** Open sockets, so close() need not wait for clients' keep-alive pools (an HTTP/2 session stays open). */
function trackSockets(https: Http2SecureServer, http: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  https.on('secureConnection', track);
  http.on('connection', track);
  return sockets;
}

// ---------------------------------------------------------------------------------------------
// Test CA and one server leaf for every model host (plus 127.0.0.1 and ::1 for clients that dial by address)

interface ServerCertificate {
  caPem: string;
  certPem: string;
  keyPem: string;
}

const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

async function mintServerCertificate(hosts: string[]): Promise<ServerCertificate> {
  const caKeys = (await webcrypto.subtle.generateKey(EC_KEY, false, ['sign', 'verify'])) as CryptoKeyPair;
  const leafKeys = (await webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - DAY_MS);
  const notAfter = new Date(Date.now() + 7 * DAY_MS);
  const caSki = await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(), name: 'CN=LAP fake model CA', notBefore, notAfter, signingAlgorithm: SIGNING, keys: caKeys,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true), caSki],
  });
  const names = [...new Set(hosts)].map((value) => ({ type: 'dns' as const, value }));
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(), subject: 'CN=fake model', issuer: ca.subject, notBefore, notAfter, signingAlgorithm: SIGNING,
    publicKey: leafKeys.publicKey, signingKey: caKeys.privateKey,
    extensions: [
      new x509.SubjectAlternativeNameExtension([...names, { type: 'ip', value: '127.0.0.1' }, { type: 'ip', value: '::1' }]),
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.AuthorityKeyIdentifierExtension(caSki.keyId),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', leafKeys.privateKey);
  return { caPem: ca.toString('pem'), certPem: leaf.toString('pem'), keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}
