// POST /v1/exec against the real agent process: output streamed while the command runs, exit codes,
// stdin, an environment that is exactly what was asked for, cwd confinement, validation, and process
// groups killed on timeout, on client disconnect and when the command leaves children behind.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecFrame, ExecRequest } from '../../sandbox-agent/protocol.ts';
import { type RunningAgent, startAgent } from '../support/agent.ts';

let agent: RunningAgent;

beforeAll(async () => {
  agent = await startAgent();
});

afterAll(async () => {
  await agent?.close();
});

function exec(request: ExecRequest | Record<string, unknown>, init: RequestInit = {}) {
  return agent.fetch('/v1/exec', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request), ...init });
}

/** The response's frames, one per NDJSON line, as they arrive. */
async function* frames(response: Response): AsyncGenerator<ExecFrame> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffered += value;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) !== -1) {
      yield JSON.parse(buffered.slice(0, newline)) as ExecFrame;
      buffered = buffered.slice(newline + 1);
    }
  }
  expect(buffered).toBe('');
}

interface ExecResult {
  stdout: string;
  stderr: string;
  exit: Extract<ExecFrame, { type: 'exit' }>;
  frames: ExecFrame[];
}

async function run(request: ExecRequest): Promise<ExecResult> {
  const response = await exec(request);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/x-ndjson');
  const all: ExecFrame[] = [];
  for await (const frame of frames(response)) all.push(frame);
  const text = (type: 'stdout' | 'stderr') =>
    Buffer.concat(all.flatMap((f) => (f.type === type ? [Buffer.from(f.data, 'base64')] : []))).toString();
  const exit = all.at(-1);
  if (exit?.type !== 'exit') throw new Error(`the last frame is not the exit frame: ${JSON.stringify(exit)}`);
  expect(all.filter((f) => f.type === 'exit')).toHaveLength(1);
  return { stdout: text('stdout'), stderr: text('stderr'), exit, frames: all };
}

/** Live (not zombie) processes whose process group is `pgid`, read from /proc. */
function liveGroupMembers(pgid: number): number[] {
  return readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(group) === pgid && state !== 'Z' && state !== 'X' ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}

/** Waits (bounded) for the group to be empty; returns what is still alive at the end. */
async function groupAfterSettling(pgid: number): Promise<number[]> {
  for (let i = 0; i < 100 && liveGroupMembers(pgid).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  return liveGroupMembers(pgid);
}

describe('exec output', () => {
  it('streams the first output before the command has finished', async () => {
    const response = await exec({ argv: ['sh', '-c', 'echo first; while [ ! -e go ]; do sleep 0.05; done; echo second'], timeoutMs: 30_000 });
    expect(response.status).toBe(200);
    const stream = frames(response);
    const first = (await stream.next()).value as ExecFrame;
    expect(first).toEqual({ type: 'stdout', data: Buffer.from('first\n').toString('base64') });
    // The command cannot end before this file exists, so the first chunk came while it was running.
    writeFileSync(join(agent.workspace, 'go'), '');
    const rest: ExecFrame[] = [];
    for await (const frame of stream) rest.push(frame);
    expect(rest).toEqual([
      { type: 'stdout', data: Buffer.from('second\n').toString('base64') },
      { type: 'exit', code: 0, signal: null, timedOut: false },
    ]);
  });

  it('returns the exit code and keeps stdout and stderr apart', async () => {
    const result = await run({ argv: ['sh', '-c', 'echo out; echo err >&2; exit 7'] });
    expect(result).toMatchObject({ stdout: 'out\n', stderr: 'err\n', exit: { code: 7, signal: null, timedOut: false } });
  });

  it('reports a signal that ended the command', async () => {
    const result = await run({ argv: ['sh', '-c', 'kill -USR1 $$'] });
    expect(result.exit).toEqual({ type: 'exit', code: null, signal: 'SIGUSR1', timedOut: false });
  });

  it('feeds stdin (binary, then closed) and gives an empty stdin otherwise', async () => {
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 0xf0, 0x9f, 0x98]);
    const piped = await run({ argv: ['od', '-An', '-tx1'], stdin: bytes.toString('base64') });
    expect(piped.stdout.trim().split(/\s+/)).toEqual([...bytes].map((b) => b.toString(16).padStart(2, '0')));
    const empty = await run({ argv: ['wc', '-c'] });
    expect(empty.stdout.trim()).toBe('0');
    expect(empty.exit.code).toBe(0);
  });

  it('says a missing program was not found, with exit code 127', async () => {
    const result = await run({ argv: ['no-such-program-lap'] });
    expect(result.exit).toEqual({ type: 'exit', code: 127, signal: null, timedOut: false });
    expect(result.stderr).toContain('no-such-program-lap: command not found');
  });

  it('logs exec activity for idle reaping', async () => {
    await run({ argv: ['true'] });
    const { events } = (await (await agent.fetch('/v1/events')).json()) as { events: { type: string; data: { kind?: string } }[] };
    expect(events.some((e) => e.type === 'activity' && e.data.kind === 'exec')).toBe(true);
  });
});

