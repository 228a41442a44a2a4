// The vault's control API (gateway → vault) end to end over HTTP, against a vault running in this
// process with a fake upstream: auth, validation with errors naming the field, refused writes that
// change nothing, stubs, no secret value in any response, the CA, the audit trail and its SSE stream.
import { X509Certificate } from 'node:crypto';
import { connect as connectTls } from 'node:tls';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent, CredentialView, EgressPolicy } from '../../vault/types.ts';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.ts';
import { type LoopbackVault, connectThroughVault, startLoopbackVault } from '../support/loopback-vault.ts';
import { controlRequest, setCredentials, setPolicy, waitForAudit } from '../support/vault-client.ts';

const API = 'api.example.test';
const PLAIN = 'plain.example.test';
const GITHUB_VALUE = 'ghp_RealGithubSecret0123456789abcdefABCD';
const ANTHROPIC_VALUE = 'sk-ant-api03-RealAnthropicSecret0123456789abcdefghij';
const ORIGINAL = [{ name: 'GITHUB_TOKEN', value: GITHUB_VALUE, hosts: [API] }];

interface ErrorBody {
  error: { code: string; message: string; details: { field: string; message: string }[] };
}

let upstream: FakeUpstream;
let v: LoopbackVault;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  v = await startLoopbackVault({
    hosts: { [API]: `127.0.0.1:${upstream.httpsPort}`, [PLAIN]: `127.0.0.1:${upstream.httpPort}` },
    upstreamCaPem: upstream.caPem,
  });
});

afterAll(async () => {
  await v?.close();
  await upstream?.close();
});

const allowTestHosts = () => setPolicy(v, { default: 'allow', allowPrivate: [API, PLAIN] });

