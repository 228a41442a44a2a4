// Request side of the vault: stub -> real value, only toward a credential's own hosts and places
// (DESIGN.md §3.5). A stub of a credential that is out of scope for the request blocks the request.
import type { Transform } from 'node:stream';
import { type StreamPattern, createStreamReplacer, sortPatterns } from './stream-replace.ts';
import { hostMatches } from './hosts.ts';
import type { Credential, SwapPlace } from './types.ts';

/** Where a stub was found. The path is checked for blocked stubs but never swapped. */
export type StubPlace = SwapPlace | 'path';

export interface SwapContext {
  credentials: readonly Credential[];
  /** Normalized request host; the caller has already made SNI and Host agree. */
  host: string;
  plainHttp: boolean;
}

export class StubBlockedError extends Error {
  readonly credential: string;
  readonly host: string;
  readonly place: StubPlace;

  constructor(message: string, credential: string, host: string, place: StubPlace) {
    super(message);
    this.name = 'StubBlockedError';
    this.credential = credential;
    this.host = host;
    this.place = place;
  }
}

interface ScopedCredential {
  name: string;
  stub: string;
  value: string;
  places: ReadonlySet<SwapPlace>;
  /** null when the credential may be sent to this request; otherwise why not. */
  blockReason: string | null;
}

/** The credentials of one request, with a single-pass matcher over all their stubs. */
interface StubScan {
  host: string;
  byStub: ReadonlyMap<string, ScopedCredential>;
  /** Every stub, longest first, or null when there are no credentials. */
  pattern: RegExp | null;
  used: Set<string>;
}

function scopeCredentials(ctx: SwapContext): ScopedCredential[] {
  return ctx.credentials.map((credential) => {
    if (typeof credential.stub !== 'string' || credential.stub === '') {
      throw new TypeError(`credential ${credential.name}: stub must be a non-empty string`);
    }
    return {
      name: credential.name,
      stub: credential.stub,
      value: credential.value,
      places: new Set(credential.places),
      blockReason: describeBlock(credential, ctx),
    };
  });
}

function describeBlock(credential: Credential, ctx: SwapContext): string | null {
  const hostAllowed = credential.hosts.some((pattern) => hostMatches(pattern, ctx.host));
  if (!hostAllowed) {
    return `credential ${credential.name} may not be sent to ${ctx.host} (allowed: ${credential.hosts.join(', ')})`;
  }
  if (ctx.plainHttp) return `credential ${credential.name} is never sent over plain HTTP (request to ${ctx.host})`;
  return null;
}

