// The REST API over a real HTTP server and a real SQLite store: every documented route walked, keys,
// secrets that never come back, agents, the OpenAPI document and /docs.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '../../gateway/api/app.ts';
import { requireKey } from '../../gateway/api/auth.ts';
import type { GatewayEnv } from '../../gateway/api/env.ts';
import type { RouteSpec } from '../../gateway/api/route.ts';
import { prepareValidRequests, type ValidRequest, WALK_SECRET_VALUE } from './support/api-fixtures.ts';
import { rawExchange } from '../support/raw-http.ts';
import { type ApiServer, startApiServer } from './support/api-server.ts';
import { type Answer, fillPath, isErrorShape, send, type RequestOptions } from './support/http.ts';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const AGENTS = '/api/v1/managed_agents/agents';

let server: ApiServer;
let doc: any;
let fixtures: Record<string, ValidRequest>;
/** Every body any test received, to check no secret value ever came back. */
const bodies: string[] = [];
/** Every secret value a test stored. */
const secretValues = new Set<string>([WALK_SECRET_VALUE]);

async function call(method: string, path: string, options: RequestOptions = {}): Promise<Answer> {
  const answer = await send(server.url, method, path, options);
  bodies.push(answer.text, [...answer.headers].map(([k, v]) => `${k}: ${v}`).join('\n'));
  return answer;
}

const admin = (options: RequestOptions = {}) => ({ key: server.masterKey, ...options });

function operations(): { method: string; path: string; op: any }[] {
  return Object.entries(doc.paths as Record<string, any>).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({ method, path, op: item[method] })),
  );
}

function routeOf(method: string, path: string): RouteSpec | undefined {
  return apiRoutes.find((route) => route.method === method && route.path === path);
}

beforeAll(async () => {
  server = await startApiServer();
  fixtures = prepareValidRequests(server.store);
  doc = (await call('GET', '/api/v1/openapi.json')).json;
});

afterAll(async () => {
  await server?.close();
});

describe('every route in the OpenAPI document', () => {
  it('has a valid request to try', () => {
    const missing = operations().filter(({ op }) => !fixtures[op.operationId]).map(({ op }) => op.operationId);
    expect(missing).toEqual([]);
    expect(operations().length).toBeGreaterThanOrEqual(15);
  });

  it('answers 401 in the error shape without a key, where a key is needed', async () => {
    for (const { method, path, op } of operations()) {
      if (op.security.length === 0) continue;
      const fixture = fixtures[op.operationId]!;
      const answer = await call(method.toUpperCase(), fillPath(path, fixture.params), { body: fixture.body });
      expect({ op: op.operationId, status: answer.status }).toEqual({ op: op.operationId, status: 401 });
      expect(isErrorShape(answer.json)).toBe(true);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="lap"/);
      expect(op.responses['401']).toBeDefined();
    }
  });

  it('answers a documented success status, with a body matching the documented schema, to a valid request', async () => {
    // Deletions last, so the other operations still find what they read.
    const ordered = operations().sort((a, b) => Number(a.method === 'delete') - Number(b.method === 'delete'));
    for (const { method, path, op } of ordered) {
      const fixture = fixtures[op.operationId]!;
      const answer = await call(method.toUpperCase(), fillPath(path, fixture.params), admin({ body: fixture.body }));
      const documented = Object.keys(op.responses).filter((status) => status.startsWith('2')).map(Number);
      expect({ op: op.operationId, status: answer.status, documented: documented.includes(answer.status) }).toEqual({
        op: op.operationId,
        status: answer.status,
        documented: true,
      });
      const schema = routeOf(method, path)?.responses[answer.status]?.schema;
      if (schema) expect(schema.safeParse(answer.json).error?.issues ?? []).toEqual([]);
    }
  });
});

