// The claude-agent-sdk harness program: runs inside the sandbox under the agent's PTY, with the
// harness's environment (stubs only), and serves the Claude Agent SDK on loopback for the agent.
// POST /turn {text, resume?} runs one query() and streams its SDKMessages as NDJSON; a client that
// closes the request aborts the query. GET /healthz answers once the SDK is loaded.
// Plain JavaScript, so Node runs it as it is: the SDK is imported from the harness directory.
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' }, sdk: { type: 'string' } } });
if (!values.port || !values.sdk) {
  console.error('usage: claude-agent-sdk-runner.mjs --port N --sdk <dir of @anthropic-ai/claude-agent-sdk>');
  process.exit(2);
}
const { query } = await import(pathToFileURL(join(values.sdk, 'sdk.mjs')).href);
let busy = false;

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') return void res.end('ok\n');
  if (req.method !== 'POST' || req.url !== '/turn') return void res.writeHead(404).end();
  if (busy) return void res.writeHead(409, { 'content-type': 'text/plain' }).end('a turn is already running\n');
  busy = true;
  readJson(req)
    .then((body) => runTurn(body, res))
    .catch((err) => res.headersSent ? res.end() : res.writeHead(400, { 'content-type': 'text/plain' }).end(`${err.message}\n`))
    .finally(() => (busy = false));
});
server.listen(Number(values.port), '127.0.0.1', () => console.log(`claude-agent-sdk runner listening on 127.0.0.1:${values.port}`));

async function runTurn(body, res) {
  if (typeof body?.text !== 'string') throw new Error('text: must be a string');
  const abortController = new AbortController();
  res.on('close', () => abortController.abort());
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  const options = {
    cwd: process.cwd(),
    resume: typeof body.resume === 'string' ? body.resume : undefined,
    model: process.env.LAP_MODEL || undefined,
    // The sandbox is the boundary (netns behind the vault, no capabilities): no permission prompts.
    permissionMode: 'bypassPermissions',
    allowDangerouslySkipPermissions: true,
    includePartialMessages: true,
    abortController,
    env: { ...process.env },
    stderr: (data) => process.stderr.write(data),
  };
  try {
    for await (const message of query({ prompt: body.text, options })) res.write(`${JSON.stringify(message)}\n`);
  } catch (err) {
    if (!abortController.signal.aborted) res.write(`${JSON.stringify({ type: 'runner_error', message: err.message })}\n`);
  }
  res.end();
}

async function readJson(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return JSON.parse(text);
}
