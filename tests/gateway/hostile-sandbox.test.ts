// A sandbox's agent runs as the sandbox's own user, so code in the sandbox can kill it and answer on its
// port instead, or take it over with ptrace. The gateway reads those answers (control calls, refusals,
// turn streams, the event stream) and must stay up, bounded and honest whatever comes back. Here a real
// HTTP server on loopback plays the hostile agent; the gateway side is the real control client, turn
// reader and event pump over a real SQLite store.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLines } from '../../sandbox-agent/lines.ts';
import type { SandboxHandle } from '../../gateway/runtime/types.ts';
import { agentControl, ControlError } from '../../gateway/sessions/control-client.ts';
import { EventPump } from '../../gateway/sessions/event-pump.ts';
import { turnEvents, watchStoredTurnEnds } from '../../gateway/sessions/messages.ts';
import { SessionEventLog } from '../../gateway/sessions/event-log.ts';
import { openStore } from '../../gateway/store/sqlite.ts';
import type { Store } from '../../gateway/store/types.ts';

const MiB = 1024 * 1024;
/** The hostile agent stops here, so that a reader without a bound ends the test instead of the machine. */
const FLOOD_LIMIT = 256 * MiB;
/** Far below the flood, far above the readers' bounds (1 MiB answers, 16 MiB events) plus socket buffers. */
const READ_BOUND = 64 * MiB;

/** Writes `first` and then an endless run of one byte, until the reader hangs up; resolves what was written. */
function flood(res: ServerResponse, first: string, filler: string): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, filler);
  res.write(first);
  let written = first.length;
  return new Promise((resolve) => {
    const pump = () => {
      while (written < FLOOD_LIMIT && !res.destroyed) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.once('close', () => resolve(written));
    pump();
  });
}

