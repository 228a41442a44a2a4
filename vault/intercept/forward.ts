import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Dispatcher } from 'undici';
import { acceptableEncodings } from '../decode.ts';
import { matchesAny } from '../hosts.ts';
import { EgressRefusedError } from '../resolve.ts';
import type { VaultState } from '../state.ts';
import { StubBlockedError, createBodySwapper, swapHeaders, swapTarget } from '../swap.ts';
import type { AuditDecision } from '../types.ts';
import { type Arrival, admitRequest } from './admit.ts';
import { endToEndHeaders } from './headers.ts';
import { prepareResponse } from './respond.ts';
import type { Upstream } from './upstream.ts';

export type ClientRequest = IncomingMessage | Http2ServerRequest;
// Node's HTTP/2 compatibility response has the same surface as ServerResponse for what is used here.
type ClientResponse = ServerResponse | Http2ServerResponse;
type AnyResponse = ServerResponse;

const SMALL_BODY_BYTES = 64 * 1024;

export interface Outcome {
  status: number;
  decision: AuditDecision;
  reason: string;
  credentials: string[];
}

/**
 * One intercepted request, end to end: admit it, swap stubs for secrets, send it upstream, stream the
 * scrubbed response back, and record exactly one audit event whatever happens.
 */
export async function forwardRequest(state: VaultState, upstream: Upstream, arrival: Arrival, req: ClientRequest, res: ClientResponse): Promise<void> {
  const started = performance.now();
  const method = req.method ?? 'GET';
  const target = req.url ?? '/';
  const admission = admitRequest(arrival, method, target, req.headers, state.policy);
  const counter = new ByteCounter();
  const outcome = admission.ok
    ? await relay(state, upstream, arrival, admission.host, req, res, counter)
    : refuse(res, admission.status, admission.reason);
  state.audit.record({
    ts: new Date().toISOString(),
    session: state.session,
    method,
    host: admission.host,
    path: admission.path,
    status: outcome.status,
    bytes: counter.bytes,
    ms: Math.round((performance.now() - started) * 10) / 10,
    credentials: outcome.credentials,
    decision: outcome.decision,
    reason: outcome.reason,
  });
}

async function relay(state: VaultState, upstream: Upstream, arrival: Arrival, host: string, req: ClientRequest, res: ClientResponse, counter: ByteCounter): Promise<Outcome> {
  const ctx = { credentials: state.credentials, host, plainHttp: arrival.scheme === 'http' };
  let used: string[] = [];
  const bodySwapper = hasRequestBody(req) ? createBodySwapper(ctx, { contentType: String(req.headers['content-type'] ?? '') }) : null;
  try {
    const headers = swapHeaders(ctx, endToEndHeaders(req.headers));
    const swappedTarget = swapTarget(ctx, req.url ?? '/');
    used = [...new Set([...headers.used, ...swappedTarget.used])];
    const dial = await state.resolve(host, arrival.scheme === 'https' ? 443 : 80, state.policy);
    const upstreamHeaders: Record<string, string | string[]> = { ...headers.headers, host };
    if (state.credentials.length > 0) upstreamHeaders['accept-encoding'] = acceptableEncodings(req.headers['accept-encoding']);
    if (bodySwapper && bodyMaySwap(state, host, ctx.plainHttp)) delete upstreamHeaders['content-length'];
    const dispatcher = await upstream.dispatcher();
    const response = await dispatcher.request({
      origin: `${arrival.scheme}://${host}:${dial.port}`,
      path: swappedTarget.target,
      method: req.method ?? 'GET',
      headers: upstreamHeaders,
      body: bodySwapper ? (req as Readable).pipe(bodySwapper) : null,
    });
    if (bodySwapper) used = [...new Set([...used, ...bodySwapper.used])];
    return await respond(state, req.method ?? 'GET', response, res, counter, used);
  } catch (err) {
    return failure(res, err, used);
  }
}

async function respond(state: VaultState, method: string, response: Dispatcher.ResponseData, res: ClientResponse, counter: ByteCounter, used: string[]): Promise<Outcome> {
  const prepared = prepareResponse(state.credentials, response.headers);
  if ('refusal' in prepared) {
    response.body.destroy();
    return { ...refuse(res, 502, prepared.refusal), decision: 'error', credentials: used };
  }
  if (prepared.scrubWhole && isSmallBody(method, response)) {
    // Most API answers are small JSON: held whole, scrubbed in one pass and sent with its length,
    // they skip a stream pipeline (and its per-request streams, listeners and promises).
    const body = prepared.scrubWhole(Buffer.from(await response.body.arrayBuffer()));
    (res as AnyResponse).writeHead(response.statusCode, { ...prepared.headers, 'content-length': body.length });
    res.end(body);
    counter.bytes = body.length;
  } else {
    (res as AnyResponse).writeHead(response.statusCode, prepared.headers);
    try {
      await pipeline([response.body, ...prepared.transforms, counter, res as AnyResponse]);
    } catch (err) {
      // A client that stops reading a stream (an SSE reply it no longer wants) ends the request; the
      // upstream's answer stands and is audited as such, not as an upstream failure.
      if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err;
      return { status: response.statusCode, decision: 'allow', reason: 'the client closed the response before its end', credentials: used };
    }
  }
  return { status: response.statusCode, decision: 'allow', reason: '', credentials: used };
}

/** A body with a declared length of at most SMALL_BODY_BYTES (HEAD, 204 and 304 declare without sending). */
function isSmallBody(method: string, response: Dispatcher.ResponseData): boolean {
  if (method === 'HEAD' || response.statusCode === 204 || response.statusCode === 304) return false;
  const length = Number(response.headers['content-length'] ?? Number.NaN);
  return Number.isInteger(length) && length <= SMALL_BODY_BYTES;
}

function failure(res: ClientResponse, err: unknown, used: string[]): Outcome {
  const cause = blockingCause(err);
  if (cause instanceof StubBlockedError) return { ...refuse(res, 403, cause.message), credentials: [cause.credential] };
  if (cause instanceof EgressRefusedError) return refuse(res, 403, cause.reason);
  const reason = `upstream failed: ${err instanceof Error ? err.message : String(err)}`;
  if (res.headersSent) {
    res.destroy();
    return { status: 502, decision: 'error', reason, credentials: used };
  }
  return { ...refuse(res, 502, reason), decision: 'error', credentials: used };
}

// undici wraps a failing request body; the vault's own refusals may sit one level down.
function blockingCause(err: unknown): unknown {
  if (err instanceof StubBlockedError || err instanceof EgressRefusedError) return err;
  const cause = err instanceof Error ? err.cause : undefined;
  return cause instanceof StubBlockedError || cause instanceof EgressRefusedError ? cause : err;
}

function refuse(res: ClientResponse, status: number, reason: string): Outcome {
  if (!res.headersSent) {
    const body = `${reason}\n`;
    (res as AnyResponse).writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-lap-vault': 'refused' });
    res.end(body);
  } else {
    res.destroy();
  }
  return { status, decision: 'block', reason, credentials: [] };
}

function hasRequestBody(req: ClientRequest): boolean {
  if ('stream' in req) return !req.stream.endAfterHeaders;
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** A swapped body's length is known only once it has streamed (values may be escaped): send it chunked. */
function bodyMaySwap(state: VaultState, host: string, plainHttp: boolean): boolean {
  return !plainHttp && state.credentials.some((c) => c.places.includes('body') && matchesAny(c.hosts, host));
}

class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void) {
    this.bytes += chunk.length;
    done(null, chunk);
  }
}
