// vault/http/: the small HTTP layer the vault's control API and the sandbox agent are built on, over
// real sockets: routing and errors, bounded bodies, streamed replies that stop when the client leaves,
// and — its reason to exist — that neither process loads Node's fetch (the Web Request/Response
// classes, ~15 MiB per process) by answering requests.
import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBearer } from '../../vault/http/bearer.ts';
import { eventStreamReply } from '../../vault/http/event-stream.ts';
import { HttpError, json } from '../../vault/http/reply.ts';
import { Router, createRouterServer } from '../../vault/http/router.ts';
import { ensureBundle } from '../../scripts/bundle.ts';

const TOKEN = 't'.repeat(40);
const LIMIT = 1000;

/** A log like the agent's events and the vault's audit, counting its subscribers. */
function sequencedLog() {
  const entries: { seq: number; what: string }[] = [];
  const listeners = new Set<(e: { seq: number; what: string }) => void>();
  return {
    listeners,
    append(what: string) {
      const entry = { seq: entries.length + 1, what };
      entries.push(entry);
      for (const listener of listeners) listener(entry);
    },
    since: (after: number) => entries.filter((e) => e.seq > after),
    subscribe(listener: (e: { seq: number; what: string }) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

const log = sequencedLog();
let cancelled = 0;
let bodyOutcome = '';
let server: Server;
let base: string;

beforeAll(async () => {
  const routes = new Router()
    .get('/open', () => json({ open: true }))
    .post('/echo', async (req) => json({ got: await req.json(LIMIT, { tooLarge: 'echo: at most 1000 bytes', invalid: 'echo: not JSON' }) }))
    .post('/record', async (req) => {
      bodyOutcome = await req.text(LIMIT, 'too large').then(() => 'read', (err: Error) => err.message);
      return json({});
    })
    .get('/refuse', () => {
      throw new HttpError(409, 'busy', 'try later', [{ field: 'x', message: 'y' }]);
    })
    .get('/bug', () => {
      throw new Error('something broke');
    })
    .get('/events', () => eventStreamReply(log, 0, () => 'note'))
    .get('/endless', () => ({
      status: 200,
      body: new ReadableStream<Uint8Array>({
        pull: (controller) => controller.enqueue(new Uint8Array(64 * 1024)),
        cancel: () => void cancelled++,
      }),
    }));
  server = createRouterServer(new Router().mount('/v1', routes), { guards: [requireBearer(TOKEN, ['/v1/open'])] });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const auth = { authorization: `Bearer ${TOKEN}` };

describe('routing and errors', () => {
  it('answers an unknown route or method with 404 naming both', async () => {
    const response = await fetch(`${base}/v1/echo`, { headers: auth });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: 'not_found', message: 'no route GET /v1/echo', details: [] } });
  });

  it('answers HEAD with the GET route, without a body', async () => {
    const response = await fetch(`${base}/v1/open`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String('{"open":true}'.length));
    expect(await response.text()).toBe('');
  });

  it('refuses a missing or wrong token with 401 before the route runs, and lets open paths through', async () => {
    expect((await fetch(`${base}/v1/refuse`)).status).toBe(401);
    expect((await fetch(`${base}/v1/refuse`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${base}/v1/open`)).status).toBe(200);
  });

  it('answers a thrown HttpError with its own status and body, anything else with 500', async () => {
    const refused = await fetch(`${base}/v1/refuse`, { headers: auth });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toEqual({ error: { code: 'busy', message: 'try later', details: [{ field: 'x', message: 'y' }] } });
    const bug = await fetch(`${base}/v1/bug`, { headers: auth });
    expect(bug.status).toBe(500);
    expect(((await bug.json()) as { error: { code: string } }).error.code).toBe('internal');
  });
});

describe('request bodies', () => {
  const post = (body: BodyInit, extra: RequestInit = {}) => fetch(`${base}/v1/echo`, { method: 'POST', headers: auth, body, ...extra });

  it('reads JSON up to the limit, and says which rule a bad body broke', async () => {
    const atLimit = JSON.stringify('x'.repeat(LIMIT - 2));
    expect(await (await post(atLimit)).json()).toEqual({ got: 'x'.repeat(LIMIT - 2) });
    const invalid = await post('{nope');
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: { code: 'invalid_json', message: 'echo: not JSON' } });
  });

  it('refuses a body over the limit with 413, announced or streamed without a length', async () => {
    const announced = await post(JSON.stringify('x'.repeat(LIMIT)));
    expect(announced.status).toBe(413);
    expect(await announced.json()).toMatchObject({ error: { code: 'too_large', message: 'echo: at most 1000 bytes' } });
    const chunked = await post(new Blob([new Uint8Array(50_000)]).stream(), { duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(413);
  });

  it('drops the rest of a body it refused, so the rest is never taken for a request and the connection serves the next one', async () => {
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    // The rest of the body holds what would be a request of its own if it were parsed as one.
    const body = `"${'x'.repeat(5000)}"\r\n\r\nGET /v1/health HTTP/1.1\r\nhost: t\r\n\r\n`;
    const announced = `POST /v1/echo HTTP/1.1\r\nhost: t\r\nauthorization: Bearer ${TOKEN}\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
    const next = `POST /v1/echo HTTP/1.1\r\nhost: t\r\nauthorization: Bearer ${TOKEN}\r\ncontent-type: application/json\r\ncontent-length: 4\r\nconnection: close\r\n\r\n"ok"`;
    socket.write(announced + next);
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    await new Promise((resolve) => socket.once('close', resolve));
    const statuses = [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    expect(statuses).toEqual([413, 200]);
  });

  it('lets a client that is still uploading finish after the 413, instead of resetting it mid-upload', async () => {
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    const errors: string[] = [];
    socket.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message));
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    const chunk = 'x'.repeat(10_000);
    socket.write(`POST /v1/echo HTTP/1.1\r\nhost: t\r\nauthorization: Bearer ${TOKEN}\r\ncontent-length: ${20 * chunk.length}\r\n\r\n${chunk}`);
    await expect.poll(() => received).toMatch(/^HTTP\/1\.1 413 /);
    for (let i = 1; i < 20; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      socket.write(chunk);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(errors).toEqual([]);
    expect(socket.destroyed).toBe(false);
    socket.destroy();
  });

  it('stops waiting for a body when the client goes away halfway through it', async () => {
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    socket.write(`POST /v1/record HTTP/1.1\r\nhost: t\r\nauthorization: Bearer ${TOKEN}\r\ncontent-length: 100\r\n\r\nonly ten b`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    await expect.poll(() => bodyOutcome).not.toBe('');
    expect(bodyOutcome).not.toBe('read');
  });
});

describe('streamed replies', () => {
  it('replays and follows a log as server-sent events, and lets go of it when the client leaves', async () => {
    log.append('before');
    const controller = new AbortController();
    const response = await fetch(`${base}/v1/events`, { headers: auth, signal: controller.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    let text = '';
    const readUntil = async (marker: string) => {
      while (!text.includes(marker)) text += new TextDecoder().decode((await reader.read()).value);
    };
    await readUntil('before');
    log.append('after');
    await readUntil('"after"');
    expect(text).toBe('event: note\ndata: {"seq":1,"what":"before"}\nid: 1\n\nevent: note\ndata: {"seq":2,"what":"after"}\nid: 2\n\n');
    expect(log.listeners.size).toBe(1);
    controller.abort();
    await expect.poll(() => log.listeners.size).toBe(0);
  });

  it('cancels a web stream body when the client leaves mid-reply', async () => {
    const controller = new AbortController();
    const response = await fetch(`${base}/v1/endless`, { headers: auth, signal: controller.signal });
    await response.body!.getReader().read();
    controller.abort();
    await expect.poll(() => cancelled).toBe(1);
  });
});

describe('memory', () => {
  it("answers the agent's and the vault's requests without loading Node's fetch", async () => {
    // A child process: this test runner has loaded fetch itself. It serves the agent's API and the
    // vault's control API, sends each a few requests, and reports whether it loaded fetch.
    const here = fileURLToPath(new URL('.', import.meta.url));
    const bundle = ensureBundle({
      entry: join(here, 'http-fetch-free.ts'), buildScript: join(here, 'http.test.ts'),
      bundle: join(mkdtempSync(join(tmpdir(), 'lap-fetch-free-')), 'fetch-free.cjs'), format: 'cjs',
    });
    const { stdout } = await promisify(execFile)(process.execPath, [bundle], { timeout: 30_000 });
    rmSync(dirname(bundle), { recursive: true, force: true });
    const report = JSON.parse(stdout) as { statuses: number[]; fetchLoaded: boolean };
    expect(report.statuses).toEqual([200, 503, 409, 200, 401, 200, 200, 400]);
    expect(report.fetchLoaded).toBe(false);
  });
});