describe('a hostile sandbox agent', () => {
  let server: Server;
  let store: Store;
  let dataDir: string;
  let handle: SandboxHandle;
  /** Every flood the hostile agent began: which request it answered, and how many bytes it got out. */
  const floods: { url: string; written: Promise<number> }[] = [];
  const floodFor = (url: string) => floods.findLast((f) => f.url.startsWith(url))?.written;
  /** When set, a message is answered with these turn events instead of a flood. */
  let scriptedTurn: object[] | undefined;
  /** When set, the event stream sends these and stays open instead of flooding. */
  let scripted: { seq: number; ts: string; type: string; data: unknown }[] | undefined;
  const newSession = () => store.sessions.create({ agentId: 'agt_0000000000000001', ownerKeyId: 'key_0000000000000001', title: null, harness: 'shell' }, {});
  const noHooks = { onAgentEvent: () => {}, onAuditEvent: () => {}, onEventLimit: () => {} };

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/v1/events/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (scripted) return void res.write(scripted.map((e) => `id: ${e.seq}\ndata: ${JSON.stringify(e)}\n\n`).join(''));
        const event = JSON.stringify({ seq: 1, ts: new Date().toISOString(), type: 'phase', data: { phase: 'before the flood' } });
        floods.push({ url: req.url, written: flood(res, `id: 1\nevent: phase\ndata: ${event}\n\ndata: `, 'x') });
      } else if (req.url === '/v1/message' && scriptedTurn) {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.end(scriptedTurn.map((e) => `${JSON.stringify(e)}\n`).join(''));
      } else if (req.url === '/v1/message') {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        floods.push({ url: req.url, written: flood(res, '{"type":"message.delta","data":{"text":"', 'z') });
      } else if (req.url === '/v1/message/abort') {
        res.writeHead(409, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'Not A Code', message: 'm'.repeat(500_000) } }));
      } else if (req.url?.startsWith('/v1/events?')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        floods.push({ url: req.url, written: flood(res, '{"lastActivity":"', '9') });
      } else {
        res.writeHead(500, { 'content-type': 'application/json' });
        floods.push({ url: req.url ?? '', written: flood(res, '{"error":{"code":"x","message":"', 'y') });
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const agentUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    handle = { id: 'sb_hostile', runtime: 'test', agentUrl, agentToken: 'agent-token', vaultUrl: agentUrl, vaultToken: 'vault-token', caPem: '', paths: { workspace: '/', caFile: '/' }, detail: {} };
    dataDir = mkdtempSync(join(tmpdir(), 'lap-hostile-'));
    store = openStore({ dataDir, secretKey: randomBytes(32) });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('an endless control answer is refused after a bounded read, on success and on error', async () => {
    await expect(agentControl.lastActivity(handle)).rejects.toThrow(/larger than 1048576 bytes/);
    expect(await floodFor('/v1/events?')).toBeLessThan(READ_BOUND);
    await expect(agentControl.restartHarness(handle)).rejects.toThrow(/answered 500/);
    expect(await floodFor('/v1/harness/restart')).toBeLessThan(READ_BOUND);
  });

  it('a refusal is quoted short, and only with a code of the API\'s shape', async () => {
    const refused = (await agentControl.abortTurn(handle).catch((err: unknown) => err)) as ControlError;
    expect(refused).toBeInstanceOf(ControlError);
    expect(refused.status).toBe(409);
    expect(refused.remote).toEqual({ code: undefined, message: 'm'.repeat(1000) });
  });

  it('a turn stream that never ends its line is cut off after a bounded read', async () => {
    const response = await agentControl.message(handle, { text: 'hi' }, AbortSignal.timeout(60_000));
    await expect(async () => {
      for await (const _line of readLines(response.body!));
    }).rejects.toThrow(/a line longer than 16777216 characters/);
    expect(await floodFor('/v1/message')).toBeLessThan(READ_BOUND);
  });

  it('an event stream that never ends its event is cut off after a bounded read; what came before is kept', async () => {
    const session = newSession();
    const events = new SessionEventLog(store);
    const pump = new EventPump({ store, events, hooks: noHooks, warn: () => {}, maxEventsPerSession: 1_000_000 });
    pump.start(session.id, handle);
    try {
      await expect.poll(() => floodFor('/v1/events/stream'), { timeout: 10_000 }).toBeDefined();
      expect(await floodFor('/v1/events/stream')).toBeLessThan(READ_BOUND);
      expect(events.since(session.id, 0, 10).map((e) => e.data)).toContainEqual({ phase: 'before the flood' });
    } finally {
      pump.stop(session.id);
    }
  });

  it("cannot write the vault's audit or the session's status into the event log, nor malformed events", async () => {
    const ts = new Date().toISOString();
    scripted = [
      { seq: 1, ts, type: 'vault.request', data: { host: 'api.github.com', decision: 'allow', credentials: ['GITHUB_TOKEN'] } },
      { seq: 2, ts, type: 'session.status', data: { status: 'dead' } },
      { seq: 3, ts, type: 'phase', data: ['not', 'an', 'object'] },
      { seq: 4, ts: 'yesterday', type: 'phase', data: {} },
      { seq: 5, ts, type: 'phase', data: { phase: 'genuine', status: 'done' } },
    ];
    const session = newSession();
    const events = new SessionEventLog(store);
    const warnings: object[] = [];
    const pump = new EventPump({ store, events, hooks: noHooks, warn: (details) => warnings.push(details), maxEventsPerSession: 1_000_000 });
    pump.start(session.id, handle);
    try {
      await expect.poll(() => store.events.cursor(session.id, 'agent'), { timeout: 10_000 }).toBe(5);
      expect(events.since(session.id, 0, 10).map(({ type, data }) => ({ type, data }))).toEqual([{ type: 'phase', data: { phase: 'genuine', status: 'done' } }]);
      expect(warnings).toEqual([1, 2, 3, 4].map((seq) => ({ session: session.id, seq, type: scripted![seq - 1]!.type })));
    } finally {
      pump.stop(session.id);
      scripted = undefined;
    }
  });

  it("a turn stream is cut at the first event that is not a turn event, with an error of the gateway's own", async () => {
    scriptedTurn = [
      { type: 'turn.started', data: { turn: 't1' } },
      { type: 'vault.request', data: { turn: 't1', host: 'forged.example' } },
      { type: 'turn.finished', data: { turn: 't1', text: 'never reached' } },
    ];
    const session = newSession();
    const stored = watchStoredTurnEnds(new SessionEventLog(store), session.id);
    try {
      const response = await agentControl.message(handle, { text: 'hi' }, AbortSignal.timeout(10_000));
      const seen: { type: string; data: Record<string, unknown> }[] = [];
      for await (const event of turnEvents(response, stored, AbortSignal.timeout(10_000))) seen.push(event);
      expect(seen.map((e) => e.type)).toEqual(['turn.started', 'error']);
      expect(seen[1]!.data).toEqual({ turn: 't1', message: 'the stream from the sandbox broke off: an event that is not a turn event (vault.request); GET …/events has what the turn did' });
    } finally {
      stored.stop();
      scriptedTurn = undefined;
    }
  });
});