describe('exec environment and cwd', () => {
  it('gives the command exactly the requested env over PATH, HOME and LANG defaults, nothing of the agent', async () => {
    const agentEnv = readFileSync(`/proc/${agent.process.pid}/environ`, 'utf8').split('\0').filter(Boolean);
    expect(agentEnv).toContain(`HOME=${dirname(agent.workspace)}`);
    const result = await run({ argv: ['env', '-0'], env: { GREETING: 'hello world', LANG: 'en_US.UTF-8', EMPTY: '' } });
    const childEnv = Object.fromEntries(result.stdout.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    expect(childEnv).toEqual({
      GREETING: 'hello world',
      EMPTY: '',
      LANG: 'en_US.UTF-8',
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: userInfo().homedir,
    });
    for (const entry of agentEnv) expect(result.stdout.split('\0')).not.toContain(entry);
  });

  it('runs in the workspace, or in a folder of it', async () => {
    await mkdir(join(agent.workspace, 'sub', 'dir'), { recursive: true });
    expect((await run({ argv: ['pwd', '-P'] })).stdout.trim()).toBe(agent.workspace);
    expect((await run({ argv: ['pwd', '-P'], cwd: 'sub/dir' })).stdout.trim()).toBe(join(agent.workspace, 'sub', 'dir'));
    expect((await run({ argv: ['pwd', '-P'], cwd: '/sub' })).stdout.trim()).toBe(join(agent.workspace, 'sub'));
  });

  it('refuses a cwd outside the workspace with 403 and a missing one with 400', async () => {
    await run({ argv: ['ln', '-sfn', '/etc', 'etc-link'] });
    for (const cwd of ['..', 'sub/../../', 'etc-link']) {
      const response = await exec({ argv: ['pwd'], cwd });
      expect(response.status, cwd).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    }
    const missing = await exec({ argv: ['pwd'], cwd: 'nope' });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/^cwd: /);
  });
});

describe('exec validation', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['argv missing', {}, 'argv'],
    ['argv empty', { argv: [] }, 'argv'],
    ['argv not strings', { argv: ['echo', 3] }, 'argv.1'],
    ['argv[0] empty', { argv: [''] }, 'argv'],
    ['argv with NUL', { argv: ['echo', 'a\0b'] }, 'argv.1'],
    ['env not an object', { argv: ['true'], env: ['A=1'] }, 'env'],
    ['env bad name', { argv: ['true'], env: { '1BAD': 'x' } }, 'env.1BAD'],
    ['env name with =', { argv: ['true'], env: { 'A=B': 'x' } }, 'env.A=B'],
    ['env non-string value', { argv: ['true'], env: { A: 1 } }, 'env.A'],
    ['timeoutMs zero', { argv: ['true'], timeoutMs: 0 }, 'timeoutMs'],
    ['timeoutMs fractional', { argv: ['true'], timeoutMs: 1.5 }, 'timeoutMs'],
    ['timeoutMs over the limit', { argv: ['true'], timeoutMs: 24 * 60 * 60 * 1000 + 1 }, 'timeoutMs'],
    ['cwd not a string', { argv: ['true'], cwd: 5 }, 'cwd'],
    ['stdin not base64', { argv: ['true'], stdin: 'not base64!' }, 'stdin'],
    ['unknown field', { argv: ['true'], shell: true }, 'body'],
  ];
  it.each(cases)('%s → 400 naming %s', async (_name, body, field) => {
    const response = await exec(body);
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { code: string; message: string; details: { field: string }[] } };
    expect(error.code).toBe('invalid_request');
    expect(error.message.startsWith(`${field}: `)).toBe(true);
    expect(error.details[0]?.field).toBe(field);
  });

  it('refuses a body that is not JSON', async () => {
    const response = await agent.fetch('/v1/exec', { method: 'POST', body: '{"argv": [' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
  });
});

describe('exec process groups', () => {
  it('kills the whole process group on timeout, background children included', async () => {
    const result = await run({ argv: ['sh', '-c', 'echo $$; sleep 1000 & echo $!; wait'], timeoutMs: 500 });
    const [pgid, child] = result.stdout.trim().split('\n').map(Number) as [number, number];
    expect(result.exit).toEqual({ type: 'exit', code: null, signal: 'SIGTERM', timedOut: true });
    expect(await groupAfterSettling(pgid)).toEqual([]);
    expect(liveGroupMembers(pgid)).not.toContain(child);
  });

  it('escalates to SIGKILL when the group ignores SIGTERM', async () => {
    const result = await run({ argv: ['sh', '-c', "trap '' TERM; echo $$; sleep 1000 & wait"], timeoutMs: 500 });
    const pgid = Number(result.stdout.trim());
    expect(result.exit).toEqual({ type: 'exit', code: null, signal: 'SIGKILL', timedOut: true });
    expect(await groupAfterSettling(pgid)).toEqual([]);
  });

  it('kills the group when the client disconnects mid-run', async () => {
    const abort = new AbortController();
    const response = await exec({ argv: ['sh', '-c', 'sleep 1000 & echo $$; wait'] }, { signal: abort.signal });
    const first = (await frames(response).next()).value as ExecFrame;
    if (first.type !== 'stdout') throw new Error(`expected the pgid on stdout, got ${JSON.stringify(first)}`);
    const pgid = Number(Buffer.from(first.data, 'base64').toString());
    expect(liveGroupMembers(pgid).length).toBe(2);
    abort.abort();
    expect(await groupAfterSettling(pgid)).toEqual([]);
  });

  it('kills what a finished command left running in its group', async () => {
    const result = await run({ argv: ['sh', '-c', 'echo $$; sleep 1000 >/dev/null 2>&1 &'] });
    expect(result.exit.code).toBe(0);
    expect(await groupAfterSettling(Number(result.stdout.trim()))).toEqual([]);
  });
});