describe('API keys', () => {
  it('creates, lists and revokes keys; a revoked key gets 401; a non-admin key gets 403 on admin routes', async () => {
    const created = await call('POST', '/api/v1/api_keys', admin({ body: { name: 'ci' } }));
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: 'ci', admin: false, revoked_at: null });
    expect(created.json.key).toMatch(/^lap_/);
    expect(created.json.key.slice(4, 4 + created.json.prefix.length)).toBe(created.json.prefix);
    const token: string = created.json.key;

    const list = await call('GET', '/api/v1/api_keys', admin());
    const listed = list.json.data.find((k: any) => k.id === created.json.id);
    expect(listed).toMatchObject({ name: 'ci', prefix: created.json.prefix });
    expect(list.text).not.toContain(token);
    expect((await call('GET', `/api/v1/api_keys/${created.json.id}`, admin())).text).not.toContain(token);

    expect((await call('GET', '/api/v1/secrets', { key: token })).status).toBe(200);
    for (const [method, path] of [['GET', '/api/v1/api_keys'], ['POST', '/api/v1/api_keys'], ['GET', `/api/v1/api_keys/${created.json.id}`], ['DELETE', `/api/v1/api_keys/${created.json.id}`]] as const) {
      const refused = await call(method, path, { key: token, body: method === 'POST' ? { name: 'x' } : undefined });
      expect({ method, path, status: refused.status }).toEqual({ method, path, status: 403 });
      expect(refused.json.error.code).toBe('forbidden');
    }

    const adminKey = (await call('POST', '/api/v1/api_keys', admin({ body: { name: 'ops', admin: true } }))).json.key;
    expect((await call('GET', '/api/v1/api_keys', { key: adminKey })).status).toBe(200);

    const revoked = await call('DELETE', `/api/v1/api_keys/${created.json.id}`, { key: adminKey });
    expect(revoked.status).toBe(200);
    expect(revoked.json.revoked_at).not.toBeNull();
    const after = await call('GET', '/api/v1/secrets', { key: token });
    expect(after.status).toBe(401);
    expect(isErrorShape(after.json)).toBe(true);
    expect((await call('DELETE', `/api/v1/api_keys/${created.json.id}`, admin())).status).toBe(200);
    expect((await call('GET', '/api/v1/api_keys/key_0000000000000000', admin())).status).toBe(404);
  });

  it('refuses malformed Authorization headers and tokens it does not know', async () => {
    for (const authorization of ['', 'Bearer', `Basic ${Buffer.from(`x:${server.masterKey}`).toString('base64')}`, `Token ${server.masterKey}`, `Bearer ${server.masterKey}x`, `Bearer ${server.masterKey} extra`, `Bearer ${'a'.repeat(5000)}`]) {
      const answer = await call('GET', '/api/v1/secrets', { headers: { authorization } });
      expect({ authorization: authorization.slice(0, 40), status: answer.status }).toEqual({ authorization: authorization.slice(0, 40), status: 401 });
      expect(isErrorShape(answer.json)).toBe(true);
    }
    expect((await call('GET', '/api/v1/secrets', { headers: { authorization: `bearer ${server.masterKey}` } })).status).toBe(200);
  });
});

describe('requireKey, for routes outside the registry', () => {
  it('lets the master key and stored keys through as their records, and answers 401 otherwise', async () => {
    const app = new Hono<GatewayEnv>();
    app.use('*', requireKey(server.store, server.masterKey));
    app.get('/whoami', (c) => c.json({ id: c.get('key').id, admin: c.get('key').admin }));
    const plain = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
    await new Promise((resolve) => plain.once('listening', resolve));
    try {
      const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
      const { record, token } = server.store.apiKeys.create('middleware', false);
      expect((await send(url, 'GET', '/whoami', { key: server.masterKey })).json).toEqual({ id: 'master', admin: true });
      expect((await send(url, 'GET', '/whoami', { key: token })).json).toEqual({ id: record.id, admin: false });
      const refused = await send(url, 'GET', '/whoami', { key: 'lap_nope' });
      expect(refused.status).toBe(401);
      expect(isErrorShape(refused.json)).toBe(true);
      expect(refused.headers.get('www-authenticate')).toContain('invalid_token');
    } finally {
      plain.closeAllConnections();
      await new Promise((resolve) => plain.close(resolve));
    }
  });
});