async function rawRequest(method: string, path: string, init: { token?: string | null; body?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...init.headers };
  const token = init.token === undefined ? v.controlToken : init.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${v.controlUrl}${path}`, { method, headers, body: init.body });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}

async function expectError(res: { status: number; text: string }, status: number, code: string): Promise<ErrorBody['error']> {
  expect(res.status).toBe(status);
  const body = JSON.parse(res.text) as ErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toEqual({ code, message: expect.any(String), details: expect.any(Array) });
  return body.error;
}

async function currentCredentials(): Promise<CredentialView[]> {
  const res = await controlRequest(v, 'GET', '/v1/credentials');
  return ((await res.json()) as { credentials: CredentialView[] }).credentials;
}

/** A GET through the vault's TLS listener to the fake upstream, which echoes the token it received. */
async function githubUserThroughVault(stub: string): Promise<{ status: number; seenToken: string }> {
  const client = connectThroughVault('https', API, v.vault.ports.tls, v.caPem);
  const response = await client.client.request({ method: 'GET', path: '/user', headers: { authorization: `Bearer ${stub}` } });
  const body = await response.body.text();
  await client.client.close();
  return { status: response.statusCode, seenToken: response.statusCode === 200 ? (JSON.parse(body) as { seen_token: string }).seen_token : '' };
}

/** A plain-HTTP request through the vault; one audit event each. */
async function plainRequestThroughVault(path: string): Promise<number> {
  const client = connectThroughVault('http', PLAIN, v.vault.ports.http, v.caPem);
  const { status } = await client.get(path);
  await client.client.close();
  return status;
}

describe('auth', () => {
  it('answers /v1/health without a token', async () => {
    const res = await rawRequest('GET', '/v1/health', { token: null });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ status: 'ok', session: 'test-session' });
  });

  const withLastCharacterChanged = (token: string) => token.slice(0, -1) + (token.endsWith('0') ? '1' : '0');

  it.each([
    ['no token', () => null],
    ['a wrong token', () => 'x'.repeat(64)],
    ['the token with its last character changed', () => withLastCharacterChanged(v.controlToken)],
  ])('refuses every other route with %s: 401 unauthorized', async (_label, token) => {
    for (const [method, path] of [['GET', '/v1/credentials'], ['PUT', '/v1/credentials'], ['GET', '/v1/policy'], ['GET', '/v1/ca.pem'], ['GET', '/v1/audit'], ['GET', '/v1/audit/stream']] as const) {
      const res = await rawRequest(method, path, { token: token(), body: method === 'PUT' ? JSON.stringify({ credentials: [] }) : undefined });
      const error = await expectError(res, 401, 'unauthorized');
      expect(error.message).toMatch(/bearer token/);
    }
  });

  it('refuses a token sent without the Bearer scheme', async () => {
    const res = await rawRequest('GET', '/v1/policy', { token: null, headers: { authorization: v.controlToken } });
    await expectError(res, 401, 'unauthorized');
  });

  it('answers an unknown route with 404 not_found in the error shape', async () => {
    await expectError(await rawRequest('GET', '/v1/nothing-here'), 404, 'not_found');
  });
});

describe('PUT /v1/credentials', () => {
  let originalStub: string;

  beforeEach(async () => {
    await allowTestHosts();
    originalStub = (await setCredentials(v, ORIGINAL))[0]!.stub;
  });

  const putCredentials = (body: unknown) => rawRequest('PUT', '/v1/credentials', { body: JSON.stringify(body) });
  const one = (overrides: Record<string, unknown>) => ({ credentials: [{ name: 'NEW_TOKEN', value: 'new-secret-value-0123456789', hosts: [API], ...overrides }] });

  it.each([
    ['without hosts', one({ hosts: undefined }), 'credentials.0.hosts', /expected array/],
    ['with an empty host list', one({ hosts: [] }), 'credentials.0.hosts', /at least one host/],
    ['with CR/LF in the value', one({ value: 'abc\r\nX-Injected: yes' }), 'credentials.0.value', /control characters/],
    ['with LF alone in the value', one({ value: 'abc\nrest' }), 'credentials.0.value', /control characters/],
    ['with an empty value', one({ value: '' }), 'credentials.0.value', /./],
    ['with a host pattern that has a port', one({ hosts: [API, 'api.github.com:443'] }), 'credentials.0.hosts.1', /host pattern "api\.github\.com:443" must not include a port/],
    ['with the pattern *', one({ hosts: ['*'] }), 'credentials.0.hosts.0', /host pattern "\*" would match every host/],
    ['with a URL for a host', one({ hosts: ['https://api.github.com/'] }), 'credentials.0.hosts.0', /must be a host name, not a URL/],
    ['with an unknown place', one({ places: ['cookie'] }), 'credentials.0.places.0', /./],
    ['with a bad name', one({ name: '1TOKEN' }), 'credentials.0.name', /letters, digits/],
    ['with a stub that is too short', one({ stub: 'short' }), 'credentials.0.stub', /22-512/],
    ['without a credentials list', { creds: [] }, 'credentials', /expected array/],
  ])('refuses a credential %s with 400 naming %s, and keeps the previous set', async (_label, body, field, message) => {
    const error = await expectError(await putCredentials(body), 400, 'invalid_request');
    expect(error.message.startsWith(`${field}: `)).toBe(true);
    expect(error.details).toContainEqual({ field, message: expect.stringMatching(message) });
    expect(await currentCredentials()).toEqual([{ name: 'GITHUB_TOKEN', stub: originalStub, hosts: [API], places: ['header'] }]);
  });

  it('refuses duplicate names, naming the duplicate, and keeps the previous set', async () => {
    const res = await putCredentials({ credentials: [ORIGINAL[0], { name: 'GITHUB_TOKEN', value: 'another-secret-0123456789', hosts: [API] }] });
    const error = await expectError(res, 400, 'invalid_request');
    expect(error.message).toMatch(/duplicate name GITHUB_TOKEN/);
    expect((await currentCredentials()).map((c) => c.stub)).toEqual([originalStub]);
  });

  it('refuses a body that is not JSON with 400 invalid_json', async () => {
    const res = await rawRequest('PUT', '/v1/credentials', { body: '{"credentials": [' });
    await expectError(res, 400, 'invalid_json');
    expect((await currentCredentials()).map((c) => c.stub)).toEqual([originalStub]);
  });

  it('loses nothing on a refused PUT: the old stub is still swapped for the old value on the wire', async () => {
    await putCredentials(one({ hosts: [] }));
    await rawRequest('PUT', '/v1/credentials', { body: 'not json' });
    await putCredentials({ credentials: [{ name: 'GITHUB_TOKEN', value: 'replacement-0123456789', hosts: ['*'] }] });
    expect(await githubUserThroughVault(originalStub)).toEqual({ status: 200, seenToken: originalStub });
    expect(upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${GITHUB_VALUE}`);
  });

  it('mints stubs that keep the well-known prefix, and echoes a given stub', async () => {
    const givenStub = `ghp_${'A'.repeat(36)}`;
    const res = await putCredentials({
      credentials: [
        { name: 'ANTHROPIC_API_KEY', value: ANTHROPIC_VALUE, hosts: [API] },
        { name: 'GITHUB_TOKEN', value: GITHUB_VALUE, hosts: [API], stub: givenStub, places: ['header', 'query'] },
      ],
    });
    expect(res.status).toBe(200);
    const [anthropic, github] = (JSON.parse(res.text) as { credentials: CredentialView[] }).credentials as [CredentialView, CredentialView];
    expect(anthropic.stub.startsWith('sk-ant-api03-')).toBe(true);
    expect(anthropic.stub).toHaveLength(ANTHROPIC_VALUE.length);
    expect(anthropic.stub).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(anthropic.stub).not.toBe(ANTHROPIC_VALUE);
    expect(github).toEqual({ name: 'GITHUB_TOKEN', stub: givenStub, hosts: [API], places: ['header', 'query'] });
    expect(await currentCredentials()).toEqual([anthropic, github]);
  });

  it('never returns a value, from PUT or GET', async () => {
    const put = await putCredentials({ credentials: [{ name: 'ANTHROPIC_API_KEY', value: ANTHROPIC_VALUE, hosts: [API] }, ORIGINAL[0]] });
    const get = await rawRequest('GET', '/v1/credentials');
    for (const res of [put, get]) {
      expect(res.status).toBe(200);
      for (const value of [ANTHROPIC_VALUE, GITHUB_VALUE]) expect(res.text).not.toContain(value);
      for (const credential of (JSON.parse(res.text) as { credentials: Record<string, unknown>[] }).credentials) {
        expect(Object.keys(credential).sort()).toEqual(['hosts', 'name', 'places', 'stub']);
      }
    }
  });
});

