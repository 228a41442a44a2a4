import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import { errorJson } from './errors.ts';

/** Hashing first makes the comparison constant-time whatever the lengths. */
export function tokenMatches(header: string | undefined, expected: string): boolean {
  const match = /^Bearer (\S+)$/i.exec(header ?? '');
  const given = createHash('sha256').update(match?.[1] ?? '').digest();
  return match !== null && timingSafeEqual(given, createHash('sha256').update(expected).digest());
}

export function requireBearer(token: string): MiddlewareHandler {
  return async (c, next) => {
    if (!tokenMatches(c.req.header('authorization'), token)) return errorJson(c, 401, 'unauthorized', 'missing or wrong bearer token');
    await next();
  };
}

/** The WebSocket upgrade is not routed through Hono: the same check on the raw request. */
export function upgradeAuthorized(req: IncomingMessage, token: string): boolean {
  return tokenMatches(req.headers.authorization, token);
}