describe('secrets', () => {
  it('stores values write-only: create, replace, get, list, delete', async () => {
    const first = 'ghp_first0123456789abcdefABCDEF';
    const second = 'ghp_second0123456789abcdefABCDEF';
    secretValues.add(first).add(second);
    const created = await call('PUT', '/api/v1/secrets/GH_TOKEN', admin({ body: { value: first } }));
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: 'GH_TOKEN' });
    expect(Object.keys(created.json).sort()).toEqual(['created_at', 'id', 'name', 'updated_at']);
    const replaced = await call('PUT', '/api/v1/secrets/GH_TOKEN', admin({ body: { value: second } }));
    expect(replaced.status).toBe(200);
    expect(replaced.json.id).toBe(created.json.id);
    expect(server.store.secrets.reveal('GH_TOKEN')).toBe(second);
    expect((await call('GET', '/api/v1/secrets/GH_TOKEN', admin())).json.name).toBe('GH_TOKEN');
    expect((await call('GET', '/api/v1/secrets', admin())).json.data.map((s: any) => s.name)).toContain('GH_TOKEN');
    expect((await call('DELETE', '/api/v1/secrets/GH_TOKEN', admin())).status).toBe(204);
    expect((await call('GET', '/api/v1/secrets/GH_TOKEN', admin())).status).toBe(404);
  });

  it('refuses bad names, empty and oversized values, naming the field', async () => {
    const badName = await call('PUT', '/api/v1/secrets/1abc', admin({ body: { value: 'x' } }));
    expect(badName.status).toBe(400);
    expect(badName.json.error.details).toEqual([expect.objectContaining({ field: 'name' })]);
    const empty = await call('PUT', '/api/v1/secrets/OK_NAME', admin({ body: { value: '' } }));
    expect(empty.json.error.details).toEqual([expect.objectContaining({ field: 'value' })]);
    const big = await call('PUT', '/api/v1/secrets/OK_NAME', admin({ body: { value: 'x'.repeat(64 * 1024 + 1) } }));
    expect(big.status).toBe(400);
    expect(big.json.error.message).toContain('value');
    secretValues.add('x'.repeat(64 * 1024));
    expect((await call('PUT', '/api/v1/secrets/OK_NAME', admin({ body: { value: 'x'.repeat(64 * 1024) } }))).status).toBe(201);
  });

  it('refuses to delete a secret an agent uses', async () => {
    secretValues.add('sk-ant-used-by-agent-000111');
    await call('PUT', '/api/v1/secrets/USED', admin({ body: { value: 'sk-ant-used-by-agent-000111' } }));
    await call('POST', AGENTS, admin({ body: { name: 'uses-secret', harness: 'shell', credentials: [{ name: 'ANTHROPIC_API_KEY', secret: 'USED' }] } }));
    const refused = await call('DELETE', '/api/v1/secrets/USED', admin());
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toContain('uses-secret');
    expect(server.store.secrets.get('USED')).toBeDefined();
  });
});

