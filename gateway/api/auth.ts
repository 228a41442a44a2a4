// Bearer authentication: the master key (from the environment or its 0600 file) or a named API key.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { ApiKeyRecord, Store } from '../store/types.ts';
import type { GatewayEnv } from './env.ts';
import { apiErrorResponse, ApiError } from './errors.ts';

/** Stands for the master key wherever a key record is expected (e.g. a session's owner). */
export const MASTER_KEY_RECORD: Readonly<ApiKeyRecord> = Object.freeze({
  id: 'master',
  name: 'master',
  prefix: '',
  admin: true,
  createdAt: new Date(0).toISOString(),
  revokedAt: null,
  lastUsedAt: null,
});

/** No real token is this long; longer ones are refused before any hashing or lookup. */
const MAX_TOKEN_LENGTH = 512;

/** The token of `Authorization: Bearer <token>`, or undefined for any other shape. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer +([^\s]+) *$/i.exec(header ?? '');
  const token = match?.[1];
  return token !== undefined && token.length <= MAX_TOKEN_LENGTH ? token : undefined;
}

/** Hashing both sides first makes the comparison constant-time whatever the lengths. */
export function isMasterKey(token: string, masterKey: string): boolean {
  if (masterKey === '') return false;
  const given = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, createHash('sha256').update(masterKey).digest());
}

/** The caller's key record, or an ApiError 401 (with WWW-Authenticate) saying why not. */
export function authenticate(store: Store, masterKey: string, header: string | undefined): ApiKeyRecord {
  const token = bearerToken(header);
  if (token === undefined) {
    const message = header === undefined ? 'missing Authorization header: send "Authorization: Bearer <key>"' : 'malformed Authorization header: expected "Bearer <key>"';
    throw new ApiError(401, 'unauthorized', message, [], { 'www-authenticate': 'Bearer realm="lap"' });
  }
  if (isMasterKey(token, masterKey)) return MASTER_KEY_RECORD;
  const record = store.apiKeys.authenticate(token);
  if (record) return record;
  throw new ApiError(401, 'unauthorized', 'unknown or revoked API key', [], {
    'www-authenticate': 'Bearer realm="lap", error="invalid_token"',
  });
}

export function requireKey(store: Store, masterKey: string): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    try {
      c.set('key', authenticate(store, masterKey, c.req.header('authorization')));
    } catch (error) {
      if (error instanceof ApiError) return apiErrorResponse(error);
      throw error;
    }
    await next();
  };
}
