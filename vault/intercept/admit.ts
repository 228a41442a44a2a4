import type { IncomingHttpHeaders } from 'node:http';
import { normalizeHost } from '../hosts.ts';
import { decideEgress } from '../policy.ts';
import type { EgressPolicy } from '../types.ts';
import { requestAuthority } from './headers.ts';

/** How a connection reached the vault: through the TLS listener (with its SNI) or the plain one. */
export interface Arrival {
  scheme: 'https' | 'http';
  sni: string | null;
}

export type Admission = { ok: true; host: string; path: string } | { ok: false; host: string; path: string; status: number; reason: string };

const REFUSED_METHODS = new Set(['TRACE', 'TRACK', 'CONNECT']);

/**
 * The checks that need nothing but the request line and headers: routing is by name (SNI, Host and
 * the policy host must agree) and some methods never leave the sandbox.
 */
export function admitRequest(arrival: Arrival, method: string, target: string, headers: IncomingHttpHeaders, policy: EgressPolicy): Admission {
  const authority = requestAuthority(headers);
  const host = authority ? normalizeHost(authority) : (arrival.sni ?? '');
  const path = target.split('?')[0] ?? '';
  const refuse = (status: number, reason: string): Admission => ({ ok: false, host, path, status, reason });

  if (!authority) return refuse(400, 'request has no Host header; the vault routes by name');
  if (!target.startsWith('/')) return refuse(400, `request target must be a path (got ${JSON.stringify(target.slice(0, 64))}); no proxy here`);
  if (arrival.scheme === 'https' && arrival.sni !== host) {
    return refuse(421, `TLS server name ${arrival.sni} does not match Host ${host}`);
  }
  if (REFUSED_METHODS.has(method.toUpperCase())) return refuse(405, `method ${method} is not allowed through the vault`);
  const decision = decideEgress(policy, host);
  if (!decision.allowed) return refuse(403, decision.reason);
  return { ok: true, host, path };
}
