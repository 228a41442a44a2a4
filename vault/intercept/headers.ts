import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

export type HeaderMap = Record<string, string | string[]>;

// RFC 9110 §7.6.1 plus the de-facto ones; HTTP/2 forbids them outright.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** Drops pseudo-headers, hop-by-hop headers and whatever the Connection header names. */
export function endToEndHeaders(headers: IncomingHttpHeaders | Record<string, unknown>): HeaderMap {
  const named = String(headers['connection'] ?? '')
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
  const out: HeaderMap = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || value === null || lower.startsWith(':')) continue;
    if (HOP_BY_HOP.has(lower) || named.includes(lower)) continue;
    out[lower] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return out;
}

/** The authority a request names: HTTP/2 :authority, else Host. */
export function requestAuthority(headers: IncomingHttpHeaders): string | undefined {
  const authority = headers[':authority'] ?? headers.host;
  return typeof authority === 'string' && authority.length > 0 ? authority : undefined;
}

export function mapHeaderValues(headers: HeaderMap, fn: (value: string) => string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = Array.isArray(value) ? value.map(fn) : fn(value);
  }
  return out;
}