describe('agents', () => {
  it('creates with defaults for known credentials, gets by id and name, updates partially, deletes', async () => {
    await call('PUT', '/api/v1/secrets/GH', admin({ body: { value: 'ghp_agentdefaults000000000000' } }));
    await call('PUT', '/api/v1/secrets/LLM', admin({ body: { value: 'sk-litellm-000000000000' } }));
    secretValues.add('ghp_agentdefaults000000000000').add('sk-litellm-000000000000');
    const created = await call('POST', AGENTS, admin({
      body: {
        name: 'pr-fixer',
        harness: 'claude-code',
        model: 'claude-sonnet-4',
        repository: 'https://github.com/acme/app.git',
        branch: 'main',
        env_vars: { LITELLM_API_BASE: 'https://llm.internal.example:4000/v1', DEBUG: '1' },
        credentials: [
          { name: 'GITHUB_TOKEN', secret: 'GH' },
          { name: 'ANTHROPIC_API_KEY', secret: 'LLM' },
          { name: 'OPENAI_API_KEY', secret: 'LLM', places: ['header', 'query'] },
          { name: 'LITELLM_API_KEY', secret: 'LLM' },
          { name: 'CUSTOM_TOKEN', secret: 'LLM', hosts: ['api.example.com', '*.example.org'] },
        ],
        egress_policy: { default: 'deny', allow: ['*.github.com'] },
      },
    }));
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${AGENTS}/${created.json.id}`);
    expect(created.json).toMatchObject({
      name: 'pr-fixer',
      harness: 'claude-code',
      prompt: null,
      idle_timeout_seconds: 86400,
      egress_policy: { default: 'deny', allow: ['*.github.com'], deny: [], allow_private: [] },
      credentials: [
        { name: 'GITHUB_TOKEN', secret: 'GH', hosts: ['github.com', '*.github.com'], places: ['header'] },
        { name: 'ANTHROPIC_API_KEY', hosts: ['api.anthropic.com'] },
        { name: 'OPENAI_API_KEY', hosts: ['api.openai.com'], places: ['header', 'query'] },
        { name: 'LITELLM_API_KEY', hosts: ['llm.internal.example'] },
        { name: 'CUSTOM_TOKEN', hosts: ['api.example.com', '*.example.org'] },
      ],
    });
    const id: string = created.json.id;
    expect(id).toMatch(/^agt_[0-9a-f]{16}$/);
    expect((await call('GET', `${AGENTS}/${id}`, admin())).json).toEqual(created.json);
    expect((await call('GET', `${AGENTS}/pr-fixer`, admin())).json).toEqual(created.json);
    expect((await call('GET', AGENTS, admin())).json.data.map((a: any) => a.name)).toContain('pr-fixer');

    const patched = await call('PATCH', `${AGENTS}/pr-fixer`, admin({ body: { model: 'claude-opus-4', branch: null, idle_timeout_seconds: 600 } }));
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ model: 'claude-opus-4', branch: null, idle_timeout_seconds: 600, repository: 'https://github.com/acme/app.git' });
    expect(patched.json.credentials).toEqual(created.json.credentials);
    expect(patched.json.env_vars).toEqual(created.json.env_vars);

    expect((await call('DELETE', `${AGENTS}/${id}`, admin())).status).toBe(204);
    const gone = await call('GET', `${AGENTS}/${id}`, admin());
    expect(gone.status).toBe(404);
    expect(isErrorShape(gone.json)).toBe(true);
  });

  it('answers 409 to a duplicate name, on create and on rename', async () => {
    const body = { name: 'twin', harness: 'shell' };
    expect((await call('POST', AGENTS, admin({ body }))).status).toBe(201);
    const duplicate = await call('POST', AGENTS, admin({ body: { ...body, harness: 'codex' } }));
    expect(duplicate.status).toBe(409);
    expect(duplicate.json.error.code).toBe('conflict');
    await call('POST', AGENTS, admin({ body: { name: 'other', harness: 'shell' } }));
    const rename = await call('PATCH', `${AGENTS}/other`, admin({ body: { name: 'twin' } }));
    expect(rename.status).toBe(409);
    expect((await call('GET', `${AGENTS}/twin`, admin())).json.harness).toBe('shell');
  });

  it('refuses bad fields with 400 naming each one', async () => {
    const cases: [unknown, string][] = [
      [{ name: 'a', harness: 'vim' }, 'harness'],
      [{ harness: 'shell' }, 'name'],
      [{ name: 'has space', harness: 'shell' }, 'name'],
      [{ name: 'a', harness: 'shell', repository: 'http://github.com/x' }, 'repository'],
      [{ name: 'a', harness: 'shell', repository: 'https://user:pw@github.com/x' }, 'repository'],
      [{ name: 'a', harness: 'shell', branch: 'main' }, 'branch'],
      [{ name: 'a', harness: 'shell', repository: 'https://github.com/x', branch: 'a..b' }, 'branch'],
      [{ name: 'a', harness: 'shell', env_vars: { PATH: '/x' } }, 'env_vars.PATH'],
      [{ name: 'a', harness: 'shell', env_vars: { LAP_TOKEN: 'x' } }, 'env_vars.LAP_TOKEN'],
      [{ name: 'a', harness: 'shell', env_vars: { https_proxy: 'x' } }, 'env_vars.https_proxy'],
      [{ name: 'a', harness: 'shell', env_vars: { SSL_CERT_FILE: 'x' } }, 'env_vars.SSL_CERT_FILE'],
      [{ name: 'a', harness: 'shell', env_vars: { '1BAD': 'x' } }, 'env_vars.1BAD'],
      [{ name: 'a', harness: 'shell', env_vars: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`V${i}`, 'x'])) }, 'env_vars'],
      [{ name: 'a', harness: 'shell', env_vars: { BIG: 'x'.repeat(16 * 1024) } }, 'env_vars'],
      [{ name: 'a', harness: 'shell', credentials: [{ name: 'MY_TOKEN', secret: 'GH' }] }, 'credentials.0.hosts'],
      [{ name: 'a', harness: 'shell', credentials: [{ name: 'LITELLM_API_KEY', secret: 'GH' }] }, 'credentials.0.hosts'],
      [{ name: 'a', harness: 'shell', credentials: [{ name: 'GITHUB_TOKEN', secret: 'NO_SUCH_SECRET' }] }, 'credentials.0.secret'],
      [{ name: 'a', harness: 'shell', credentials: [{ name: 'X', secret: 'GH', hosts: ['API.example.com'] }] }, 'credentials.0.hosts.0'],
      [{ name: 'a', harness: 'shell', credentials: [{ name: 'X', secret: 'GH', hosts: ['*'] }] }, 'credentials.0.hosts.0'],
      [{ name: 'a', harness: 'shell', credentials: [{ name: 'X', secret: 'GH', hosts: ['example.com:443'] }] }, 'credentials.0.hosts.0'],
      [{ name: 'a', harness: 'shell', credentials: [{ name: 'X', secret: 'GH', hosts: [] }] }, 'credentials.0.hosts'],
      [{ name: 'a', harness: 'shell', credentials: [{ name: 'GITHUB_TOKEN', secret: 'GH', places: ['cookie'] }] }, 'credentials.0.places.0'],
      [{ name: 'a', harness: 'shell', credentials: [{ name: 'GITHUB_TOKEN', secret: 'GH' }, { name: 'GITHUB_TOKEN', secret: 'GH' }] }, 'credentials.1.name'],
      [{ name: 'a', harness: 'shell', env_vars: { GITHUB_TOKEN: 'x' }, credentials: [{ name: 'GITHUB_TOKEN', secret: 'GH' }] }, 'credentials.0.name'],
      [{ name: 'a', harness: 'shell', egress_policy: { default: 'block' } }, 'egress_policy.default'],
      [{ name: 'a', harness: 'shell', idle_timeout_seconds: 0 }, 'idle_timeout_seconds'],
      [{ name: 'a', harness: 'shell', idle_timeout_seconds: 30 * 24 * 3600 + 1 }, 'idle_timeout_seconds'],
      [{ name: 'a', harness: 'shell', idle_timeout_seconds: 100.5 }, 'idle_timeout_seconds'],
      [{ name: 'a', harness: 'shell', colour: 'blue' }, 'colour'],
      [[], 'body'],
    ];
    const before = (await call('GET', AGENTS, admin())).text;
    for (const [body, field] of cases) {
      const answer = await call('POST', AGENTS, admin({ body }));
      expect({ field, status: answer.status }).toEqual({ field, status: 400 });
      expect(answer.json.error.details.map((d: any) => d.field)).toContain(field);
      expect(answer.json.error.message).toContain(field);
    }
    expect((await call('GET', AGENTS, admin())).text).toBe(before);
  });

  it('lists every problem of one request in details', async () => {
    const answer = await call('POST', AGENTS, admin({ body: { name: '', harness: 'x', idle_timeout_seconds: 'soon', extra: true } }));
    expect(answer.json.error.details.map((d: any) => d.field).sort()).toEqual(['extra', 'harness', 'idle_timeout_seconds', 'name']);
  });
});

describe('request handling', () => {
  it('accepts JSON sent the way curl -d sends it, and refuses other media types with 415', async () => {
    const form = await call('PUT', '/api/v1/secrets/CURL_D', admin({ body: '{"value":"curl-d-value-1234"}', headers: { 'content-type': 'application/x-www-form-urlencoded' } }));
    secretValues.add('curl-d-value-1234');
    expect(form.status).toBe(201);
    for (const type of ['text/plain', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/xml']) {
      const answer = await call('PUT', '/api/v1/secrets/CURL_D', admin({ body: '{"value":"other"}', headers: { 'content-type': type } }));
      expect({ type, status: answer.status }).toEqual({ type, status: 415 });
      expect(isErrorShape(answer.json)).toBe(true);
    }
    expect(server.store.secrets.reveal('CURL_D')).toBe('curl-d-value-1234');
  });

  it('refuses a body over the limit with 413, whether or not it declares its length', async () => {
    const huge = `{"name":"big","harness":"shell","prompt":"${'x'.repeat(2 * 1024 * 1024)}"}`;
    const declared = await call('POST', AGENTS, admin({ body: huge, headers: { 'content-type': 'application/json' } }));
    expect(declared.status).toBe(413);
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 40; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(64 * 1024)));
        controller.close();
      },
    });
    const response = await fetch(`${server.url}${AGENTS}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.masterKey}`, 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(isErrorShape(await response.json())).toBe(true);
    expect(server.store.agents.get('big')).toBeUndefined();
  });

  it('answers a request line past the header size limit of Node with 431 in the error shape', async () => {
    const answer = await call('GET', `${AGENTS}/${'a'.repeat(20_000)}`, admin());
    expect(answer.status).toBe(431);
    expect(isErrorShape(answer.json)).toBe(true);
  });

  it('refuses a query parameter the route does not take, naming it, on every route, as documented', async () => {
    const answer = await call('GET', `${AGENTS}?name=tmp&limit=5`, admin());
    expect(answer.status).toBe(400);
    expect(answer.json.error.details).toEqual([{ field: 'name', message: 'unknown query parameter' }, { field: 'limit', message: 'unknown query parameter' }]);
    for (const { method, path, op } of operations()) {
      const fixture = fixtures[op.operationId]!;
      const refused = await call(method.toUpperCase(), `${fillPath(path, fixture.params)}?no_such_parameter=1`, admin({ body: fixture.body }));
      expect({ op: op.operationId, status: refused.status, documented: '400' in op.responses }).toEqual({ op: op.operationId, status: 400, documented: true });
      expect(refused.json.error.details).toContainEqual({ field: 'no_such_parameter', message: 'unknown query parameter' });
    }
  });

  it('answers a request target that makes no URL with 400 in the error shape, and logs no error', async () => {
    for (const target of ['http://[', 'http://%zz/', 'http://a:99999/']) {
      const answer = await rawExchange(server.url, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(answer.head, target).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(answer.body)).toEqual({ error: { code: 'malformed_request', message: 'the request target is not a valid URL', details: [] } });
    }
    expect(server.errors).toEqual([]);
  });

  it('answers malformed JSON with 400 invalid_json, unknown paths with 404 and wrong methods with 405', async () => {
    const malformed = await call('POST', AGENTS, admin({ body: '{"name":', headers: { 'content-type': 'application/json' } }));
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.code).toBe('invalid_json');
    const unknown = await call('GET', '/api/v1/nothing/here', admin());
    expect(unknown.status).toBe(404);
    expect(isErrorShape(unknown.json)).toBe(true);
    const wrongMethod = await call('PUT', AGENTS, admin({ body: {} }));
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST, GET, HEAD');
    expect(isErrorShape(wrongMethod.json)).toBe(true);
  });
});

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 in shape: every operation has responses and every $ref resolves', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(doc.components.securitySchemes.bearer).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    expect(doc.components.schemas.Error).toBeDefined();
    const ids = new Set<string>();
    for (const { method, path, op } of operations()) {
      expect(Object.keys(op.responses).length, `${method} ${path}`).toBeGreaterThan(0);
      for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
        expect(status).toMatch(/^[1-5]\d\d$/);
        expect(typeof response.description).toBe('string');
      }
      for (const name of path.match(/\{([^}]+)\}/g) ?? []) {
        expect(op.parameters.some((p: any) => p.in === 'path' && `{${p.name}}` === name && p.required)).toBe(true);
      }
      expect(ids.has(op.operationId)).toBe(false);
      ids.add(op.operationId);
    }
    const refs = collectRefs(doc);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) expect(resolvePointer(doc, ref), ref).toBeDefined();
  });

  it('documents the error shape on every refusal mountRoutes can give', () => {
    for (const { op } of operations()) {
      for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
        if (Number(status) >= 400) expect(response.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
      }
      if (op.requestBody) expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['400', '413', '415']));
    }
  });
});

describe('/docs', () => {
  it('is one self-contained HTML page that renders every path, its parameters, body and responses', async () => {
    const answer = await call('GET', '/docs');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('text/html');
    expect(answer.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = answer.text;
    expect(html).not.toMatch(/<script|<link|@import|src=|url\(/i);
    expect(html).not.toMatch(/(href|src|action)\s*=\s*["']?(https?:)?\/\//i);
    for (const { method, path, op } of operations()) {
      expect(html).toContain(`${method.toUpperCase()}</span> <code>${path}</code>`);
      for (const parameter of op.parameters ?? []) expect(html).toContain(`<code>${parameter.name}`);
      for (const status of Object.keys(op.responses)) expect(html).toContain(`<dt class="s${status[0]}">${status}</dt>`);
    }
    for (const field of ['idle_timeout_seconds', 'egress_policy', 'allow_private', 'credentials', 'places']) expect(html).toContain(`<code>${field}</code>`);
  });
});

describe('secret values', () => {
  it('never came back in any response of this suite', () => {
    expect(bodies.length).toBeGreaterThan(50);
    for (const value of secretValues) {
      const leaked = bodies.filter((body) => body.includes(value));
      expect(leaked.map((body) => body.slice(0, 200)), value.slice(0, 40)).toEqual([]);
    }
  });

  it('no request made the API log a 500', () => {
    expect(server.errors).toEqual([]);
  });
});

function collectRefs(value: unknown, refs: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((item) => collectRefs(item, refs));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$ref' && typeof inner === 'string') refs.push(inner);
      else collectRefs(inner, refs);
    }
  }
  return refs;
}

function resolvePointer(document: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<any>((node, part) => (node && typeof node === 'object' ? node[part] : undefined), document);
}