describe('PUT /v1/policy', () => {
  const previous: EgressPolicy = { default: 'deny', allow: ['*.example.test'], deny: ['bad.example.test'], allowPrivate: [API, PLAIN] };

  beforeEach(async () => {
    await setPolicy(v, previous);
  });

  const putPolicy = (body: unknown) => rawRequest('PUT', '/v1/policy', { body: JSON.stringify(body) });

  it.each([
    ['an unknown default', { default: 'maybe' }, 'default', /./],
    ['* in allow', { allow: ['*'] }, 'allow.0', /would match every host/],
    ['a URL in deny', { deny: ['example.test', 'http://evil.test/'] }, 'deny.1', /must be a host name, not a URL/],
    ['a one-label wildcard in allowPrivate', { allowPrivate: ['*.test'] }, 'allowPrivate.0', /top-level domain/],
    ['a string instead of a list', { allow: 'example.test' }, 'allow', /expected array/],
  ])('refuses %s with 400 naming the field, and keeps the previous policy', async (_label, body, field, message) => {
    const error = await expectError(await putPolicy(body), 400, 'invalid_request');
    expect(error.details).toContainEqual({ field, message: expect.stringMatching(message) });
    expect(await (await controlRequest(v, 'GET', '/v1/policy')).json()).toEqual(previous);
  });

  it('refuses a body that is not JSON with 400 invalid_json', async () => {
    await expectError(await rawRequest('PUT', '/v1/policy', { body: 'default=allow' }), 400, 'invalid_json');
  });

  it('fills defaults for omitted fields and returns what it stored', async () => {
    const res = await putPolicy({ deny: ['bad.example.test'] });
    const expected = { default: 'allow', allow: [], deny: ['bad.example.test'], allowPrivate: [] };
    expect(JSON.parse(res.text)).toEqual(expected);
    expect(await (await controlRequest(v, 'GET', '/v1/policy')).json()).toEqual(expected);
  });

  it('takes effect on the next request through the vault', async () => {
    await putPolicy({ default: 'allow', deny: [PLAIN], allowPrivate: [API, PLAIN] });
    expect(await plainRequestThroughVault('/user')).toBe(403);
    await putPolicy({ default: 'allow', allowPrivate: [API, PLAIN] });
    expect(await plainRequestThroughVault('/user')).toBe(200);
  });
});