function prepareScan(ctx: SwapContext): StubScan {
  const byStub = new Map<string, ScopedCredential>();
  for (const credential of scopeCredentials(ctx)) {
    const clash = byStub.get(credential.stub);
    if (clash) throw new Error(`credentials ${clash.name} and ${credential.name} have the same stub`);
    byStub.set(credential.stub, credential);
  }
  const stubs = [...byStub.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const pattern = stubs.length === 0 ? null : new RegExp(stubs.join('|'), 'g');
  return { host: ctx.host, byStub, pattern, used: new Set() };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function blocked(credential: ScopedCredential, scan: StubScan, place: StubPlace, reason: string): StubBlockedError {
  return new StubBlockedError(reason, credential.name, scan.host, place);
}

/**
 * Replaces in-scope stubs that may be swapped at `place` with `encode(realValue)`; `encode` null means
 * check only. Throws StubBlockedError on the first out-of-scope stub.
 */
function scanText(
  scan: StubScan,
  text: string,
  place: StubPlace,
  encode: ((value: string) => string) | null,
): string {
  if (scan.pattern === null) return text;
  return text.replace(scan.pattern, (stub) => {
    const credential = scan.byStub.get(stub)!;
    if (credential.blockReason !== null) throw blocked(credential, scan, place, credential.blockReason);
    if (encode === null || place === 'path' || !credential.places.has(place)) return stub;
    scan.used.add(credential.name);
    return encode(credential.value);
  });
}

const unchanged = (value: string): string => value;

// ---- headers -------------------------------------------------------------------------------------

const BASIC_CREDENTIALS = /^(\s*basic\s+)([A-Za-z0-9+/_-]+={0,2})(\s*)$/i;
const AUTHORIZATION_HEADERS = new Set(['authorization', 'proxy-authorization']);

export function swapHeaders(
  ctx: SwapContext,
  headers: Record<string, string | string[] | undefined>,
): { headers: Record<string, string | string[]>; used: string[] } {
  const scan = prepareScan(ctx);
  const swapped: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    scanText(scan, name, 'header', null);
    swapped[name] = Array.isArray(value)
      ? value.map((item) => swapHeaderValue(scan, name, item))
      : swapHeaderValue(scan, name, value);
  }
  return { headers: swapped, used: [...scan.used] };
}

function swapHeaderValue(scan: StubScan, name: string, value: string): string {
  const swapped = scanText(scan, value, 'header', unchanged);
  return AUTHORIZATION_HEADERS.has(name.toLowerCase()) ? swapBasicCredentials(scan, swapped) : swapped;
}

// The decoded `user:pass` is handled as latin1 so every byte survives the round trip unchanged.
function swapBasicCredentials(scan: StubScan, value: string): string {
  const match = BASIC_CREDENTIALS.exec(value);
  if (match === null) return value;
  const [, scheme = '', encoded = '', trailing = ''] = match;
  const decoded = Buffer.from(encoded, 'base64').toString('latin1');
  const swapped = scanText(scan, decoded, 'header', (real) => Buffer.from(real, 'utf8').toString('latin1'));
  if (swapped === decoded) return value;
  return scheme + Buffer.from(swapped, 'latin1').toString('base64') + trailing;
}

// ---- request-target ------------------------------------------------------------------------------

export function swapTarget(ctx: SwapContext, target: string): { target: string; used: string[] } {
  const scan = prepareScan(ctx);
  const queryStart = target.indexOf('?');
  const path = queryStart === -1 ? target : target.slice(0, queryStart);
  checkEncodedAndDecoded(scan, path, 'path');
  if (queryStart === -1) return { target, used: [] };
  const query = target.slice(queryStart + 1);
  const swappedQuery = scanText(scan, query, 'query', encodeURIComponent);
  checkEncodedAndDecoded(scan, query, 'query');
  return { target: `${path}?${swappedQuery}`, used: [...scan.used] };
}

// A stub spelled with percent-escapes (`%67hp_...`) is still that credential's stub: block it too.
function checkEncodedAndDecoded(scan: StubScan, text: string, place: StubPlace): void {
  scanText(scan, text, place, null);
  const decoded = text.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  scanText(scan, decoded, place, null);
}

// ---- body ----------------------------------------------------------------------------------------

export interface BodySwapOptions {
  /**
   * The request's Content-Type. Form and JSON bodies get the real value encoded for their syntax
   * (a secret may hold `+`, `&`, `"`); anything else gets the raw bytes.
   */
  contentType?: string;
}

function bodyEncoderFor(contentType: string | undefined): (value: string) => string {
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType === 'application/x-www-form-urlencoded') return encodeURIComponent;
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
    return (value) => JSON.stringify(value).slice(1, -1);
  }
  return unchanged;
}

/**
 * A streaming body filter (stream-replace.ts holds back only what could begin a stub). It fails with
 * StubBlockedError before any byte of an out-of-scope stub is emitted: the upstream never sees it.
 */
export function createBodySwapper(
  ctx: SwapContext,
  options: BodySwapOptions = {},
): Transform & { readonly used: ReadonlySet<string> } {
  const scan = prepareScan(ctx);
  const encode = bodyEncoderFor(options.contentType);
  const used = new Set<string>();
  const patterns = [...scan.byStub.values()].map((credential): StreamPattern => {
    const stub = Buffer.from(credential.stub, 'utf8');
    const replacement = credential.places.has('body') ? Buffer.from(encode(credential.value), 'utf8') : null;
    return {
      from: stub,
      replace() {
        if (credential.blockReason !== null) throw blocked(credential, scan, 'body', credential.blockReason);
        if (replacement === null) return stub;
        used.add(credential.name);
        return replacement;
      },
    };
  });
  return Object.assign(createStreamReplacer(sortPatterns(patterns)), { used });
}
