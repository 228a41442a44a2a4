import type { IncomingMessage } from 'node:http';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { Duplex } from 'node:stream';
import { EgressRefusedError } from '../resolve.ts';
import type { VaultState } from '../state.ts';
import { StubBlockedError, swapHeaders, swapTarget } from '../swap.ts';
import { scrubberFor } from '../scrub.ts';
import type { AuditDecision, Credential } from '../types.ts';
import { type Arrival, admitRequest } from './admit.ts';
import { endToEndHeaders } from './headers.ts';
import { createWebSocketScrubber } from './ws-scrub.ts';

/**
 * An HTTP/1.1 Upgrade (WebSocket): the upgrade request gets the same checks and swaps as any request,
 * then bytes flow both ways, upstream's scrubbed (DESIGN.md §3.6, §3.8). One audit event per tunnel.
 */
export async function relayUpgrade(state: VaultState, arrival: Arrival, req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
  const started = performance.now();
  const method = req.method ?? 'GET';
  const target = req.url ?? '/';
  const admission = admitRequest(arrival, method, target, req.headers, state.policy);
  const record = (status: number, decision: AuditDecision, reason: string, credentials: string[], bytes = 0) =>
    state.audit.record({
      ts: new Date().toISOString(), session: state.session, method, host: admission.host, path: admission.path,
      status, bytes, ms: Math.round(performance.now() - started), credentials, decision, reason,
    });
  client.on('error', () => client.destroy());
  if (!admission.ok) {
    refuseUpgrade(client, admission.status, admission.reason);
    return void record(admission.status, 'block', admission.reason, []);
  }
  const ctx = { credentials: state.credentials, host: admission.host, plainHttp: arrival.scheme === 'http' };
  try {
    const offered = endToEndHeaders(req.headers);
    // Compressed frames could not be scrubbed: no extensions are negotiated through the vault.
    delete offered['sec-websocket-extensions'];
    const headers = swapHeaders(ctx, offered);
    const swapped = swapTarget(ctx, target);
    const used = [...new Set([...headers.used, ...swapped.used])];
    const dial = await state.resolve(admission.host, arrival.scheme === 'https' ? 443 : 80, state.policy);
    const upstream = await openUpstream(state, arrival, admission.host, dial.address, dial.port);
    const lines = [`${method} ${swapped.target} HTTP/1.1`, `host: ${admission.host}`, 'connection: Upgrade', `upgrade: ${req.headers.upgrade ?? 'websocket'}`];
    for (const [name, value] of Object.entries(headers.headers)) {
      if (name !== 'host') for (const v of [value].flat()) lines.push(`${name}: ${v}`);
    }
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    splice(client, upstream, state.credentials, (status, bytes) => record(status, 'allow', '', used, bytes));
  } catch (err) {
    const blocked = err instanceof StubBlockedError || err instanceof EgressRefusedError;
    const reason = err instanceof EgressRefusedError ? err.reason : err instanceof Error ? err.message : String(err);
    refuseUpgrade(client, blocked ? 403 : 502, reason);
    record(blocked ? 403 : 502, blocked ? 'block' : 'error', reason, err instanceof StubBlockedError ? [err.credential] : []);
  }
}

function openUpstream(state: VaultState, arrival: Arrival, host: string, address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket =
      arrival.scheme === 'https'
        ? connectTls({ host: address, port, servername: host, secureContext: state.upstreamTls(), ALPNProtocols: ['http/1.1'] })
        : connectTcp({ host: address, port });
    socket.setTimeout(10_000, () => socket.destroy(new Error(`connecting to ${host} timed out`)));
    socket.once(arrival.scheme === 'https' ? 'secureConnect' : 'connect', () => {
      socket.setTimeout(0);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * Pipes both ways. Upstream → sandbox is scrubbed like any response: the status line and headers,
 * then WebSocket messages after a 101, or the plain body of a refusal. Reports the upstream's status
 * and the bytes it sent once both ends are gone.
 */
function splice(client: Duplex, upstream: Socket, credentials: readonly Credential[], done: (status: number, bytes: number) => void) {
  let bytes = 0;
  let status = 0;
  upstream.on('data', (chunk: Buffer) => (bytes += chunk.length));
  upstream.on('error', () => client.destroy());
  client.on('error', () => upstream.destroy());
  client.pipe(upstream);
  readResponseHead(upstream).then(({ head, rest }) => {
    status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head.toString('latin1', 0, 16))?.[1] ?? 0);
    const scrubber = scrubberFor(credentials);
    const body = status === 101 ? createWebSocketScrubber(scrubber.bytes) : scrubber.stream();
    client.write(scrubber.bytes(head));
    body.on('error', () => client.destroy());
    body.pipe(client);
    if (rest.length > 0) body.write(rest);
    upstream.pipe(body);
  }, () => client.destroy());
  let closed = 0;
  const onClose = () => {
    if (++closed === 2) done(status, bytes);
    else {
      client.destroy();
      upstream.destroy();
    }
  };
  upstream.once('close', onClose);
  client.once('close', onClose);
}

const MAX_HEAD_BYTES = 64 * 1024;

/** Reads up to the blank line that ends an HTTP response head; the rest is handed back unread. */
function readResponseHead(upstream: Socket): Promise<{ head: Buffer; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const end = seen.indexOf('\r\n\r\n');
      if (end === -1 && seen.length < MAX_HEAD_BYTES) return;
      upstream.off('data', onData);
      upstream.pause();
      if (end === -1) return reject(new Error('upstream response head too large'));
      resolve({ head: seen.subarray(0, end + 4), rest: seen.subarray(end + 4) });
    };
    upstream.on('data', onData);
    upstream.once('close', () => reject(new Error('upstream closed before answering the upgrade')));
  });
}

function refuseUpgrade(client: Duplex, status: number, reason: string) {
  const body = `${reason}\n`;
  client.end(`HTTP/1.1 ${status} Refused\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\nx-lap-vault: refused\r\n\r\n${body}`);
}
