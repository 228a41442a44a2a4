// Property-based fuzzing of every route in the OpenAPI document: malformed bodies, wrong types, huge
// strings, odd path parameters and odd headers always get a 4xx in the error shape, never a 5xx or a
// hang, and never change what is stored.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareValidRequests, type ValidRequest } from './support/api-fixtures.ts';
import { type ApiServer, startApiServer } from './support/api-server.ts';
import { type Answer, fillPath, isErrorShape, send } from './support/http.ts';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const RUNS = 100;
const REQUEST_TIMEOUT_MS = 5_000;

interface Operation {
  method: string;
  path: string;
  op: any;
  valid: ValidRequest;
}

let server: ApiServer;
let operations: Operation[];
let stored: string;

beforeAll(async () => {
  server = await startApiServer();
  const valid = prepareValidRequests(server.store);
  const doc = (await send(server.url, 'GET', '/api/v1/openapi.json')).json;
  operations = Object.entries(doc.paths as Record<string, any>).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => {
      const op = item[method];
      const request = valid[op.operationId];
      if (!request) throw new Error(`no valid request for ${op.operationId}`);
      return { method, path, op, valid: request };
    }),
  );
  stored = await snapshot();
});

afterAll(async () => {
  await server?.close();
});

/** What the list endpoints show: a refused request must leave it exactly as it was. */
async function snapshot(): Promise<string> {
  const lists = await Promise.all(
    ['/api/v1/api_keys', '/api/v1/secrets', '/api/v1/managed_agents/agents'].map((path) => send(server.url, 'GET', path, { key: server.masterKey })),
  );
  return lists.map((list) => list.text).join('\n');
}

const withBody = () => operations.filter((o) => o.op.requestBody);
const withParams = () => operations.filter((o) => (o.op.parameters ?? []).some((p: any) => p.in === 'path'));
const withAuth = () => operations.filter((o) => o.op.security.length > 0);
const bodySchema = (o: Operation) => o.op.requestBody.content['application/json'].schema;

type Send = { path?: string; headers?: Record<string, string>; body?: unknown; key?: string | null };

/** The operation's valid request with some parts replaced; the master key unless `key` says otherwise. */
function attempt(o: Operation, change: Send = {}): Promise<Answer> {
  const key = change.key === null ? undefined : (change.key ?? server.masterKey);
  const body = 'body' in change ? change.body : o.valid.body;
  return send(server.url, o.method.toUpperCase(), change.path ?? fillPath(o.path, o.valid.params), {
    key,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    headers: { ...(o.op.requestBody ? { 'content-type': 'application/json' } : {}), ...change.headers },
    timeoutMs: REQUEST_TIMEOUT_MS,
  });
}

function expectRefusal(answer: Answer, statuses: number[], context: string): void {
  if (!statuses.includes(answer.status) || !isErrorShape(answer.json)) {
    throw new Error(`${context}: expected ${statuses.join('/')} in the error shape, got ${answer.status} ${answer.text.slice(0, 300)}`);
  }
}

async function expectNothingStored(context: string): Promise<void> {
  expect(await snapshot(), context).toBe(stored);
  expect(server.errors, context).toEqual([]);
}

const isJson = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

const jsonValue = fc.jsonValue({ maxDepth: 3 });

