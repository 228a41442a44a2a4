import { createHash, timingSafeEqual } from 'node:crypto';
import { type Reply, errorReply } from './reply.ts';
import type { Guard } from './router.ts';

/** Hashing first makes the comparison constant-time whatever the lengths. */
export function tokenMatches(header: string | undefined, expected: string): boolean {
  const match = /^Bearer (\S+)$/i.exec(header ?? '');
  const given = createHash('sha256').update(match?.[1] ?? '').digest();
  return match !== null && timingSafeEqual(given, createHash('sha256').update(expected).digest());
}

const UNAUTHORIZED: Reply = errorReply(401, 'unauthorized', 'missing or wrong bearer token');

/** 401 unless the request carries `Authorization: Bearer <token>`; `open` paths pass without it. */
export function requireBearer(token: string, open: readonly string[] = []): Guard {
  return (req) => (open.includes(req.path) || tokenMatches(req.header('authorization'), token) ? undefined : UNAUTHORIZED);
}