describe('GET /v1/ca.pem', () => {
  it('is the CA certificate the TLS listener chains to, and no private key', async () => {
    const res = await rawRequest('GET', '/v1/ca.pem');
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('application/x-pem-file');
    expect(res.text).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n?$/);
    expect(res.text).not.toMatch(/PRIVATE KEY/);
    const cert = new X509Certificate(res.text);
    expect(cert.ca).toBe(true);
    const socket = connectTls({ port: v.vault.ports.tls, host: '127.0.0.1', servername: API, ca: res.text });
    await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    expect(socket.authorized).toBe(true);
    socket.destroy();
  });
});

describe('audit', () => {
  beforeAll(allowTestHosts);

  it('GET /v1/audit?after=N returns the events after N, oldest first', async () => {
    const before = await auditTail();
    for (const path of ['/audit-a', '/audit-b', '/audit-c']) await plainRequestThroughVault(path);
    const c = await waitForAudit(v, (e) => e.path === '/audit-c');
    const after = await auditAfter(String(before));
    expect(after.map((e) => e.path)).toEqual(['/audit-a', '/audit-b', '/audit-c']);
    expect(after.map((e) => e.seq)).toEqual([before + 1, before + 2, before + 3]);
    expect(await auditAfter(String(c.seq))).toEqual([]);
    expect((await auditAfter(String(c.seq - 1))).map((e) => e.path)).toEqual(['/audit-c']);
    expect((await auditAfter('not-a-number')).length).toBe(c.seq);
  });

  it('GET /v1/audit/stream replays from Last-Event-ID, then streams live events with id = seq', async () => {
    for (const path of ['/stream-a', '/stream-b']) await plainRequestThroughVault(path);
    const a = await waitForAudit(v, (e) => e.path === '/stream-a');
    const abort = new AbortController();
    const res = await fetch(`${v.controlUrl}/v1/audit/stream`, { headers: { authorization: `Bearer ${v.controlToken}`, 'last-event-id': String(a.seq) }, signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = readSse(res.body!);

    const replayed = await events.next();
    expect(replayed).toMatchObject({ id: String(a.seq + 1), event: 'audit' });
    expect((JSON.parse(replayed.data) as AuditEvent).path).toBe('/stream-b');

    await plainRequestThroughVault('/stream-live');
    const live = await events.next();
    const event = JSON.parse(live.data) as AuditEvent;
    expect(event).toMatchObject({ path: '/stream-live', host: PLAIN, method: 'GET', decision: 'allow' });
    expect(live.id).toBe(String(event.seq));
    abort.abort();
  });
});

async function auditAfter(after: string): Promise<AuditEvent[]> {
  const res = await rawRequest('GET', `/v1/audit?after=${after}`);
  return (JSON.parse(res.text) as { events: AuditEvent[] }).events;
}

async function auditTail(): Promise<number> {
  return (await auditAfter('0')).at(-1)?.seq ?? 0;
}

interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/** Server-sent events off a fetch body, one message per next(); fails after 10 s without one. */
function readSse(body: ReadableStream<Uint8Array>): { next(): Promise<SseMessage> } {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const readWithin = (ms: number) =>
    Promise.race([reader.read(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no server-sent event within ${ms} ms`)), ms).unref())]);
  return {
    async next() {
      for (let end = buffer.indexOf('\n\n'); ; end = buffer.indexOf('\n\n')) {
        if (end === -1) {
          const { value, done } = await readWithin(10_000);
          if (done) throw new Error('the event stream ended');
          buffer += decoder.decode(value, { stream: true });
          continue;
        }
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!block.startsWith(':')) return parseSseBlock(block);
      }
    },
  };
}

function parseSseBlock(block: string): SseMessage {
  const message: SseMessage = { data: '' };
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':');
    const field = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') message.id = value;
    else if (field === 'event') message.event = value;
    else if (field === 'data') message.data += value;
  }
  return message;
}
