import { requireBearer } from '../http/bearer.ts';
import { afterSeq, eventStreamReply } from '../http/event-stream.ts';
import { type Reply, HttpError, json } from '../http/reply.ts';
import type { HttpRequest } from '../http/request.ts';
import { Router, createRouterServer } from '../http/router.ts';
import type { WarmUpRequest } from '../http/warm-up.ts';
import { DEFAULT_POLICY } from '../policy.ts';
import type { VaultState } from '../state.ts';
import { type Parsed, invalidRequest } from '../validate.ts';
import { buildCredentials, viewCredential } from './credentials.ts';
import { parseCredentialsBody, parseEgressPolicy } from './schemas.ts';

/** Far above any real credential set or policy; a body past it is refused with 413, unread. */
export const MAX_CONTROL_BODY_BYTES = 4 * 1024 * 1024;

/**
 * The vault's control API (gateway → vault). It sets credentials and policy, serves the CA
 * certificate and the audit trail. No route ever returns a secret value.
 */
export function createControlServer(state: VaultState, token: string) {
  const routes = new Router()
    .get('/v1/health', () => json({ status: 'ok', session: state.session }))
    .get('/v1/ca.pem', () => ({ status: 200, headers: { 'content-type': 'application/x-pem-file' }, body: state.ca.certificatePem }))
    .get('/v1/credentials', () => json({ credentials: state.credentials.map(viewCredential) }))
    .put('/v1/credentials', async (req) => {
      const body = await parseBody(req, parseCredentialsBody);
      const credentials = buildCredentials(body.credentials);
      if (typeof credentials === 'string') throw new HttpError(400, 'invalid_request', credentials);
      state.credentials = credentials;
      return json({ credentials: credentials.map(viewCredential) });
    })
    .get('/v1/policy', () => json(state.policy))
    .put('/v1/policy', async (req) => {
      state.policy = await parseBody(req, parseEgressPolicy);
      return json(state.policy);
    })
    .get('/v1/audit', (req) => json({ events: state.audit.since(afterSeq(req.query('after'))) }))
    .get('/v1/audit/stream', (req): Reply => eventStreamReply(state.audit, afterSeq(req.header('last-event-id')), () => 'audit'));
  return createRouterServer(routes, { guards: [requireBearer(token, ['/v1/health'])] });
}

/**
 * The calls every claim makes, with the values a vault starts with (no credentials, the default
 * policy): run in memory before the control API listens (http/warm-up.ts), they change nothing and
 * take ~5 ms off the first real claim.
 */
export function controlWarmUpRequests(token: string): WarmUpRequest[] {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  return [
    { method: 'PUT', path: '/v1/credentials', headers, body: JSON.stringify({ credentials: [] }) },
    { method: 'PUT', path: '/v1/policy', headers, body: JSON.stringify(DEFAULT_POLICY) },
  ];
}

async function parseBody<T>(req: HttpRequest, parse: (raw: unknown) => Parsed<T>): Promise<T> {
  const raw = await req.json(MAX_CONTROL_BODY_BYTES, { tooLarge: `a request body is at most ${MAX_CONTROL_BODY_BYTES} bytes`, invalid: 'request body must be JSON' });
  const parsed = parse(raw);
  if (parsed.ok) return parsed.value;
  throw invalidRequest(parsed.issues);
}
