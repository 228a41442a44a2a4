import type { ApiKeyRecord, Store } from '../store/types.ts';

/**
 * Hono's environment for every API route. mountRoutes sets `key` (the caller's key, once
 * authenticated) and `store` (the one its deps name) before a handler runs.
 */
export type GatewayEnv = { Variables: { key: ApiKeyRecord; store: Store } };