describe('malformed bodies', () => {
  it('text that is not JSON, JSON that is not an object, truncated JSON, unknown fields: 400', async () => {
    for (const o of withBody()) {
      const known = new Set(Object.keys(bodySchema(o).properties ?? {}));
      const valid = JSON.stringify(o.valid.body);
      const malformed = fc.oneof(
        fc.string({ minLength: 1, unit: 'grapheme' }).filter((text) => text.trim() !== '' && !isJson(text)),
        fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.string(), fc.array(jsonValue)).map((v) => JSON.stringify(v)),
        fc.integer({ min: 1, max: valid.length - 1 }).map((end) => valid.slice(0, end)),
        fc
          .tuple(fc.string({ minLength: 1 }).filter((k) => !known.has(k) && k !== '__proto__'), jsonValue)
          .map(([k, v]) => JSON.stringify({ ...(o.valid.body as object), [k]: v })),
      );
      await fc.assert(
        fc.asyncProperty(malformed, async (body) => expectRefusal(await attempt(o, { body }), [400], `${o.op.operationId} ${body.slice(0, 80)}`)),
        { numRuns: RUNS },
      );
      await expectNothingStored(o.op.operationId);
    }
  });

  it('a field of the wrong JSON type: 400 naming the field', async () => {
    for (const o of withBody()) {
      const properties = Object.entries(bodySchema(o).properties as Record<string, any>);
      const wrongField = fc.constantFrom(...properties).chain(([name, schema]) => wrongTypeFor(schema).map((value) => ({ name, value })));
      await fc.assert(
        fc.asyncProperty(wrongField, async ({ name, value }) => {
          const answer = await attempt(o, { body: { ...(o.valid.body as object), [name]: value } });
          expectRefusal(answer, [400], `${o.op.operationId} ${name}=${JSON.stringify(value).slice(0, 80)}`);
          expect(answer.json.error.details.map((d: any) => d.field.split('.')[0])).toContain(name);
        }),
        { numRuns: RUNS },
      );
      await expectNothingStored(o.op.operationId);
    }
  });

  it('huge strings in any string field: 400 or 413', async () => {
    for (const o of withBody()) {
      const fields = Object.entries(bodySchema(o).properties as Record<string, any>)
        .filter(([, schema]) => allowedTypes(schema).has('string') || allowedTypes(schema).has('object'))
        .map(([name, schema]) => ({ name, record: !allowedTypes(schema).has('string') }));
      const huge = fc.record({
        field: fc.constantFrom(...fields),
        length: fc.integer({ min: 150_000, max: 1_000_000 }),
        unit: fc.constantFrom('x', 'é', '"', '\\', '\u2028', '😀'),
      });
      await fc.assert(
        fc.asyncProperty(huge, async ({ field, length, unit }) => {
          // zod measures strings in code points: `length` of them, whatever the unit's UTF-16 size.
          const text = unit.repeat(length);
          const value = field.record ? { HUGE: text } : text;
          const answer = await attempt(o, { body: { ...(o.valid.body as object), [field.name]: value } });
          expectRefusal(answer, [400, 413], `${o.op.operationId} ${field.name} of ${length}×${unit}`);
        }),
        { numRuns: 20 },
      );
      await expectNothingStored(o.op.operationId);
    }
  });
});

describe('odd path parameters', () => {
  it('percent-encoding, very long, unicode and dot segments: 4xx', async () => {
    // Every value holds a character no id or name may contain, or is longer than any may be.
    const unusable = (value: string) => /[^A-Za-z0-9_.-]/.test(value) || value.length > 128 || value === '' || /^\.+$/.test(value);
    const encoded = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
      fc.integer({ min: 200, max: 6000 }).map((n) => 'a'.repeat(n)),
      // Past Node's 16 KiB header limit too: the server answers 431 in the error shape.
      fc.integer({ min: 200, max: 2500 }).map((n) => '日'.repeat(n)),
    ).filter(unusable).map(encodeURIComponent);
    const raw = fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '%2F', '%2e%2e', '%252F', '..', '.', ';', '+', '%20', '%C0%AF', '%u0041', '%FF%FE');
    const oddSegment = fc.oneof(encoded, raw);
    for (const o of withParams()) {
      const names = (o.op.parameters as any[]).filter((p) => p.in === 'path').map((p) => p.name as string);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...names), oddSegment, async (name, segment) => {
          const path = o.path.replace(/\{([^}]+)\}/g, (_, param: string) => (param === name ? segment : encodeURIComponent(o.valid.params?.[param] ?? '')));
          const answer = await attempt(o, { path });
          expectRefusal(answer, [400, 404, 405, 431], `${o.op.operationId} ${name}=${segment.slice(0, 80)}`);
        }),
        { numRuns: RUNS },
      );
      await expectNothingStored(o.op.operationId);
    }
  });
});

