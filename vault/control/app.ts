import { Hono } from 'hono';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { VaultState } from '../state.ts';
import type { AuditEvent } from '../types.ts';
import type { WarmUpRequest } from '../http-warm-up.ts';
import { DEFAULT_POLICY } from '../policy.ts';
import type { Parsed } from '../validate.ts';
import { requireBearer } from './auth.ts';
import { buildCredentials, viewCredential } from './credentials.ts';
import { errorBody, validationError } from './errors.ts';
import { parseCredentialsBody, parseEgressPolicy } from './schemas.ts';

/**
 * The vault's control API (gateway → vault). It sets credentials and policy, serves the CA
 * certificate and the audit trail. No route ever returns a secret value.
 */
export function createControlApp(state: VaultState, token: string): Hono {
  const app = new Hono();
  app.get('/v1/health', (c) => c.json({ status: 'ok', session: state.session }));
  app.use('/v1/*', requireBearer(token));

  app.get('/v1/ca.pem', (c) => c.body(state.ca.certificatePem, 200, { 'content-type': 'application/x-pem-file' }));

  app.get('/v1/credentials', (c) => c.json({ credentials: state.credentials.map(viewCredential) }));
  app.put('/v1/credentials', async (c) => {
    const body = await parseBody(c, parseCredentialsBody);
    if (body instanceof Response) return body;
    const credentials = buildCredentials(body.credentials);
    if (typeof credentials === 'string') return c.json(errorBody('invalid_request', credentials), 400);
    state.credentials = credentials;
    return c.json({ credentials: credentials.map(viewCredential) });
  });

  app.get('/v1/policy', (c) => c.json(state.policy));
  app.put('/v1/policy', async (c) => {
    const policy = await parseBody(c, parseEgressPolicy);
    if (policy instanceof Response) return policy;
    state.policy = policy;
    return c.json(policy);
  });

  app.get('/v1/audit', (c) => c.json({ events: state.audit.since(afterSeq(c.req.query('after'))) }));
  app.get('/v1/audit/stream', (c) => streamAudit(c, state, afterSeq(c.req.header('last-event-id'))));

  app.notFound((c) => c.json(errorBody('not_found', `no route ${c.req.method} ${c.req.path}`), 404));
  app.onError((err, c) => c.json(errorBody('internal', err.message), 500));
  return app;
}

/**
 * The calls every claim makes, with the values a vault starts with (no credentials, the default
 * policy): run in memory before the control API listens (http-warm-up.ts), they change nothing and
 * take ~5 ms off the first real claim.
 */
export function controlWarmUpRequests(token: string): WarmUpRequest[] {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  return [
    { method: 'PUT', path: '/v1/credentials', headers, body: JSON.stringify({ credentials: [] }) },
    { method: 'PUT', path: '/v1/policy', headers, body: JSON.stringify(DEFAULT_POLICY) },
  ];
}

async function parseBody<T>(c: Context, parse: (raw: unknown) => Parsed<T>): Promise<T | Response> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    return c.json(errorBody('invalid_json', 'request body must be JSON'), 400);
  }
  const parsed = parse(raw);
  return parsed.ok ? parsed.value : c.json(validationError(parsed.issues), 400);
}

function afterSeq(value: string | undefined): number {
  const n = Number(value ?? 0);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

/** Replays what the ring still holds after `after`, then follows live events until the client leaves. */
function streamAudit(c: Context, state: VaultState, after: number) {
  return streamSSE(c, async (stream) => {
    const queue: AuditEvent[] = state.audit.since(after);
    let wake: (() => void) | undefined;
    const unsubscribe = state.audit.subscribe((e) => {
      queue.push(e);
      wake?.();
    });
    stream.onAbort(() => wake?.());
    try {
      while (!stream.aborted) {
        const event = queue.shift();
        if (event) await stream.writeSSE({ id: String(event.seq), event: 'audit', data: JSON.stringify(event) });
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      unsubscribe();
    }
  });
}
