import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { errorBody } from './errors.ts';

/** Hashing first makes the comparison constant-time even when the lengths differ. */
function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function requireBearer(expected: string): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer (\S+)$/i.exec(header);
    if (!match || !sameToken(match[1] ?? '', expected)) {
      return c.json(errorBody('unauthorized', 'missing or wrong bearer token'), 401);
    }
    await next();
  };
}