describe('odd headers', () => {
  it('Authorization in any other shape than a known bearer key: 401', async () => {
    const master = server.masterKey;
    const latin1 = fc.string({ unit: fc.oneof(fc.integer({ min: 0x21, max: 0x7e }), fc.integer({ min: 0xa1, max: 0xff })).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 60 });
    const authorization = fc
      .oneof(
        fc.constantFrom('Bearer', 'Bearer ', 'Basic', 'bearer:', `Token ${master}`, `Basic ${Buffer.from(`lap:${master}`).toString('base64')}`, `Bearer ${master} ${master}`, `Bearer "${master}"`, `Bearer ${master},`),
        latin1,
        latin1.map((token) => `Bearer ${token}`),
        fc.integer({ min: 0, max: master.length - 1 }).map((i) => `Bearer ${master.slice(0, i)}${master[i] === 'A' ? 'B' : 'A'}${master.slice(i + 1)}`),
        fc.integer({ min: 1, max: master.length - 1 }).map((n) => `Bearer ${master.slice(0, n)}`),
        latin1.map((tail) => `Bearer ${master}${tail}`),
        fc.integer({ min: 600, max: 8000 }).map((n) => `Bearer ${'k'.repeat(n)}`),
      )
      .filter((value) => value.trim() !== `Bearer ${master}` && value.trim().toLowerCase() !== `bearer ${master.toLowerCase()}`);
    for (const o of withAuth()) {
      await fc.assert(
        fc.asyncProperty(authorization, async (value) => {
          const answer = await attempt(o, { key: null, headers: { authorization: value } });
          expectRefusal(answer, [401], `${o.op.operationId} Authorization: ${value.slice(0, 80)}`);
        }),
        { numRuns: RUNS },
      );
      await expectNothingStored(o.op.operationId);
    }
  });

  it('a Content-Type that is not JSON, or JSON in another charset: 415', async () => {
    const accepted = (type: string) => {
      const media = type.split(';')[0]!.trim().toLowerCase();
      return media === '' || media === 'application/json' || media.endsWith('+json') || media === 'application/x-www-form-urlencoded';
    };
    const contentType = fc.oneof(
      fc.constantFrom('text/plain', 'text/html', 'multipart/form-data; boundary=xyz', 'application/xml', 'application/octet-stream', 'application/jsonx', 'json', ';', 'application/json; charset=utf-16', 'application/json; charset=iso-8859-1'),
      fc.stringMatching(/^[a-z]{1,12}\/[a-z0-9.-]{1,20}$/),
      fc.stringMatching(/^[a-z0-9-]{1,12}$/).filter((c) => c !== 'utf-8' && c !== 'utf8').map((charset) => `application/json; charset=${charset}`),
    ).filter((type) => !accepted(type));
    for (const o of withBody()) {
      await fc.assert(
        fc.asyncProperty(contentType, async (type) => {
          expectRefusal(await attempt(o, { headers: { 'content-type': type } }), [415], `${o.op.operationId} Content-Type: ${type}`);
        }),
        { numRuns: RUNS },
      );
      await expectNothingStored(o.op.operationId);
    }
  });
});

function allowedTypes(schema: any): Set<string> {
  const options: any[] = schema.anyOf ?? [schema];
  return new Set(options.flatMap((option) => (Array.isArray(option.type) ? option.type : option.type ? [option.type] : [])));
}

/** Values whose JSON type the field's schema does not allow (an integer field also refuses 1.5). */
function wrongTypeFor(schema: any): fc.Arbitrary<unknown> {
  const allowed = allowedTypes(schema);
  const enumValues: unknown[] | undefined = schema.enum ?? schema.anyOf?.find((o: any) => o.enum)?.enum;
  const typeOf = (value: unknown): string => {
    if (value === null) return 'null';
    if (Array.isArray(value)) return 'array';
    if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
    return typeof value;
  };
  const isAllowed = (value: unknown) => {
    const type = typeOf(value);
    if (enumValues && typeof value === 'string') return enumValues.includes(value);
    return allowed.has(type) || (type === 'integer' && allowed.has('number'));
  };
  return fc
    .oneof(
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Number.isInteger(n)),
      fc.boolean(),
      fc.string({ maxLength: 20 }),
      fc.constant(null),
      fc.array(fc.integer(), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 5 }).filter((k) => k !== '__proto__'), fc.integer(), { maxKeys: 3 }),
    )
    .filter((value) => !isAllowed(value));
}
